// swish(x) = x * sigmoid(beta * x) (beta default 1), and its alias silu (beta fixed at 1).
// Backward: d_src = d_dst * (s + beta * x * s * (1 - s)), s = sigmoid(beta * x).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/swish.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

#ifndef GRAPHRUN_SWISH_PARAMS_
#define GRAPHRUN_SWISH_PARAMS_
namespace graphrun_plugin {
struct SwishParams {  // swish: beta is the first parameter
  explicit SwishParams(const double* p) : beta(static_cast<float>(p[0])) {}
  float beta;
};
struct SiluParams {  // silu: no parameters, beta = 1
  explicit SiluParams(const double*) {}
  float beta = 1.0f;
};
}  // namespace graphrun_plugin
#endif

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

template <class P>
struct SwishT {
  using Params = P;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params& p) {
    return hn::Mul(x, StableSigmoid(d, hn::Mul(hn::Set(d, p.beta), x)));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params& p) {
    const V beta = hn::Set(d, p.beta);
    const V s = StableSigmoid(d, hn::Mul(beta, x));
    const V one_minus_s = hn::Sub(hn::Set(d, 1.0f), s);
    return hn::Mul(dy, hn::MulAdd(hn::Mul(hn::Mul(beta, x), s), one_minus_s, s));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Swish, SwishT<SwishParams>)
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Silu, SwishT<SiluParams>)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Swish)
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Silu)

double SigmoidF64(double x) {
  const double e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
double SwishF64(double x, const double* p) { return x * SigmoidF64(p[0] * x); }
double SwishGradF64(double x, double, double dy, const double* p) {
  const double s = SigmoidF64(p[0] * x);
  return dy * (s + p[0] * x * s * (1.0 - s));
}
GRAPHRUN_ACT_DEFINE_F64(Swish, SwishF64, SwishGradF64)

const double kUnitBeta[] = {1.0};
double SiluF64(double x, const double*) { return SwishF64(x, kUnitBeta); }
double SiluGradF64(double x, double y, double dy, const double*) { return SwishGradF64(x, y, dy, kUnitBeta); }
GRAPHRUN_ACT_DEFINE_F64(Silu, SiluF64, SiluGradF64)

graphrun_onednn_eltwise SwishOneDnn(const double* p, float* alpha, float* beta) {
  *alpha = static_cast<float>(p[0]);
  *beta = 0.0f;
  return GRAPHRUN_ONEDNN_SWISH;
}
graphrun_onednn_eltwise SiluOneDnn(const double*, float* alpha, float* beta) {
  return SwishOneDnn(kUnitBeta, alpha, beta);
}

const graphrun_param kParams[] = {{"beta", 1.0, 0.0, 100.0, "x * sigmoid(beta * x)"}};

const graphrun_activation kSwish = {sizeof(graphrun_activation),
                                    "swish",
                                    "x * sigmoid(beta * x)",
                                    GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                    kParams,
                                    1,
                                    SwishForwardF32,
                                    SwishBackwardF32,
                                    SwishForwardF64,
                                    SwishBackwardF64,
                                    SwishOneDnn};
const graphrun_activation kSilu = {sizeof(graphrun_activation),
                                   "silu",
                                   "x * sigmoid(x) (swish with beta = 1)",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   nullptr,
                                   0,
                                   SiluForwardF32,
                                   SiluBackwardF32,
                                   SiluForwardF64,
                                   SiluBackwardF64,
                                   SiluOneDnn};
const graphrun_activation* const kEntries[] = {&kSwish, &kSilu};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return graphrun_plugin::RegisterActivations(host, registry, graphrun_plugin::kEntries, 2);
}
#endif  // HWY_ONCE
