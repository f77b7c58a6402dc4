// softmax over each row: y = exp(x - max(x)) / sum(exp(x - max(x))) (the max is subtracted,
// so logits near 1e4 are exact). Backward: d_src = y * (d_dst - sum(d_dst * y)).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/softmax.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

HWY_NOINLINE void SoftmaxRows(const float* src, float* dst, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = src + r * cols;
    float* y = dst + r * cols;
    const float sum = SumExpShifted(x, cols, RowMax(x, cols), y);
    const float inv = 1.0f / sum;
    size_t i = 0;
    for (; i + hn::Lanes(d) <= cols; i += hn::Lanes(d)) {
      hn::StoreU(hn::Mul(hn::LoadU(d, y + i), hn::Set(d, inv)), d, y + i);
    }
    for (; i < cols; ++i) y[i] *= inv;
  }
}

HWY_NOINLINE void SoftmaxBackwardRows(const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols) {
  const hn::ScalableTag<float> d;
  for (size_t r = 0; r < rows; ++r) {
    const float* y = dst + r * cols;
    const float* dy = d_dst + r * cols;
    float* dx = d_src + r * cols;
    const auto dot = hn::Set(d, RowDot(dy, y, cols));
    size_t i = 0;
    for (; i + hn::Lanes(d) <= cols; i += hn::Lanes(d)) {
      const auto vy = hn::LoadU(d, y + i);
      hn::StoreU(hn::Mul(vy, hn::Sub(hn::LoadU(d, dy + i), dot)), d, dx + i);
    }
    const float sdot = hn::GetLane(dot);
    for (; i < cols; ++i) dx[i] = y[i] * (dy[i] - sdot);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>

namespace graphrun_plugin {
HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(SoftmaxBackwardRows);

void SoftmaxForwardF32(const float* src, float* dst, size_t rows, size_t cols, const double*) {
  HWY_DYNAMIC_DISPATCH(SoftmaxRows)(src, dst, rows, cols);
}
void SoftmaxBackwardF32(const float*, const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols,
                        const double*) {
  HWY_DYNAMIC_DISPATCH(SoftmaxBackwardRows)(dst, d_dst, d_src, rows, cols);
}

void SoftmaxForwardF64(const double* src, double* dst, size_t rows, size_t cols, const double*) {
  for (size_t r = 0; r < rows; ++r) {
    const double* x = src + r * cols;
    double* y = dst + r * cols;
    const double m = cols ? *std::max_element(x, x + cols) : 0.0;
    double sum = 0;
    for (size_t i = 0; i < cols; ++i) sum += (y[i] = std::exp(x[i] - m));
    for (size_t i = 0; i < cols; ++i) y[i] /= sum;
  }
}
void SoftmaxBackwardF64(const double*, const double* dst, const double* d_dst, double* d_src, size_t rows, size_t cols,
                        const double*) {
  for (size_t r = 0; r < rows; ++r) {
    const double* y = dst + r * cols;
    const double* dy = d_dst + r * cols;
    double dot = 0;
    for (size_t i = 0; i < cols; ++i) dot += dy[i] * y[i];
    for (size_t i = 0; i < cols; ++i) d_src[r * cols + i] = y[i] * (dy[i] - dot);
  }
}

const graphrun_activation kSoftmax = {sizeof(graphrun_activation),
                                      "softmax",
                                      "exp(x - max) / sum(exp(x - max)) over each row",
                                      GRAPHRUN_ACTIVATION_ROWWISE,
                                      nullptr,
                                      0,
                                      SoftmaxForwardF32,
                                      SoftmaxBackwardF32,
                                      SoftmaxForwardF64,
                                      SoftmaxBackwardF64,
                                      nullptr};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kSoftmax);
}
#endif  // HWY_ONCE
