// Elementwise kernels, row broadcasts and reductions for graphrun::highway (float).
//
// Each SIMD body works on one contiguous range or block of rows; the HWY_ONCE part at the
// bottom splits the work over the pool (detail::kElementGrain elements per thread at least).
// Tails use FirstN masks (LoadPrefix / BlendedStore), so no kernel touches memory past n.
// y may alias an input: every lane is read before the same lane is written.
#include <algorithm>
#include <cstdint>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/elementwise.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include "backends/highway/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// y[i] = op(a[i], b[i]) for i < n.
template <class Op>
HWY_INLINE void Binary(const float* a, const float* b, float* y, int64_t n, Op op) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const VF r0 = op(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
    const VF r1 = op(hn::LoadU(d, a + i + L), hn::LoadU(d, b + i + L));
    hn::StoreU(r0, d, y + i);
    hn::StoreU(r1, d, y + i + L);
  }
  for (; i < n; i += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(n - i));
    hn::BlendedStore(op(LoadPrefix(m, d, a + i), LoadPrefix(m, d, b + i)), m, d, y + i);
  }
}

void AddRange(const float* a, const float* b, float* y, int64_t n) {
  Binary(a, b, y, n, [](VF x, VF z) { return hn::Add(x, z); });
}
void MulRange(const float* a, const float* b, float* y, int64_t n) {
  Binary(a, b, y, n, [](VF x, VF z) { return hn::Mul(x, z); });
}

void ScaleRange(const float* x, float alpha, float* y, int64_t n) {
  const DF d;
  const VF va = hn::Set(d, alpha);
  Binary(x, x, y, n, [va](VF v, VF) { return hn::Mul(va, v); });
}

// y[r,:] = x[r,:] + bias for rows [r0, r1).
void AddBiasRowsRange(const float* x, const float* bias, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) AddRange(x + r * cols, bias, y + r * cols, cols);
}

// y[r,:] = alpha * v for rows [r0, r1).
void BroadcastRowsRange(const float* v, float alpha, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) ScaleRange(v, alpha, y + r * cols, cols);
}

// y[i] = value for i < n.
void FillRange(float value, float* y, int64_t n) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const VF v = hn::Set(d, value);
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(v, d, y + i);
  if (i < n) hn::BlendedStore(v, hn::FirstN(d, static_cast<size_t>(n - i)), d, y + i);
}

// y[c] = sum_r x[r, c] for columns [c0, c1): strips of 4 vectors accumulate down the rows.
void SumRowsRange(const float* x, float* y, int64_t rows, int64_t cols, int64_t c0, int64_t c1) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t c = c0;
  for (; c + 4 * L <= c1; c += 4 * L) {
    VF s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = x + r * cols + c;
      s0 = hn::Add(s0, hn::LoadU(d, p));
      s1 = hn::Add(s1, hn::LoadU(d, p + L));
      s2 = hn::Add(s2, hn::LoadU(d, p + 2 * L));
      s3 = hn::Add(s3, hn::LoadU(d, p + 3 * L));
    }
    hn::StoreU(s0, d, y + c);
    hn::StoreU(s1, d, y + c + L);
    hn::StoreU(s2, d, y + c + 2 * L);
    hn::StoreU(s3, d, y + c + 3 * L);
  }
  for (; c < c1; c += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, c1 - c)));
    VF s0 = hn::Zero(d), s1 = hn::Zero(d);
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
      s0 = hn::Add(s0, LoadPrefix(m, d, x + r * cols + c));
      s1 = hn::Add(s1, LoadPrefix(m, d, x + (r + 1) * cols + c));
    }
    if (r < rows) s0 = hn::Add(s0, LoadPrefix(m, d, x + r * cols + c));
    hn::BlendedStore(hn::Add(s0, s1), m, d, y + c);
  }
}

// Sum of x[0, n) with 4 vector accumulators; for MSE, sum of (x - t)^2 when t != nullptr.
template <bool kSquaredDiff>
HWY_INLINE double SumImpl(const float* x, const float* t, int64_t n) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto term = [&](VF v, const float* tp, int64_t i, auto mask, bool full) {
    if constexpr (kSquaredDiff) {
      const VF diff = hn::Sub(v, full ? hn::LoadU(d, tp + i) : LoadPrefix(mask, d, tp + i));
      return hn::Mul(diff, diff);
    } else {
      (void)tp, (void)i, (void)mask, (void)full;
      return v;
    }
  };
  const auto all = hn::FirstN(d, static_cast<size_t>(L));
  VF s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    s0 = hn::Add(s0, term(hn::LoadU(d, x + i), t, i, all, true));
    s1 = hn::Add(s1, term(hn::LoadU(d, x + i + L), t, i + L, all, true));
    s2 = hn::Add(s2, term(hn::LoadU(d, x + i + 2 * L), t, i + 2 * L, all, true));
    s3 = hn::Add(s3, term(hn::LoadU(d, x + i + 3 * L), t, i + 3 * L, all, true));
  }
  for (; i < n; i += L) {
    const auto m = hn::FirstN(d, static_cast<size_t>(std::min(L, n - i)));
    s0 = hn::Add(s0, term(LoadPrefix(m, d, x + i), t, i, m, false));
  }
  const VF s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  return static_cast<double>(hn::GetLane(hn::SumOfLanes(d, s)));
}

