// Row softmax, its backward, and fused softmax + cross-entropy for graphrun::highway (float).
//
// Every row is made stable by subtracting its max before Exp (hwy/contrib/math), so logits of
// any finite magnitude (e.g. +-1e4) give finite results. The cross-entropy of a row is
// sum_c t_c * ((max - x_c) + log(sum_c' exp(x_c' - max))): (max - x_c) is computed before the
// multiply, which avoids the cancellation of lse * sum(t) - sum(t * x) for large logits.
// Row losses are summed in double. Threads split rows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/softmax.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <hwy/contrib/math/math-inl.h>
#include "backends/highway/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// max_c x[c] of one row (cols >= 1).
HWY_INLINE float RowMax(const float* x, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF neg_inf = hn::Set(d, -std::numeric_limits<float>::infinity());
  VF m0 = neg_inf, m1 = neg_inf;
  int64_t c = 0;
  for (; c + 2 * L <= cols; c += 2 * L) {
    m0 = hn::Max(m0, hn::LoadU(d, x + c));
    m1 = hn::Max(m1, hn::LoadU(d, x + c + L));
  }
  for (; c < cols; c += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
    m0 = hn::Max(m0, hn::IfThenElse(m, LoadPrefix(m, d, x + c), neg_inf));
  }
  return hn::GetLane(hn::MaxOfLanes(d, hn::Max(m0, m1)));
}

// Writes e[c] = exp(x[c] - max) (if e != nullptr) and returns sum_c exp(x[c] - max).
HWY_INLINE float ExpShiftSum(const float* x, float max, float* e, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF vmax = hn::Set(d, max);
  VF s0 = hn::Zero(d), s1 = hn::Zero(d);
  int64_t c = 0;
  for (; c + 2 * L <= cols; c += 2 * L) {
    const VF e0 = hn::Exp(d, hn::Sub(hn::LoadU(d, x + c), vmax));
    const VF e1 = hn::Exp(d, hn::Sub(hn::LoadU(d, x + c + L), vmax));
    if (e != nullptr) {
      hn::StoreU(e0, d, e + c);
      hn::StoreU(e1, d, e + c + L);
    }
    s0 = hn::Add(s0, e0);
    s1 = hn::Add(s1, e1);
  }
  for (; c < cols; c += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
    const VF e0 = hn::IfThenElseZero(m, hn::Exp(d, hn::Sub(LoadPrefix(m, d, x + c), vmax)));
    if (e != nullptr) hn::BlendedStore(e0, m, d, e + c);
    s0 = hn::Add(s0, e0);
  }
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
}

// y[c] = x[c] * s (y may alias x).
HWY_INLINE void ScaleRow(const float* x, float s, float* y, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF vs = hn::Set(d, s);
  int64_t c = 0;
  for (; c + L <= cols; c += L) hn::StoreU(hn::Mul(hn::LoadU(d, x + c), vs), d, y + c);
  if (c < cols) {
    const auto m = hn::FirstN(d, static_cast<size_t>(cols - c));
    hn::BlendedStore(hn::Mul(LoadPrefix(m, d, x + c), vs), m, d, y + c);
  }
}

void SoftmaxRowsRange(const float* x, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float sum = ExpShiftSum(xr, RowMax(xr, cols), yr, cols);
    ScaleRow(yr, 1.0f / sum, yr, cols);
  }
}

void SoftmaxRowsBackwardRange(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  for (int64_t r = r0; r < r1; ++r) {
    const float* yr = y + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    VF s0 = hn::Zero(d), s1 = hn::Zero(d);
    int64_t c = 0;
    for (; c + 2 * L <= cols; c += 2 * L) {
      s0 = hn::MulAdd(hn::LoadU(d, yr + c), hn::LoadU(d, dyr + c), s0);
      s1 = hn::MulAdd(hn::LoadU(d, yr + c + L), hn::LoadU(d, dyr + c + L), s1);
    }
    for (; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      s0 = hn::MulAdd(LoadPrefix(m, d, yr + c), LoadPrefix(m, d, dyr + c), s0);
    }
    const VF dot = hn::SumOfLanes(d, hn::Add(s0, s1));
    for (c = 0; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      const VF v = hn::Mul(LoadPrefix(m, d, yr + c), hn::Sub(LoadPrefix(m, d, dyr + c), dot));
      hn::BlendedStore(v, m, d, dxr + c);
    }
  }
}

