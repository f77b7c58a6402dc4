// softplus(x) = log(1 + exp(beta * x)) / beta, and x where beta * x > threshold (PyTorch's
// rule; beta 1, threshold 20). Backward: d_dst * sigmoid(beta * x), or d_dst past the threshold.
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/softplus.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

struct Softplus {
  struct Params {
    explicit Params(const double* p)
        : beta(static_cast<float>(p[0])),
          inv_beta(static_cast<float>(1.0 / p[0])),
          threshold(static_cast<float>(p[1])) {}
    float beta, inv_beta, threshold;
  };
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params& p) {
    const V bx = hn::Mul(hn::Set(d, p.beta), x);
    const V thr = hn::Set(d, p.threshold);
    const V sp = hn::Mul(hn::Log1p(d, hn::Exp(d, hn::Min(bx, thr))), hn::Set(d, p.inv_beta));
    return hn::IfThenElse(hn::Gt(bx, thr), x, sp);
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params& p) {
    const V bx = hn::Mul(hn::Set(d, p.beta), x);
    return hn::IfThenElse(hn::Gt(bx, hn::Set(d, p.threshold)), dy, hn::Mul(dy, StableSigmoid(d, bx)));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Softplus, Softplus)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Softplus)

double SoftplusF64(double x, const double* p) {
  const double bx = p[0] * x;
  return bx > p[1] ? x : std::log1p(std::exp(bx)) / p[0];
}
double SoftplusGradF64(double x, double, double dy, const double* p) {
  const double bx = p[0] * x;
  if (bx > p[1]) return dy;
  const double e = std::exp(-std::fabs(bx));
  return dy * (bx >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e));
}
GRAPHRUN_ACT_DEFINE_F64(Softplus, SoftplusF64, SoftplusGradF64)

// oneDNN's soft_relu is log(1 + exp(x)): equal for beta 1 when the threshold is high enough
// that switching to x changes nothing in float (log1p(exp(x)) - x < 2e-9 for x > 20).
graphrun_onednn_eltwise SoftplusOneDnn(const double* p, float* alpha, float* beta) {
  *alpha = 0.0f;
  *beta = 0.0f;
  return p[0] == 1.0 && p[1] >= 20.0 ? GRAPHRUN_ONEDNN_SOFT_RELU : GRAPHRUN_ONEDNN_NONE;
}

// threshold <= 80 keeps exp(beta * x) finite in float below it.
const graphrun_param kParams[] = {{"beta", 1.0, 1e-4, 1e4, "log(1 + exp(beta * x)) / beta"},
                                  {"threshold", 20.0, 0.0, 80.0, "above beta * x > threshold the result is x"}};

const graphrun_activation kSoftplus = {sizeof(graphrun_activation),
                                       "softplus",
                                       "log(1 + exp(beta * x)) / beta, x past the threshold",
                                       GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                       kParams,
                                       2,
                                       SoftplusForwardF32,
                                       SoftplusBackwardF32,
                                       SoftplusForwardF64,
                                       SoftplusBackwardF64,
                                       SoftplusOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kSoftplus);
}
#endif  // HWY_ONCE
