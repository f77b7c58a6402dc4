// mish(x) = x * tanh(softplus(x)) (Misra 2019). With e = exp(x), tanh(log(1 + e)) equals
// n / (n + 2), n = e * (e + 2): no cancellation for x -> -inf, and x is clamped to 20 inside
// (where the ratio is 1 in float and double) so nothing overflows.
// Backward: t + x * (1 - t^2) * sigmoid(x), t = tanh(softplus(x)).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/mish.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Mish {
  using Params = NoParams;
  // t = tanh(softplus(x)); also returns e = exp(min(x, 20)).
  template <class D, class V>
  static HWY_INLINE V TanhSoftplus(D d, V x, V& e) {
    e = hn::Exp(d, hn::Min(x, hn::Set(d, 20.0f)));
    const V n = hn::Mul(e, hn::Add(e, hn::Set(d, 2.0f)));
    return hn::Div(n, hn::Add(n, hn::Set(d, 2.0f)));
  }
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params&) {
    V e;
    return hn::Mul(x, TanhSoftplus(d, x, e));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params&) {
    V e;
    const V t = TanhSoftplus(d, x, e);
    const V one = hn::Set(d, 1.0f);
    const V sig = hn::Div(e, hn::Add(one, e));  // sigmoid(x) for x <= 20; 1 - 2e-9 beyond
    const V sech2 = hn::NegMulAdd(t, t, one);
    return hn::Mul(dy, hn::MulAdd(hn::Mul(x, sech2), sig, t));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Mish, Mish)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Mish)

double TanhSoftplusF64(double x) {
  const double e = std::exp(std::min(x, 20.0));
  const double n = e * (e + 2.0);
  return n / (n + 2.0);
}
double MishF64(double x, const double*) { return x * TanhSoftplusF64(x); }
double MishGradF64(double x, double, double dy, const double*) {
  const double t = TanhSoftplusF64(x);
  const double e = std::exp(-std::fabs(x));
  const double sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return dy * (t + x * (1.0 - t * t) * sig);
}
GRAPHRUN_ACT_DEFINE_F64(Mish, MishF64, MishGradF64)

const graphrun_activation kMish = {sizeof(graphrun_activation),
                                   "mish",
                                   "x * tanh(softplus(x))",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   nullptr,
                                   0,
                                   MishForwardF32,
                                   MishBackwardF32,
                                   MishForwardF64,
                                   MishBackwardF64,
                                   nullptr};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kMish);
}
#endif  // HWY_ONCE
