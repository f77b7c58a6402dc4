// relu(x) = max(x, 0). Backward: d_src = d_dst where x > 0, else 0 (the kink at 0 gets 0).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/relu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Relu {
  using Params = NoParams;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params&) {
    return hn::IfThenElseZero(hn::Gt(x, hn::Zero(d)), x);
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params&) {
    return hn::IfThenElseZero(hn::Gt(x, hn::Zero(d)), dy);
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Relu, Relu)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Relu)

double ReluF64(double x, const double*) { return x > 0 ? x : 0.0; }
double ReluGradF64(double x, double, double dy, const double*) { return x > 0 ? dy : 0.0; }
GRAPHRUN_ACT_DEFINE_F64(Relu, ReluF64, ReluGradF64)

graphrun_onednn_eltwise ReluOneDnn(const double*, float* alpha, float* beta) {
  *alpha = 0.0f;
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_RELU;
}

const graphrun_activation kRelu = {sizeof(graphrun_activation),
                                   "relu",
                                   "rectified linear unit max(x, 0)",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   nullptr,
                                   0,
                                   ReluForwardF32,
                                   ReluBackwardF32,
                                   ReluForwardF64,
                                   ReluBackwardF64,
                                   ReluOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kRelu);
}
#endif  // HWY_ONCE