// Sum over rows [r0, r1) of each row's cross-entropy (see the file comment).
double CrossEntropyRange(const float* logits, const float* labels, bool sparse, int64_t r0, int64_t r1, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  double total = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = logits + r * cols;
    const float max = RowMax(xr, cols);
    const double log_sum = std::log(static_cast<double>(ExpShiftSum(xr, max, nullptr, cols)));
    if (sparse) {
      const int64_t label = static_cast<int64_t>(labels[r]);
      total += static_cast<double>(max - xr[label]) + log_sum;
      continue;
    }
    const float* tr = labels + r * cols;
    const VF vmax = hn::Set(d, max);
    VF tx = hn::Zero(d), ts = hn::Zero(d);
    for (int64_t c = 0; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      const VF t = LoadPrefix(m, d, tr + c);
      const VF gap = hn::Sub(vmax, LoadPrefix(m, d, xr + c));  // >= 0, exact for near values
      tx = hn::MulAdd(t, gap, tx);
      ts = hn::Add(ts, t);
    }
    total += static_cast<double>(hn::GetLane(hn::SumOfLanes(d, tx))) +
             static_cast<double>(hn::GetLane(hn::SumOfLanes(d, ts))) * log_sum;
  }
  return total;
}

// dlogits = (softmax(logits) * sum(target) - target) * g for rows [r0, r1) (sum 1 when sparse).
void CrossEntropyBackwardRange(const float* logits, const float* labels, bool sparse, int64_t r0, int64_t r1,
                               int64_t cols, float g, float* dlogits) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF vg = hn::Set(d, g);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = logits + r * cols;
    float* dr = dlogits + r * cols;
    const float max = RowMax(xr, cols);
    const float sum = ExpShiftSum(xr, max, dr, cols);
    const VF scale = hn::Set(d, g / sum);
    if (sparse) {
      ScaleRow(dr, g / sum, dr, cols);
      dr[static_cast<int64_t>(labels[r])] -= g;
      continue;
    }
    const float* tr = labels + r * cols;
    // Targets need not sum to one (class weights scale a row's): d/dx = p * sum(t) - t.
    float tsum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) tsum += tr[c];
    const VF weighted = hn::Mul(scale, hn::Set(d, tsum));
    for (int64_t c = 0; c < cols; c += L) {
      const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, cols - c)));
      // p * sum(t) * g - t * g, with p * g = e * (g / sum)
      const VF v = hn::NegMulAdd(LoadPrefix(m, d, tr + c), vg, hn::Mul(LoadPrefix(m, d, dr + c), weighted));
      hn::BlendedStore(v, m, d, dr + c);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(SoftmaxRowsRange);
HWY_EXPORT(SoftmaxRowsBackwardRange);
HWY_EXPORT(CrossEntropyRange);
HWY_EXPORT(CrossEntropyBackwardRange);

namespace {
// Exp costs ~20 flops a lane: split rows once a chunk holds ~4 K elements.
constexpr int64_t kRowElements = 4 * 1024;
}  // namespace

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(SoftmaxRowsRange);
  pool.parallel_for(rows, detail::row_grain(cols, kRowElements),
                    [&](int64_t r0, int64_t r1) { f(x, y, r0, r1, cols); });
}

void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(SoftmaxRowsBackwardRange);
  pool.parallel_for(rows, detail::row_grain(cols), [&](int64_t r0, int64_t r1) { f(y, dy, dx, r0, r1, cols); });
}

float softmax_cross_entropy(const float* logits, const float* labels, bool sparse, int64_t rows, int64_t cols,
                            ThreadPool& pool) {
  if (rows <= 0) return 0.0f;
  const auto f = HWY_DYNAMIC_DISPATCH(CrossEntropyRange);
  const double total =
      detail::parallel_sum(pool, rows, detail::row_grain(cols, kRowElements),
                           [&](int64_t r0, int64_t r1) { return f(logits, labels, sparse, r0, r1, cols); });
  return static_cast<float>(total / static_cast<double>(rows));
}

void softmax_cross_entropy_backward(const float* logits, const float* labels, bool sparse, int64_t rows, int64_t cols,
                                    float dloss, float* dlogits, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(CrossEntropyBackwardRange);
  const float g = static_cast<float>(static_cast<double>(dloss) / static_cast<double>(rows));
  pool.parallel_for(rows, detail::row_grain(cols, kRowElements),
                    [&](int64_t r0, int64_t r1) { f(logits, labels, sparse, r0, r1, cols, g, dlogits); });
}

}  // namespace graphrun::highway
#endif  // HWY_ONCE
