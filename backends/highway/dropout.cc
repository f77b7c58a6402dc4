// Dropout and row copies (concat, slice) for graphrun::highway.
//
// The dropout mask is core/run_state.h's hash computed in 32-bit vector lanes: element i is
// kept exactly when the reference keeps it, whatever the target or the split over threads.
#include <cstdint>
#include <cstring>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"
#include "core/run_state.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/dropout.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include "backends/highway/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class V>
HWY_INLINE V Fmix32(V h) {
  const hn::DFromV<V> du;
  h = hn::Xor(h, hn::ShiftRight<16>(h));
  h = hn::Mul(h, hn::Set(du, 0x85ebca6bu));
  h = hn::Xor(h, hn::ShiftRight<13>(h));
  h = hn::Mul(h, hn::Set(du, 0xc2b2ae35u));
  return hn::Xor(h, hn::ShiftRight<16>(h));
}

// y[i] = x[i] * scale where dropout_bits(key, first + i) >= threshold, else 0, for i < n.
void DropoutRange(const float* x, float* y, int64_t n, uint64_t first, uint64_t key, float threshold, float scale) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::RebindToSigned<decltype(df)> di;
  const int64_t L = static_cast<int64_t>(hn::Lanes(df));
  const auto lo = hn::Set(du, static_cast<uint32_t>(key)), hi = hn::Set(du, static_cast<uint32_t>(key >> 32));
  const auto golden = hn::Set(du, 0x9e3779b9u);
  const auto vt = hn::Set(df, threshold), vs = hn::Set(df, scale);
  const auto lanes = hn::Iota(du, 0);
  for (int64_t i = 0; i < n; i += L) {
    const auto index = hn::Add(lanes, hn::Set(du, static_cast<uint32_t>(first + static_cast<uint64_t>(i))));
    const auto h = Fmix32(hn::Xor(Fmix32(hn::Xor(hn::Mul(index, golden), lo)), hi));
    const auto bits = hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<8>(h)));
    const auto keep = hn::Ge(bits, vt);
    const auto m = hn::FirstN(df, static_cast<size_t>(n - i < L ? n - i : L));
    const auto v = n - i >= L ? hn::LoadU(df, x + i) : LoadPrefix(m, df, x + i);
    hn::BlendedStore(hn::IfThenElseZero(keep, hn::Mul(v, vs)), m, df, y + i);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(DropoutRange);

void dropout(const float* x, float* y, int64_t n, float rate, uint64_t key, ThreadPool& pool) {
  const auto f = HWY_DYNAMIC_DISPATCH(DropoutRange);
  const float threshold = dropout_threshold(rate), scale = 1.0f / (1.0f - rate);
  pool.parallel_for(n, detail::kElementGrain, [&](int64_t i0, int64_t i1) {
    f(x + i0, y + i0, i1 - i0, static_cast<uint64_t>(i0), key, threshold, scale);
  });
}

void copy_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols, ThreadPool& pool) {
  if (ldx == cols && ldy == cols) {  // one contiguous block
    pool.parallel_for(rows * cols, detail::kElementGrain, [&](int64_t i0, int64_t i1) {
      std::memcpy(y + i0, x + i0, static_cast<size_t>(i1 - i0) * sizeof(float));
    });
    return;
  }
  pool.parallel_for(rows, detail::row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::memcpy(y + r * ldy, x + r * ldx, static_cast<size_t>(cols) * sizeof(float));
  });
}

}  // namespace graphrun::highway
#endif  // HWY_ONCE
