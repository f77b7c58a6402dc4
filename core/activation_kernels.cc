#include "core/activation_kernels.h"

#include <algorithm>

namespace graphrun {
namespace {

// Below this many elements a second thread costs more than it saves.
constexpr int64_t kGrain = 16384;

}  // namespace

void activation_forward(const graphrun_activation& fn, const double* params, const float* src, float* dst, int64_t rows,
                        int64_t cols, ThreadPool& pool) {
  if (fn.kind == GRAPHRUN_ACTIVATION_ROWWISE) {
    pool.parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
      fn.forward(src + b * cols, dst + b * cols, static_cast<size_t>(e - b), static_cast<size_t>(cols), params);
    });
    return;
  }
  pool.parallel_for(rows * cols, kGrain,
                    [&](int64_t b, int64_t e) { fn.forward(src + b, dst + b, 1, static_cast<size_t>(e - b), params); });
}

void activation_backward(const graphrun_activation& fn, const double* params, const float* src, const float* dst,
                         const float* d_dst, float* d_src, int64_t rows, int64_t cols, ThreadPool& pool) {
  if (fn.kind == GRAPHRUN_ACTIVATION_ROWWISE) {
    pool.parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)), [&](int64_t b, int64_t e) {
      fn.backward(src + b * cols, dst + b * cols, d_dst + b * cols, d_src + b * cols, static_cast<size_t>(e - b),
                  static_cast<size_t>(cols), params);
    });
    return;
  }
  pool.parallel_for(rows * cols, kGrain, [&](int64_t b, int64_t e) {
    fn.backward(src + b, dst + b, d_dst + b, d_src + b, 1, static_cast<size_t>(e - b), params);
  });
}

}  // namespace graphrun
