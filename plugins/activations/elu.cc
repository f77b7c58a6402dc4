// elu(x) = x for x > 0, alpha * (exp(x) - 1) otherwise (alpha default 1).
// Backward: d_src = d_dst for x > 0, d_dst * alpha * exp(x) otherwise.
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/elu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Elu {
  struct Params {
    explicit Params(const double* p) : alpha(static_cast<float>(p[0])) {}
    float alpha;
  };
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params& p) {
    const V neg = hn::Min(x, hn::Zero(d));  // keeps Expm1 in range for large x
    return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), x, hn::Mul(hn::Set(d, p.alpha), hn::Expm1(d, neg)));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params& p) {
    const V neg = hn::Min(x, hn::Zero(d));
    return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), dy, hn::Mul(dy, hn::Mul(hn::Set(d, p.alpha), hn::Exp(d, neg))));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Elu, Elu)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Elu)

double EluF64(double x, const double* p) { return x > 0 ? x : p[0] * std::expm1(x); }
double EluGradF64(double x, double, double dy, const double* p) { return x > 0 ? dy : dy * p[0] * std::exp(x); }
GRAPHRUN_ACT_DEFINE_F64(Elu, EluF64, EluGradF64)

graphrun_onednn_eltwise EluOneDnn(const double* p, float* alpha, float* beta) {
  *alpha = static_cast<float>(p[0]);
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_ELU;
}

const graphrun_param kParams[] = {{"alpha", 1.0, 0.0, 100.0, "saturation value -alpha for x -> -inf"}};

const graphrun_activation kElu = {sizeof(graphrun_activation),
                                  "elu",
                                  "exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise",
                                  GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                  kParams,
                                  1,
                                  EluForwardF32,
                                  EluBackwardF32,
                                  EluForwardF64,
                                  EluBackwardF64,
                                  EluOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kElu);
}
#endif  // HWY_ONCE
