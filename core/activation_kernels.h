// Runs an activation plugin's kernels over a [rows, cols] tensor on the thread pool: the host
// splits elementwise work into contiguous ranges and row-wise work into row blocks, so a
// plugin kernel stays single-threaded. Small tensors stay on the calling thread.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"
#include "graphrun/plugin.h"

namespace graphrun {

void activation_forward(const graphrun_activation& fn, const double* params, const float* src, float* dst, int64_t rows,
                        int64_t cols, ThreadPool& pool);
void activation_backward(const graphrun_activation& fn, const double* params, const float* src, const float* dst,
                         const float* d_dst, float* d_src, int64_t rows, int64_t cols, ThreadPool& pool);

}  // namespace graphrun
