// SIMD helpers shared by the Highway kernels of graphrun (internal; included once per target
// by foreach_target.h, hence the toggling include guard of Highway's -inl.h convention).
#if defined(GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#undef GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#else
#define GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include <hwy/cache_control.h>
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Loads the lanes of a FirstN(d, n) mask from p (n >= 1), zero in the others, reading nothing
// past p + n. Workaround: in Highway 1.0.3, MaskedLoad on SSE4/SSSE3 (and SCALAR) is
// IfThenElseZero(m, Load(d, p)), an aligned full-vector load that faults on an unaligned tail
// and reads past the end; only AVX2/AVX3 use real masked loads.
template <class D, class M>
HWY_INLINE hn::Vec<D> LoadPrefix(M m, D d, const hn::TFromD<D>* HWY_RESTRICT p) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  return hn::MaskedLoad(m, d, p);
#else
  using T = hn::TFromD<D>;
  HWY_ALIGN T buf[HWY_MAX_BYTES / sizeof(T)] = {};
  const size_t n = hn::CountTrue(d, m);
  for (size_t i = 0; i < n; ++i) buf[i] = p[i];
  return hn::Load(d, buf);
#endif
}

// Fetches rows [r0, r1) of a row-major block (rows ld floats apart, `floats` of each) into L1,
// a line at a time: the rows of a block that the hardware prefetcher would not follow.
HWY_INLINE void PrefetchRows(const float* src, int64_t ld, int64_t r0, int64_t r1, int64_t floats) {
  constexpr int64_t kLine = 64 / sizeof(float);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t k = 0; k < floats; k += kLine) hwy::Prefetch(src + r * ld + k);
}

// Copies a 4 x 4 block: dst row q (stride dst_stride) gets column q of the 4 source rows
// (stride src_stride). 128-bit vectors, two levels of interleaves.
HWY_INLINE void Transpose4x4(const float* HWY_RESTRICT src, int64_t src_stride, float* HWY_RESTRICT dst,
                             int64_t dst_stride) {
#if HWY_TARGET == HWY_SCALAR
  for (int64_t q = 0; q < 4; ++q)
    for (int64_t c = 0; c < 4; ++c) dst[q * dst_stride + c] = src[c * src_stride + q];
#else
  const hn::Full128<float> d4;
  const auto r0 = hn::LoadU(d4, src);
  const auto r1 = hn::LoadU(d4, src + src_stride);
  const auto r2 = hn::LoadU(d4, src + 2 * src_stride);
  const auto r3 = hn::LoadU(d4, src + 3 * src_stride);
  const auto t0 = hn::InterleaveLower(d4, r0, r1);  // r0_0 r1_0 r0_1 r1_1
  const auto t1 = hn::InterleaveLower(d4, r2, r3);  // r2_0 r3_0 r2_1 r3_1
  const auto t2 = hn::InterleaveUpper(d4, r0, r1);  // r0_2 r1_2 r0_3 r1_3
  const auto t3 = hn::InterleaveUpper(d4, r2, r3);  // r2_2 r3_2 r2_3 r3_3
  hn::StoreU(hn::ConcatLowerLower(d4, t1, t0), d4, dst);
  hn::StoreU(hn::ConcatUpperUpper(d4, t1, t0), d4, dst + dst_stride);
  hn::StoreU(hn::ConcatLowerLower(d4, t3, t2), d4, dst + 2 * dst_stride);
  hn::StoreU(hn::ConcatUpperUpper(d4, t3, t2), d4, dst + 3 * dst_stride);
#endif
}

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
// Transpose4x4 for an 8 x 8 block in 256-bit vectors: 24 shuffles for 64 floats where 4 x 4
// blocks take 32, and half the loads and stores (x86 targets with AVX2 or better).
HWY_INLINE void Transpose8x8(const float* HWY_RESTRICT src, int64_t src_stride, float* HWY_RESTRICT dst,
                             int64_t dst_stride) {
  const hn::Full256<float> d;
  const hn::Repartition<double, decltype(d)> dd;
  using V = hn::Vec<decltype(d)>;
  V r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = hn::LoadU(d, src + i * src_stride);
  // Within each 128-bit half: pairs of rows interleaved (r0_0 r1_0 r0_1 r1_1 | r0_4 r1_4 ...).
  for (int i = 0; i < 8; i += 2) {
    t[i] = hn::InterleaveLower(d, r[i], r[i + 1]);
    t[i + 1] = hn::InterleaveUpper(d, r[i], r[i + 1]);
  }
  // Then pairs of those as 64-bit lanes: four rows of one column per half (col c | col c + 4).
  auto lo = [&](V a, V b) { return hn::BitCast(d, hn::InterleaveLower(dd, hn::BitCast(dd, a), hn::BitCast(dd, b))); };
  auto hi = [&](V a, V b) { return hn::BitCast(d, hn::InterleaveUpper(dd, hn::BitCast(dd, a), hn::BitCast(dd, b))); };
  const V u[8] = {lo(t[0], t[2]), hi(t[0], t[2]), lo(t[1], t[3]), hi(t[1], t[3]),
                  lo(t[4], t[6]), hi(t[4], t[6]), lo(t[5], t[7]), hi(t[5], t[7])};
  // Rows 0-3 and 4-7 of each column joined by halves.
  for (int c = 0; c < 4; ++c) {
    hn::StoreU(hn::ConcatLowerLower(d, u[c + 4], u[c]), d, dst + c * dst_stride);
    hn::StoreU(hn::ConcatUpperUpper(d, u[c + 4], u[c]), d, dst + (c + 4) * dst_stride);
  }
}
#endif

// dst[k * dst_stride + c] = src[c * src_stride + k] for c < rows, k < cols: 8 x 8 blocks where
// the target has them, then 4 x 4 blocks, then single elements.
HWY_INLINE void TransposeBlock(const float* HWY_RESTRICT src, int64_t src_stride, int64_t rows, int64_t cols,
                               float* HWY_RESTRICT dst, int64_t dst_stride) {
  int64_t c8 = 0, k8 = 0;  // [0, c8) x [0, k8) done in 8 x 8 blocks
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  k8 = cols / 8 * 8;
  for (; c8 + 8 <= rows; c8 += 8)
    for (int64_t k = 0; k < k8; k += 8)
      Transpose8x8(src + c8 * src_stride + k, src_stride, dst + k * dst_stride + c8, dst_stride);
#endif
  const int64_t r4 = rows / 4 * 4;
  for (int64_t c = 0; c < r4; c += 4) {
    int64_t k = c < c8 ? k8 : 0;
    for (; k + 4 <= cols; k += 4)
      Transpose4x4(src + c * src_stride + k, src_stride, dst + k * dst_stride + c, dst_stride);
    for (; k < cols; ++k)
      for (int64_t q = 0; q < 4; ++q) dst[k * dst_stride + c + q] = src[(c + q) * src_stride + k];
  }
  for (int64_t c = r4; c < rows; ++c)
    for (int64_t k = 0; k < cols; ++k) dst[k * dst_stride + c] = src[c * src_stride + k];
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#endif  // GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
