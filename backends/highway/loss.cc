// The elementwise losses for graphrun::highway (float): mean absolute error, Huber and binary
// cross-entropy from logits, forward (a sum over n elements, accumulated in double across
// chunks) and backward (d pred scaled by dloss / n).
//
// Binary cross-entropy is max(z, 0) - z y + log1p(exp(-|z|)) and its gradient sigmoid(z) - y
// with sigmoid formed from exp(-|z|): neither overflows for any finite z. With pos_weight p
// (per label) they are (1 - y) z + (1 + (p - 1) y) softplus(-z) and (1 + (p - 1) y) sigmoid(z) - p y,
// run row by row (p is indexed by column). Tail lanes are masked (FirstN), so nothing past n is
// read or written.
#include <algorithm>
#include <cstdint>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/loss.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

#include "backends/highway/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Sum over i < n of term(p[i], t[i]), two vector accumulators.
template <class Term>
HWY_INLINE double LossSum(const float* p, const float* t, int64_t n, Term term) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  VF s0 = hn::Zero(d), s1 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    s0 = hn::Add(s0, term(hn::LoadU(d, p + i), hn::LoadU(d, t + i)));
    s1 = hn::Add(s1, term(hn::LoadU(d, p + i + L), hn::LoadU(d, t + i + L)));
  }
  for (; i < n; i += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, n - i)));
    s0 = hn::Add(s0, hn::IfThenElseZero(m, term(LoadPrefix(m, d, p + i), LoadPrefix(m, d, t + i))));
  }
  return static_cast<double>(hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1))));
}

// y[i] = grad(p[i], t[i]) for i < n.
template <class Grad>
HWY_INLINE void LossGrad(const float* p, const float* t, float* y, int64_t n, Grad grad) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(grad(hn::LoadU(d, p + i), hn::LoadU(d, t + i)), d, y + i);
  if (i < n) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    hn::BlendedStore(grad(LoadPrefix(m, d, p + i), LoadPrefix(m, d, t + i)), m, d, y + i);
  }
}

double AbsDiffSumRange(const float* p, const float* t, int64_t n) {
  return LossSum(p, t, n, [](VF a, VF b) { return hn::Abs(hn::Sub(a, b)); });
}

double HuberSumRange(const float* p, const float* t, int64_t n, float delta) {
  const DF d;
  const VF vd = hn::Set(d, delta), half = hn::Set(d, 0.5f), half_d = hn::Set(d, 0.5f * delta);
  return LossSum(p, t, n, [&](VF a, VF b) {
    const VF e = hn::Abs(hn::Sub(a, b));
    const VF quadratic = hn::Mul(half, hn::Mul(e, e));
    const VF linear = hn::Mul(vd, hn::Sub(e, half_d));
    return hn::IfThenElse(hn::Le(e, vd), quadratic, linear);
  });
}

double BceSumRange(const float* z, const float* y, int64_t n) {
  const DF d;
  return LossSum(z, y, n, [&](VF a, VF b) {
    const VF softplus = hn::Log1p(d, hn::Exp(d, hn::Neg(hn::Abs(a))));
    return hn::Add(hn::Sub(hn::Max(a, hn::Zero(d)), hn::Mul(a, b)), softplus);
  });
}

void AbsDiffGradRange(const float* p, const float* t, float g, float* y, int64_t n) {
  const DF d;
  const VF pos = hn::Set(d, g), neg = hn::Set(d, -g), zero = hn::Zero(d);
  LossGrad(p, t, y, n, [&](VF a, VF b) {
    const VF e = hn::Sub(a, b);
    return hn::IfThenElse(hn::Gt(e, zero), pos, hn::IfThenElse(hn::Lt(e, zero), neg, zero));
  });
}

void HuberGradRange(const float* p, const float* t, float delta, float g, float* y, int64_t n) {
  const DF d;
  const VF hi = hn::Set(d, delta), lo = hn::Set(d, -delta), vg = hn::Set(d, g);
  LossGrad(p, t, y, n, [&](VF a, VF b) { return hn::Mul(hn::Min(hn::Max(hn::Sub(a, b), lo), hi), vg); });
}

void BceGradRange(const float* z, const float* t, float g, float* y, int64_t n) {
  const DF d;
  const VF one = hn::Set(d, 1.0f), vg = hn::Set(d, g);
  LossGrad(z, t, y, n, [&](VF a, VF b) {
    const VF e = hn::Exp(d, hn::Neg(hn::Abs(a)));
    const VF inv = hn::Div(one, hn::Add(one, e));
    const VF s = hn::IfThenElse(hn::Ge(a, hn::Zero(d)), inv, hn::Mul(e, inv));
    return hn::Mul(hn::Sub(s, b), vg);
  });
}

