// gelu(x) = x * Phi(x), Phi the standard normal CDF (approximate = 0, oneDNN gelu_erf), or the
// tanh approximation x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) (approximate = 1,
// oneDNN gelu_tanh), as PyTorch's approximate='none' / 'tanh'.
//
// Highway 1.0.3 has no Erf: the exact form uses erfc(z) = t * exp(-z^2 + P(t)), t = 1/(1 + z/2),
// the Chebyshev fit of Numerical Recipes (erfcc), relative error < 1.2e-7 for every z >= 0, so
// Phi(x) = erfc(-x/sqrt2)/2 keeps float accuracy in the left tail too (no 1 - erf cancellation).
// The tanh form is written x * sigmoid(2u), which never overflows.
// Backward: exact: Phi(x) + x * phi(x); tanh: s + x * s * (1 - s) * 2u'(x), s = sigmoid(2u).
// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "activations/gelu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format on

#include "activations/activation-inl.h"

#ifndef GRAPHRUN_GELU_CONSTANTS_
#define GRAPHRUN_GELU_CONSTANTS_
namespace graphrun_plugin {
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCubic = 0.044715;
// Beyond |x| = 30 the tanh form's sigmoid is exactly 0 or 1 (even in double): clamp there so
// x^3 never overflows.
constexpr double kGeluTanhClamp = 30.0;
struct GeluParams {
  explicit GeluParams(const double* p) : tanh_form(p[0] != 0.0) {}
  bool tanh_form;
};
}  // namespace graphrun_plugin
#endif

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {

// erfc(z) for z >= 0 (z clamped to 10, where erfc is 2e-45: below float's range).
template <class D, class V>
HWY_INLINE V ErfcNonNeg(D d, V z) {
  z = hn::Min(z, hn::Set(d, 10.0f));
  const V t = hn::Div(hn::Set(d, 1.0f), hn::MulAdd(hn::Set(d, 0.5f), z, hn::Set(d, 1.0f)));
  V p = hn::Set(d, 0.17087277f);
  p = hn::MulAdd(p, t, hn::Set(d, -0.82215223f));
  p = hn::MulAdd(p, t, hn::Set(d, 1.48851587f));
  p = hn::MulAdd(p, t, hn::Set(d, -1.13520398f));
  p = hn::MulAdd(p, t, hn::Set(d, 0.27886807f));
  p = hn::MulAdd(p, t, hn::Set(d, -0.18628806f));
  p = hn::MulAdd(p, t, hn::Set(d, 0.09678418f));
  p = hn::MulAdd(p, t, hn::Set(d, 0.37409196f));
  p = hn::MulAdd(p, t, hn::Set(d, 1.00002368f));
  p = hn::MulAdd(p, t, hn::Set(d, -1.26551223f));
  return hn::Mul(t, hn::Exp(d, hn::NegMulAdd(z, z, p)));
}

// Phi(x) = erfc(-x / sqrt2) / 2.
template <class D, class V>
HWY_INLINE V NormalCdf(D d, V x) {
  const V half = hn::Set(d, 0.5f);
  const V h = hn::Mul(half, ErfcNonNeg(d, hn::Mul(hn::Abs(x), hn::Set(d, static_cast<float>(kSqrtHalf)))));
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), h, hn::Sub(hn::Set(d, 1.0f), h));
}

// 2u = 2 sqrt(2/pi) (x + 0.044715 x^3) on the clamped x.
template <class D, class V>
HWY_INLINE V TwoU(D d, V xc) {
  const V x2 = hn::Mul(xc, xc);
  return hn::Mul(hn::Mul(hn::Set(d, static_cast<float>(2 * kSqrt2OverPi)), xc),
                 hn::MulAdd(hn::Set(d, static_cast<float>(kGeluCubic)), x2, hn::Set(d, 1.0f)));
}