double SumRange(const float* x, int64_t n) { return SumImpl<false>(x, nullptr, n); }
double SquaredDiffSumRange(const float* p, const float* t, int64_t n) { return SumImpl<true>(p, t, n); }

// dpred = (pred - target) * g for i < n.
void ScaledDiffRange(const float* p, const float* t, float g, float* y, int64_t n) {
  const DF d;
  const VF vg = hn::Set(d, g);
  Binary(p, t, y, n, [vg](VF a, VF b) { return hn::Mul(hn::Sub(a, b), vg); });
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(AddRange);
HWY_EXPORT(MulRange);
HWY_EXPORT(ScaleRange);
HWY_EXPORT(AddBiasRowsRange);
HWY_EXPORT(BroadcastRowsRange);
HWY_EXPORT(FillRange);
HWY_EXPORT(SumRowsRange);
HWY_EXPORT(SumRange);
HWY_EXPORT(SquaredDiffSumRange);
HWY_EXPORT(ScaledDiffRange);

using detail::kElementGrain;
using detail::row_grain;

void add(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(AddRange);
  pool.parallel_for(n, kElementGrain, [&](int64_t i0, int64_t i1) { f(a + i0, b + i0, y + i0, i1 - i0); });
}

void mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(MulRange);
  pool.parallel_for(n, kElementGrain, [&](int64_t i0, int64_t i1) { f(a + i0, b + i0, y + i0, i1 - i0); });
}

void scale(const float* x, float alpha, float* y, int64_t n, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(ScaleRange);
  pool.parallel_for(n, kElementGrain, [&](int64_t i0, int64_t i1) { f(x + i0, alpha, y + i0, i1 - i0); });
}

void add_bias_rows(const float* x, const float* bias, float* y, int64_t rows, int64_t cols, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(AddBiasRowsRange);
  pool.parallel_for(rows, row_grain(cols), [&](int64_t r0, int64_t r1) { f(x, bias, y, r0, r1, cols); });
}

void broadcast_rows(const float* v, float alpha, float* y, int64_t rows, int64_t cols, ThreadPool& pool) {
  if (cols == 1) {  // a scalar: fill rows elements
    const auto f = HWY_DYNAMIC_DISPATCH(FillRange);
    const float value = alpha * v[0];
    pool.parallel_for(rows, kElementGrain, [&](int64_t i0, int64_t i1) { f(value, y + i0, i1 - i0); });
    return;
  }
  const auto f = HWY_DYNAMIC_DISPATCH(BroadcastRowsRange);
  pool.parallel_for(rows, row_grain(cols), [&](int64_t r0, int64_t r1) { f(v, alpha, y, r0, r1, cols); });
}

void sum_rows(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(SumRowsRange);
  // Column blocks of 64 (whole vector strips on every target).
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(rows * kBlock, 1));
  pool.parallel_for(blocks, grain,
                    [&](int64_t b0, int64_t b1) { f(x, y, rows, cols, b0 * kBlock, std::min(cols, b1 * kBlock)); });
}

float sum_all(const float* x, int64_t n, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(SumRange);
  return static_cast<float>(
      detail::parallel_sum(pool, n, kElementGrain, [&](int64_t i0, int64_t i1) { return f(x + i0, i1 - i0); }));
}

float mean_squared_error(const float* pred, const float* target, int64_t n, ThreadPool& pool) {
  if (n <= 0) return 0.0f;
  const auto f = HWY_DYNAMIC_DISPATCH(SquaredDiffSumRange);
  const double total = detail::parallel_sum(pool, n, kElementGrain,
                                            [&](int64_t i0, int64_t i1) { return f(pred + i0, target + i0, i1 - i0); });
  return static_cast<float>(total / static_cast<double>(n));
}

void mean_squared_error_backward(const float* pred, const float* target, int64_t n, float dloss, float* dpred,
                                 ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(ScaledDiffRange);
  const float g = static_cast<float>(2.0 * static_cast<double>(dloss) / static_cast<double>(n));
  pool.parallel_for(n, kElementGrain,
                    [&](int64_t i0, int64_t i1) { f(pred + i0, target + i0, g, dpred + i0, i1 - i0); });
}

}  // namespace graphrun::highway
#endif  // HWY_ONCE
