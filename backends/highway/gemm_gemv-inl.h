// The Highway GEMM's GEMV (M == 1 or N == 1, memory bound): internal to gemm_kernels.cc, which
// includes it once per target (Highway's -inl.h convention, hence the toggling include guard).
#if defined(GRAPHRUN_BACKENDS_HIGHWAY_GEMM_GEMV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRAPHRUN_BACKENDS_HIGHWAY_GEMM_GEMV_INL_H_
#undef GRAPHRUN_BACKENDS_HIGHWAY_GEMM_GEMV_INL_H_
#else
#define GRAPHRUN_BACKENDS_HIGHWAY_GEMM_GEMV_INL_H_
#endif

#include <algorithm>
#include <cstdint>

#include <hwy/highway.h>

#include "backends/highway/simd-inl.h"
#include "core/partition.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// y[j * incy] (+)= sum_k x[k * incx] * op(W)[k, j] for j < n, k < kdim, where
// op(W)[k, j] = W[k * ldw + j] (w_trans false) or W[j * ldw + k] (w_trans true).
inline void Gemv(const float* x, int64_t incx, const float* W, int64_t ldw, bool w_trans, float* y, int64_t incy,
                 int64_t kdim, int64_t n, bool accumulate) {
  const hn::ScalableTag<float> d;
  using VF = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  // x is gathered into a contiguous stack buffer chunk by chunk, and y is summed chunk by chunk:
  // chunks are the row blocks of core/partition.h, so a GEMV split along K across threads
  // (gemm.cc) adds the same partial products in the same order.
  constexpr int64_t kChunk = kRowGrain;
  HWY_ALIGN float xbuf[kChunk];
  HWY_ALIGN float ybuf[4 * HWY_MAX_BYTES / sizeof(float)];
  for (int64_t k0 = 0; k0 < kdim; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, kdim - k0);
    const bool acc_y = accumulate || k0 > 0;
    const float* xs = x + k0 * incx;
    if (incx != 1) {
      for (int64_t k = 0; k < kc; ++k) xbuf[k] = xs[k * incx];
      xs = xbuf;
    }
    if (!w_trans) {
      // Strips of 4 vectors of y stay in registers over the whole chunk; W rows stream.
      for (int64_t j = 0; j < n; j += 4 * L) {
        const int64_t w = std::min(4 * L, n - j);
        VF a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
        const float* wp = W + k0 * ldw + j;
        if (w == 4 * L) {
          for (int64_t k = 0; k < kc; ++k, wp += ldw) {
            const VF xv = hn::Set(d, xs[k]);
            a0 = hn::MulAdd(xv, hn::LoadU(d, wp), a0);
            a1 = hn::MulAdd(xv, hn::LoadU(d, wp + L), a1);
            a2 = hn::MulAdd(xv, hn::LoadU(d, wp + 2 * L), a2);
            a3 = hn::MulAdd(xv, hn::LoadU(d, wp + 3 * L), a3);
          }
          hn::Store(a0, d, ybuf);
          hn::Store(a1, d, ybuf + L);
          hn::Store(a2, d, ybuf + 2 * L);
          hn::Store(a3, d, ybuf + 3 * L);
        } else {
          for (int64_t v = 0; v < w; v += L) {
            const auto mask = hn::FirstN(d, static_cast<size_t>(std::min(L, w - v)));
            VF a = hn::Zero(d), b = hn::Zero(d);
            const float* p = wp + v;
            int64_t k = 0;
            for (; k + 2 <= kc; k += 2, p += 2 * ldw) {
              a = hn::MulAdd(hn::Set(d, xs[k]), LoadPrefix(mask, d, p), a);
              b = hn::MulAdd(hn::Set(d, xs[k + 1]), LoadPrefix(mask, d, p + ldw), b);
            }
            if (k < kc) a = hn::MulAdd(hn::Set(d, xs[k]), LoadPrefix(mask, d, p), a);
            hn::Store(hn::Add(a, b), d, ybuf + v);
          }
        }
        for (int64_t c = 0; c < w; ++c) {
          float& out = y[(j + c) * incy];
          out = acc_y ? out + ybuf[c] : ybuf[c];
        }
      }
    } else {
      // Dot products: 4 rows of W at a time, 2 accumulators each, reduced at the end.
      const int64_t kv = kc / L * L;
      const auto tail = hn::FirstN(d, static_cast<size_t>(kc - kv));
      int64_t j = 0;
      for (; j + 4 <= n; j += 4) {
        const float* w0 = W + j * ldw + k0;
        const float* w1 = w0 + ldw;
        const float* w2 = w1 + ldw;
        const float* w3 = w2 + ldw;
        VF a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
        for (int64_t k = 0; k < kv; k += L) {
          const VF xv = hn::LoadU(d, xs + k);
          a0 = hn::MulAdd(xv, hn::LoadU(d, w0 + k), a0);
          a1 = hn::MulAdd(xv, hn::LoadU(d, w1 + k), a1);
          a2 = hn::MulAdd(xv, hn::LoadU(d, w2 + k), a2);
          a3 = hn::MulAdd(xv, hn::LoadU(d, w3 + k), a3);
        }
        if (kv < kc) {
          const VF xv = LoadPrefix(tail, d, xs + kv);
          a0 = hn::MulAdd(xv, LoadPrefix(tail, d, w0 + kv), a0);
          a1 = hn::MulAdd(xv, LoadPrefix(tail, d, w1 + kv), a1);
          a2 = hn::MulAdd(xv, LoadPrefix(tail, d, w2 + kv), a2);
          a3 = hn::MulAdd(xv, LoadPrefix(tail, d, w3 + kv), a3);
        }
        const float s[4] = {hn::GetLane(hn::SumOfLanes(d, a0)), hn::GetLane(hn::SumOfLanes(d, a1)),
                            hn::GetLane(hn::SumOfLanes(d, a2)), hn::GetLane(hn::SumOfLanes(d, a3))};
        for (int64_t c = 0; c < 4; ++c) {
          float& out = y[(j + c) * incy];
          out = acc_y ? out + s[c] : s[c];
        }
      }
      for (; j < n; ++j) {
        const float* w0 = W + j * ldw + k0;
        VF a0 = hn::Zero(d);
        for (int64_t k = 0; k < kv; k += L) a0 = hn::MulAdd(hn::LoadU(d, xs + k), hn::LoadU(d, w0 + k), a0);
        if (kv < kc) a0 = hn::MulAdd(LoadPrefix(tail, d, xs + kv), LoadPrefix(tail, d, w0 + kv), a0);
        const float s = hn::GetLane(hn::SumOfLanes(d, a0));
        float& out = y[j * incy];
        out = acc_y ? out + s : s;
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#endif  // GRAPHRUN_BACKENDS_HIGHWAY_GEMM_GEMV_INL_H_
