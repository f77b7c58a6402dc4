// leaky_relu(x) = x for x > 0, alpha * x otherwise (alpha default 0.01, PyTorch's).
// Backward: d_src = d_dst for x > 0, alpha * d_dst otherwise.
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/leaky_relu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct LeakyRelu {
  struct Params {
    explicit Params(const double* p) : alpha(static_cast<float>(p[0])) {}
    float alpha;
  };
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params& p) {
    return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), x, hn::Mul(x, hn::Set(d, p.alpha)));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params& p) {
    return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), dy, hn::Mul(dy, hn::Set(d, p.alpha)));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(LeakyRelu, LeakyRelu)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(LeakyRelu)

double LeakyReluF64(double x, const double* p) { return x > 0 ? x : p[0] * x; }
double LeakyReluGradF64(double x, double, double dy, const double* p) { return x > 0 ? dy : p[0] * dy; }
GRAPHRUN_ACT_DEFINE_F64(LeakyRelu, LeakyReluF64, LeakyReluGradF64)

graphrun_onednn_eltwise LeakyReluOneDnn(const double* p, float* alpha, float* beta) {
  *alpha = static_cast<float>(p[0]);
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_RELU;
}

const graphrun_param kParams[] = {{"alpha", 0.01, 0.0, 1.0, "slope for x <= 0"}};

const graphrun_activation kLeakyRelu = {sizeof(graphrun_activation),
                                        "leaky_relu",
                                        "x for x > 0, alpha * x otherwise",
                                        GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                        kParams,
                                        1,
                                        LeakyReluForwardF32,
                                        LeakyReluBackwardF32,
                                        LeakyReluForwardF64,
                                        LeakyReluBackwardF64,
                                        LeakyReluOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kLeakyRelu);
}
#endif  // HWY_ONCE
