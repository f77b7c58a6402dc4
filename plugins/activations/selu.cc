// selu(x) = scale * (x for x > 0, alpha * (exp(x) - 1) otherwise), with the fixed constants of
// Klambauer et al. 2017 (as PyTorch): alpha = 1.6732632423543772, scale = 1.0507009873554805.
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/selu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

#ifndef GRAPHRUN_SELU_CONSTANTS_
#define GRAPHRUN_SELU_CONSTANTS_
namespace graphrun_plugin {
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
}  // namespace graphrun_plugin
#endif

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Selu {
  using Params = NoParams;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params&) {
    const V scale = hn::Set(d, static_cast<float>(kSeluScale));
    const V sa = hn::Set(d, static_cast<float>(kSeluScale * kSeluAlpha));
    const V neg = hn::Min(x, hn::Zero(d));
    return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), hn::Mul(scale, x), hn::Mul(sa, hn::Expm1(d, neg)));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params&) {
    const V scale = hn::Set(d, static_cast<float>(kSeluScale));
    const V sa = hn::Set(d, static_cast<float>(kSeluScale * kSeluAlpha));
    const V neg = hn::Min(x, hn::Zero(d));
    return hn::Mul(dy, hn::IfThenElse(hn::Gt(x, hn::Zero(d)), scale, hn::Mul(sa, hn::Exp(d, neg))));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Selu, Selu)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Selu)

double SeluF64(double x, const double*) { return kSeluScale * (x > 0 ? x : kSeluAlpha * std::expm1(x)); }
double SeluGradF64(double x, double, double dy, const double*) {
  return dy * kSeluScale * (x > 0 ? 1.0 : kSeluAlpha * std::exp(x));
}
GRAPHRUN_ACT_DEFINE_F64(Selu, SeluF64, SeluGradF64)

const graphrun_activation kSelu = {sizeof(graphrun_activation),
                                   "selu",
                                   "scaled exponential linear unit (self-normalizing)",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   nullptr,
                                   0,
                                   SeluForwardF32,
                                   SeluBackwardF32,
                                   SeluForwardF64,
                                   SeluBackwardF64,
                                   nullptr};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kSelu);
}
#endif  // HWY_ONCE
