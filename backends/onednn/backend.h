// The oneDNN backend: graph nodes run as oneDNN 2.6 primitives, built once at compile time.
//
// Runs natively: matmul (every transpose, through strided memory descriptors), add (same
// shape, or a [C] bias broadcast over rows), mul, scale (eltwise_linear), activation and
// activation_grad for elementwise plugin entries that declare a oneDNN equivalent, softmax and
// softmax_grad (over the last dimension), sum_rows, sum and mean (reduction), and the image ops
// (conv2d and its gradients, the pools, add_channels, sum_channels: backends/onednn/conv.h). Every other node
// is declined with a reason, and the Program falls back to the next backend of its chain.
//
// Memory objects wrap the Program's arena buffers in plain row-major layouts, so a step does
// no reorder; it only calls execute(). Primitives are cached process-wide by op, shapes and
// attributes (backends/onednn/primitives.h), so compiling the same shapes twice builds nothing.
//
// Threads: oneDNN runs on its own OpenMP runtime; configure_threads(n) sets its thread count
// (omp_set_num_threads on the compiling thread, which should be the thread that runs the
// Program). oneDNN and the Program's pool never run kernels at the same time. libgomp's
// threads spin after each parallel region by default; on a busy machine that costs ~15 ms per
// 2-thread GEMM (measured), so run with OMP_WAIT_POLICY=passive there (libgomp reads it when
// it loads: it cannot be set from code).
//
// Allocation: oneDNN 2.x's dnnl_primitive_execute builds a small std::unordered_map of its
// arguments on every call (src/common/primitive_iface.cpp), so each oneDNN step does a few
// small heap allocations inside the library (a constant number per kernel, no growth).
// graphrun's own code in a step allocates nothing.
#pragma once

#include <cstdint>

#include "core/backend.h"

namespace graphrun::onednn {

Backend& backend();

// The process-wide primitive cache: distinct primitives built, and lookups that found one.
struct CacheStats {
  int64_t entries = 0;
  int64_t hits = 0;
};
CacheStats cache_stats();

}  // namespace graphrun::onednn