// BCE with pos_weight over rows [r0, r1) of cols labels: the sum (forward).
double BcePosWeightSumRange(const float* z, const float* y, const float* pw, int64_t r0, int64_t r1, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF one = hn::Set(d, 1.0f), zero = hn::Zero(d);
  VF acc = zero;
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t c = 0; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      const VF a = LoadPrefix(m, d, z + r * cols + c), b = LoadPrefix(m, d, y + r * cols + c);
      const VF p = LoadPrefix(m, d, pw + c);
      const VF softplus_neg = hn::Add(hn::Max(hn::Neg(a), zero), hn::Log1p(d, hn::Exp(d, hn::Neg(hn::Abs(a)))));
      const VF lw = hn::MulAdd(hn::Sub(p, one), b, one);
      acc = hn::Add(acc, hn::IfThenElseZero(m, hn::MulAdd(lw, softplus_neg, hn::Mul(hn::Sub(one, b), a))));
    }
  }
  return static_cast<double>(hn::GetLane(hn::SumOfLanes(d, acc)));
}

// BCE with pos_weight over rows [r0, r1): out = ((1 + (p - 1) y) sigmoid(z) - p y) g.
void BcePosWeightGradRange(const float* z, const float* y, const float* pw, int64_t r0, int64_t r1, int64_t cols,
                           float g, float* out) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF one = hn::Set(d, 1.0f), vg = hn::Set(d, g);
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t c = 0; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      const VF a = LoadPrefix(m, d, z + r * cols + c), b = LoadPrefix(m, d, y + r * cols + c);
      const VF p = LoadPrefix(m, d, pw + c);
      const VF e = hn::Exp(d, hn::Neg(hn::Abs(a)));
      const VF inv = hn::Div(one, hn::Add(one, e));
      const VF s = hn::IfThenElse(hn::Ge(a, hn::Zero(d)), inv, hn::Mul(e, inv));
      const VF lw = hn::MulAdd(hn::Sub(p, one), b, one);
      hn::BlendedStore(hn::Mul(hn::NegMulAdd(p, b, hn::Mul(lw, s)), vg), m, d, out + r * cols + c);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(AbsDiffSumRange);
HWY_EXPORT(HuberSumRange);
HWY_EXPORT(BceSumRange);
HWY_EXPORT(AbsDiffGradRange);
HWY_EXPORT(HuberGradRange);
HWY_EXPORT(BceGradRange);
HWY_EXPORT(BcePosWeightSumRange);
HWY_EXPORT(BcePosWeightGradRange);

using detail::kElementGrain;

float elementwise_loss(OpKind op, const float* p, const float* t, int64_t n, float delta, const float* pos_weight,
                       int64_t cols, ThreadPool& pool) {
  if (n <= 0) return 0.0f;
  // Exp and Log1p cost ~40 flops a lane: split BCE sooner.
  const int64_t grain = op == OpKind::BinaryCrossEntropy ? kElementGrain / 4 : kElementGrain;
  if (pos_weight) {
    const auto f = HWY_DYNAMIC_DISPATCH(BcePosWeightSumRange);
    const double total =
        detail::parallel_sum(pool, n / cols, detail::row_grain(cols, grain),
                             [&](int64_t r0, int64_t r1) { return f(p, t, pos_weight, r0, r1, cols); });
    return static_cast<float>(total / static_cast<double>(n));
  }
  const double total = detail::parallel_sum(pool, n, grain, [&](int64_t i0, int64_t i1) {
    if (op == OpKind::MeanAbsoluteError) return HWY_DYNAMIC_DISPATCH(AbsDiffSumRange)(p + i0, t + i0, i1 - i0);
    if (op == OpKind::Huber) return HWY_DYNAMIC_DISPATCH(HuberSumRange)(p + i0, t + i0, i1 - i0, delta);
    return HWY_DYNAMIC_DISPATCH(BceSumRange)(p + i0, t + i0, i1 - i0);
  });
  return static_cast<float>(total / static_cast<double>(n));
}

void elementwise_loss_backward(OpKind op, const float* p, const float* t, int64_t n, float delta,
                               const float* pos_weight, int64_t cols, float dloss, float* dp, ThreadPool& pool) {
  const float g = static_cast<float>(static_cast<double>(dloss) / static_cast<double>(n));
  const int64_t grain = op == OpKind::BinaryCrossEntropyGrad ? kElementGrain / 4 : kElementGrain;
  if (pos_weight) {
    const auto f = HWY_DYNAMIC_DISPATCH(BcePosWeightGradRange);
    pool.parallel_for(n / cols, detail::row_grain(cols, grain),
                      [&](int64_t r0, int64_t r1) { f(p, t, pos_weight, r0, r1, cols, g, dp); });
    return;
  }
  pool.parallel_for(n, grain, [&](int64_t i0, int64_t i1) {
    if (op == OpKind::MeanAbsoluteErrorGrad) {
      HWY_DYNAMIC_DISPATCH(AbsDiffGradRange)(p + i0, t + i0, g, dp + i0, i1 - i0);
    } else if (op == OpKind::HuberGrad) {
      HWY_DYNAMIC_DISPATCH(HuberGradRange)(p + i0, t + i0, delta, g, dp + i0, i1 - i0);
    } else {
      HWY_DYNAMIC_DISPATCH(BceGradRange)(p + i0, t + i0, g, dp + i0, i1 - i0);
    }
  });
}

}  // namespace graphrun::highway
#endif  // HWY_ONCE
