// tanh(x). Backward: d_src = d_dst * (1 - y^2).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/tanh.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Tanh {
  using Params = NoParams;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params&) {
    return hn::Tanh(d, x);
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V, V y, V dy, const Params&) {
    return hn::Mul(dy, hn::NegMulAdd(y, y, hn::Set(d, 1.0f)));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Tanh, Tanh)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Tanh)

double TanhF64(double x, const double*) { return std::tanh(x); }
double TanhGradF64(double x, double, double dy, const double*) {
  const double t = std::tanh(x);
  return dy * (1.0 - t * t);
}
GRAPHRUN_ACT_DEFINE_F64(Tanh, TanhF64, TanhGradF64)

graphrun_onednn_eltwise TanhOneDnn(const double*, float* alpha, float* beta) {
  *alpha = 0.0f;
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_TANH;
}

const graphrun_activation kTanh = {sizeof(graphrun_activation),
                                   "tanh",
                                   "hyperbolic tangent",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   nullptr,
                                   0,
                                   TanhForwardF32,
                                   TanhBackwardF32,
                                   TanhForwardF64,
                                   TanhBackwardF64,
                                   TanhOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kTanh);
}
#endif  // HWY_ONCE
