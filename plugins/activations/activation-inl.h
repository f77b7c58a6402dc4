// Shared SIMD boilerplate for the built-in activation plugins: the per-target loops that apply an
// elementwise functor over an array (full vectors, then the tail through a small stack buffer,
// so no load or store ever touches memory outside [0, n)), and the dispatch/entry macros.
//
// An elementwise activation .cc (see sigmoid.cc) follows the Highway skeleton:
//   #define HWY_TARGET_INCLUDE "activations/<name>.cc"  + foreach_target.h
//   per target:  a functor struct with
//       template <class D, class V> static V Forward(D d, V x, const Params& p);
//       template <class D, class V> static V Backward(D d, V x, V y, V dy, const Params& p);
//     and GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Prefix, Functor)
//   once:        GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Prefix), which defines the ABI kernels
//                Prefix##ForwardF32 / Prefix##BackwardF32 dispatching to the best target.
// Params holds the entry's parameters converted to float once per call.
//
// Per-target include guard (Highway's toggle idiom): this part is re-included once per target.
#if defined(GRAPHRUN_PLUGINS_ACTIVATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRAPHRUN_PLUGINS_ACTIVATION_INL_H_
#undef GRAPHRUN_PLUGINS_ACTIVATION_INL_H_
#else
#define GRAPHRUN_PLUGINS_ACTIVATION_INL_H_
#endif

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun_plugin {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The widest vector of any x86 target is 64 bytes: tails go through a buffer of that size.
constexpr size_t kMaxLanesF32 = 16;
static_assert(HWY_MAX_BYTES / sizeof(float) <= kMaxLanesF32, "tail buffer too small");

// Sign-split logistic: never overflows (exp of -|x| only). Returns sigmoid(x).
template <class D, class V>
HWY_INLINE V StableSigmoid(D d, V x) {
  const V one = hn::Set(d, 1.0f);
  const V e = hn::Exp(d, hn::Neg(hn::Abs(x)));  // in (0, 1]
  const V s = hn::Div(one, hn::Add(one, e));    // sigmoid(|x|)
  return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Mul(e, s), s);
}

template <class Op, class Params>
HWY_INLINE void ForwardLoop(const float* src, float* dst, size_t n, const Params& p) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(Op::Forward(d, hn::LoadU(d, src + i), p), d, dst + i);
  }
  if (i < n) {
    HWY_ALIGN float buf[kMaxLanesF32] = {0};
    memcpy(buf, src + i, (n - i) * sizeof(float));
    hn::Store(Op::Forward(d, hn::Load(d, buf), p), d, buf);
    memcpy(dst + i, buf, (n - i) * sizeof(float));
  }
}

template <class Op, class Params>
HWY_INLINE void BackwardLoop(const float* src, const float* dst, const float* d_dst, float* d_src, size_t n,
                             const Params& p) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto x = hn::LoadU(d, src + i);
    const auto y = hn::LoadU(d, dst + i);
    const auto dy = hn::LoadU(d, d_dst + i);
    hn::StoreU(Op::Backward(d, x, y, dy, p), d, d_src + i);
  }
  if (i < n) {
    const size_t r = n - i;
    HWY_ALIGN float bx[kMaxLanesF32] = {0};
    HWY_ALIGN float by[kMaxLanesF32] = {0};
    HWY_ALIGN float bdy[kMaxLanesF32] = {0};
    memcpy(bx, src + i, r * sizeof(float));
    memcpy(by, dst + i, r * sizeof(float));
    memcpy(bdy, d_dst + i, r * sizeof(float));
    hn::Store(Op::Backward(d, hn::Load(d, bx), hn::Load(d, by), hn::Load(d, bdy), p), d, bx);
    memcpy(d_src + i, bx, r * sizeof(float));
  }
}

// ---- row-wise helpers (softmax, log_softmax) ----

// max(row[0..n)); -inf for n == 0.
HWY_INLINE float RowMax(const float* row, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  float m = -HUGE_VALF;
  size_t i = 0;
  if (n >= N) {
    auto vm = hn::LoadU(d, row);
    for (i = N; i + N <= n; i += N) vm = hn::Max(vm, hn::LoadU(d, row + i));
    m = hn::GetLane(hn::MaxOfLanes(d, vm));
  }
  for (; i < n; ++i) m = row[i] > m ? row[i] : m;
  return m;
}

