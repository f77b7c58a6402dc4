// log_softmax over each row: y = (x - max) - log(sum(exp(x - max))) (log-sum-exp: finite for
// any finite logits). Backward: d_src = d_dst - exp(y) * sum(d_dst).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/log_softmax.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

HWY_NOINLINE void LogSoftmaxRows(const float* src, float* dst, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = src + r * cols;
    float* y = dst + r * cols;
    const float m = RowMax(x, cols);
    const float log_sum = logf(SumExpShifted(x, cols, m, nullptr));
    const auto vm = hn::Set(d, m);
    const auto vl = hn::Set(d, log_sum);
    size_t i = 0;
    for (; i + hn::Lanes(d) <= cols; i += hn::Lanes(d)) {
      hn::StoreU(hn::Sub(hn::Sub(hn::LoadU(d, x + i), vm), vl), d, y + i);
    }
    for (; i < cols; ++i) y[i] = (x[i] - m) - log_sum;
  }
}

HWY_NOINLINE void LogSoftmaxBackwardRows(const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  for (size_t r = 0; r < rows; ++r) {
    const float* y = dst + r * cols;
    const float* dy = d_dst + r * cols;
    float* dx = d_src + r * cols;
    const float sum = RowDot(dy, nullptr, cols);
    const auto vs = hn::Set(d, sum);
    size_t i = 0;
    for (; i + hn::Lanes(d) <= cols; i += hn::Lanes(d)) {
      const auto p = hn::Exp(d, hn::LoadU(d, y + i));
      hn::StoreU(hn::NegMulAdd(p, vs, hn::LoadU(d, dy + i)), d, dx + i);
    }
    for (; i < cols; ++i) dx[i] = dy[i] - expf(y[i]) * sum;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>

namespace graphrun_plugin {
HWY_EXPORT(LogSoftmaxRows);
HWY_EXPORT(LogSoftmaxBackwardRows);

void LogSoftmaxForwardF32(const float* src, float* dst, size_t rows, size_t cols, const double*) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxRows)(src, dst, rows, cols);
}
void LogSoftmaxBackwardF32(const float*, const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols,
                           const double*) {
  HWY_DYNAMIC_DISPATCH(LogSoftmaxBackwardRows)(dst, d_dst, d_src, rows, cols);
}

void LogSoftmaxForwardF64(const double* src, double* dst, size_t rows, size_t cols, const double*) {
  for (size_t r = 0; r < rows; ++r) {
    const double* x = src + r * cols;
    const double m = cols ? *std::max_element(x, x + cols) : 0.0;
    double sum = 0;
    for (size_t i = 0; i < cols; ++i) sum += std::exp(x[i] - m);
    const double log_sum = std::log(sum);
    for (size_t i = 0; i < cols; ++i) dst[r * cols + i] = (x[i] - m) - log_sum;
  }
}
void LogSoftmaxBackwardF64(const double*, const double* dst, const double* d_dst, double* d_src, size_t rows,
                           size_t cols, const double*) {
  for (size_t r = 0; r < rows; ++r) {
    const double* y = dst + r * cols;
    const double* dy = d_dst + r * cols;
    double sum = 0;
    for (size_t i = 0; i < cols; ++i) sum += dy[i];
    for (size_t i = 0; i < cols; ++i) d_src[r * cols + i] = dy[i] - std::exp(y[i]) * sum;
  }
}

const graphrun_activation kLogSoftmax = {sizeof(graphrun_activation),
                                         "log_softmax",
                                         "log of softmax over each row, via log-sum-exp",
                                         GRAPHRUN_ACTIVATION_ROWWISE,
                                         nullptr,
                                         0,
                                         LogSoftmaxForwardF32,
                                         LogSoftmaxBackwardF32,
                                         LogSoftmaxForwardF64,
                                         LogSoftmaxBackwardF64,
                                         nullptr};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kLogSoftmax);
}
#endif  // HWY_ONCE
