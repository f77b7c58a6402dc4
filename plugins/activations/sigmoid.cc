// sigmoid(x) = 1 / (1 + exp(-x)), computed sign-split (exp of -|x| only) so it never
// overflows: sigmoid(±1e4) is exactly 1 / 0. Backward: d_src = d_dst * y * (1 - y).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/sigmoid.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Sigmoid {
  using Params = NoParams;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params&) {
    return StableSigmoid(d, x);
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V, V y, V dy, const Params&) {
    return hn::Mul(dy, hn::Mul(y, hn::Sub(hn::Set(d, 1.0f), y)));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Sigmoid, Sigmoid)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Sigmoid)

double SigmoidF64(double x, const double*) {
  const double e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
double SigmoidGradF64(double x, double, double dy, const double*) {
  const double s = SigmoidF64(x, nullptr);
  return dy * s * (1.0 - s);
}
GRAPHRUN_ACT_DEFINE_F64(Sigmoid, SigmoidF64, SigmoidGradF64)

graphrun_onednn_eltwise SigmoidOneDnn(const double*, float* alpha, float* beta) {
  *alpha = 0.0f;
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_LOGISTIC;
}

const graphrun_activation kSigmoid = {sizeof(graphrun_activation),
                                      "sigmoid",
                                      "logistic function 1 / (1 + exp(-x))",
                                      GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                      nullptr,
                                      0,
                                      SigmoidForwardF32,
                                      SigmoidBackwardF32,
                                      SigmoidForwardF64,
                                      SigmoidBackwardF64,
                                      SigmoidOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kSigmoid);
}
#endif  // HWY_ONCE