// sum(exp(row[i] - m)); also stores each exp(row[i] - m) to out[i] when out is not null
// (out may alias row).
HWY_INLINE float SumExpShifted(const float* row, size_t n, float m, float* out) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  const auto vm = hn::Set(d, m);
  auto vsum = hn::Zero(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, row + i), vm));
    if (out) hn::StoreU(e, d, out + i);
    vsum = hn::Add(vsum, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, vsum));
  if (i < n) {
    const size_t r = n - i;
    HWY_ALIGN float buf[kMaxLanesF32];
    for (size_t k = 0; k < kMaxLanesF32; ++k) buf[k] = m;  // padding: exp(0), not summed
    memcpy(buf, row + i, r * sizeof(float));
    hn::Store(hn::Exp(d, hn::Sub(hn::Load(d, buf), vm)), d, buf);
    for (size_t k = 0; k < r; ++k) sum += buf[k];
    if (out) memcpy(out + i, buf, r * sizeof(float));
  }
  return sum;
}

// sum(a[i] * b[i]) (b may be null: sum(a[i])).
HWY_INLINE float RowDot(const float* a, const float* b, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t N = hn::Lanes(d);
  auto acc = hn::Zero(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto va = hn::LoadU(d, a + i);
    acc = b ? hn::MulAdd(va, hn::LoadU(d, b + i), acc) : hn::Add(acc, va);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) sum += b ? a[i] * b[i] : a[i];
  return sum;
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun_plugin
HWY_AFTER_NAMESPACE();

#endif  // per-target include guard

// ---- once-only part: the macros ----
#ifndef GRAPHRUN_PLUGINS_ACTIVATION_INL_MACROS_
#define GRAPHRUN_PLUGINS_ACTIVATION_INL_MACROS_

#include "graphrun/plugin.h"

namespace graphrun_plugin {

// For activations without parameters.
struct NoParams {
  explicit NoParams(const double*) {}
};

// Registers every entry; stops at the first the host refuses.
inline int RegisterActivations(const graphrun_host* host, graphrun_registry* registry,
                               const graphrun_activation* const* entries, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (host->register_activation(registry, entries[i]) != 0) return 1;
  }
  return 0;
}

}  // namespace graphrun_plugin

// At namespace graphrun_plugin scope: the scalar double-precision ABI kernels Prefix##ForwardF64 /
// Prefix##BackwardF64 from `double Fwd(double x, const double* p)` and
// `double Bwd(double x, double y, double dy, const double* p)`.
#define GRAPHRUN_ACT_DEFINE_F64(Prefix, Fwd, Bwd)                                                                 \
  void Prefix##ForwardF64(const double* src, double* dst, size_t rows, size_t cols, const double* params) {       \
    for (size_t i = 0; i < rows * cols; ++i) dst[i] = Fwd(src[i], params);                                        \
  }                                                                                                               \
  void Prefix##BackwardF64(const double* src, const double* dst, const double* d_dst, double* d_src, size_t rows, \
                           size_t cols, const double* params) {                                                   \
    for (size_t i = 0; i < rows * cols; ++i) d_src[i] = Bwd(src[i], dst[i], d_dst[i], params);                    \
  }

// Inside HWY_NAMESPACE: the per-target kernels over n = rows * cols elements.
// Functor::Params must be constructible from `const double* params`.
#define GRAPHRUN_ACT_DEFINE_ELEMENTWISE(Prefix, Functor)                                                             \
  HWY_NOINLINE void Prefix##Forward(const float* src, float* dst, size_t n, const double* params) {                  \
    ForwardLoop<Functor>(src, dst, n, typename Functor::Params(params));                                             \
  }                                                                                                                  \
  HWY_NOINLINE void Prefix##Backward(const float* src, const float* dst, const float* d_dst, float* d_src, size_t n, \
                                     const double* params) {                                                         \
    BackwardLoop<Functor>(src, dst, d_dst, d_src, n, typename Functor::Params(params));                              \
  }

// At namespace graphrun_plugin scope under HWY_ONCE: the dispatch tables and the ABI kernels.
#define GRAPHRUN_ACT_EXPORT_ELEMENTWISE(Prefix)                                                               \
  HWY_EXPORT(Prefix##Forward);                                                                                \
  HWY_EXPORT(Prefix##Backward);                                                                               \
  void Prefix##ForwardF32(const float* src, float* dst, size_t rows, size_t cols, const double* params) {     \
    HWY_DYNAMIC_DISPATCH(Prefix##Forward)(src, dst, rows * cols, params);                                     \
  }                                                                                                           \
  void Prefix##BackwardF32(const float* src, const float* dst, const float* d_dst, float* d_src, size_t rows, \
                           size_t cols, const double* params) {                                               \
    HWY_DYNAMIC_DISPATCH(Prefix##Backward)(src, dst, d_dst, d_src, rows * cols, params);                      \
  }

#endif  // GRAPHRUN_PLUGINS_ACTIVATION_INL_MACROS_