template <class D, class V>
HWY_INLINE V ClampTanh(D d, V x) {
  return hn::Min(hn::Max(x, hn::Set(d, static_cast<float>(-kGeluTanhClamp))),
                 hn::Set(d, static_cast<float>(kGeluTanhClamp)));
}

struct Gelu {
  using Params = GeluParams;
  template <class D, class V>
  static HWY_INLINE V Forward(D d, V x, const Params& p) {
    if (p.tanh_form) return hn::Mul(x, StableSigmoid(d, TwoU(d, ClampTanh(d, x))));
    return hn::Mul(x, NormalCdf(d, x));
  }
  template <class D, class V>
  static HWY_INLINE V Backward(D d, V x, V, V dy, const Params& p) {
    if (p.tanh_form) {
      const V xc = ClampTanh(d, x);
      const V s = StableSigmoid(d, TwoU(d, xc));
      // d(2u)/dx = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const V du =
          hn::Mul(hn::Set(d, static_cast<float>(2 * kSqrt2OverPi)),
                  hn::MulAdd(hn::Set(d, static_cast<float>(3 * kGeluCubic)), hn::Mul(xc, xc), hn::Set(d, 1.0f)));
      const V ds = hn::Mul(hn::Mul(s, hn::Sub(hn::Set(d, 1.0f), s)), du);
      return hn::Mul(dy, hn::MulAdd(x, ds, s));
    }
    // phi(x) = exp(-x^2 / 2) / sqrt(2 pi); exp of a very negative number is 0.
    const V phi =
        hn::Mul(hn::Set(d, static_cast<float>(kInvSqrt2Pi)), hn::Exp(d, hn::Mul(hn::Set(d, -0.5f), hn::Mul(x, x))));
    return hn::Mul(dy, hn::MulAdd(x, phi, NormalCdf(d, x)));
  }
};
GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Gelu, Gelu)

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>

namespace graphrun_plugin {
GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Gelu)

double SigmoidF64(double x) {
  const double e = std::exp(-std::fabs(x));
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
double TwoUF64(double xc) { return 2 * kSqrt2OverPi * xc * (1.0 + kGeluCubic * xc * xc); }
double GeluF64(double x, const double* p) {
  if (p[0] != 0.0) return x * SigmoidF64(TwoUF64(std::clamp(x, -kGeluTanhClamp, kGeluTanhClamp)));
  return 0.5 * x * std::erfc(-x * kSqrtHalf);
}
double GeluGradF64(double x, double, double dy, const double* p) {
  if (p[0] != 0.0) {
    const double xc = std::clamp(x, -kGeluTanhClamp, kGeluTanhClamp);
    const double s = SigmoidF64(TwoUF64(xc));
    return dy * (s + x * s * (1.0 - s) * 2 * kSqrt2OverPi * (1.0 + 3 * kGeluCubic * xc * xc));
  }
  return dy * (0.5 * std::erfc(-x * kSqrtHalf) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x));
}
GRAPHRUN_ACT_DEFINE_F64(Gelu, GeluF64, GeluGradF64)

graphrun_onednn_eltwise GeluOneDnn(const double* p, float* alpha, float* beta) {
  *alpha = 0.0f;
  *beta = 0.0f;
  return p[0] != 0.0 ? GRAPHRUN_ONEDNN_GELU_TANH : GRAPHRUN_ONEDNN_GELU_ERF;
}

const graphrun_param kParams[] = {
    {"approximate", 0.0, 0.0, 1.0, "0: exact x * Phi(x) (erf); 1 (any non-zero): tanh approximation"}};

const graphrun_activation kGelu = {sizeof(graphrun_activation),
                                   "gelu",
                                   "Gaussian error linear unit x * Phi(x)",
                                   GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                   kParams,
                                   1,
                                   GeluForwardF32,
                                   GeluBackwardF32,
                                   GeluForwardF64,
                                   GeluBackwardF64,
                                   GeluOneDnn};
}  // namespace graphrun_plugin

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_activation(registry, &graphrun_plugin::kGelu);
}
#endif  // HWY_ONCE
