// SIMD helpers shared by the Highway kernels of graphrun (internal; included once per target
// by foreach_target.h, hence the toggling include guard of Highway's -inl.h convention).
#if defined(GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#undef GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#else
#define GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
#endif

#include <cstddef>

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

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#endif  // GRAPHRUN_BACKENDS_HIGHWAY_SIMD_INL_H_
