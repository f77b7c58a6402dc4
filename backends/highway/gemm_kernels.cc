// GEMM for graphrun::highway, the per-target code: C[M,N] (+)= op(A) * op(B), float, row-major,
// on the calling thread. Compiled once per Highway target (foreach_target.h); the threading in
// gemm.cc calls it through gemm_kernels.h.
//
// Structure (Goto/BLIS): for each column block of NC and depth block of KC, A is packed into
// slivers of MR rows (k-major, zero-padded) and B into panels of NR = 2 vectors (1 when N fits
// one vector; k-major, zero-padded), each panel right before its first use; an MR x NR
// micro-kernel keeps the C tile in registers and runs MulAdd over the depth block. Packing
// absorbs the transpose cases, so one micro-kernel serves all four; whole slivers of a
// row-major A are broadcast from their rows in place. Two shortcuts for batch-sized M
// (<= kSmallM), where a panel is used by few slivers and packing B would cost as much as the
// FMAs: a row-major B is read in place, and C = op(A) B^T is computed as C^T = B op(A)^T (B's
// rows broadcast in place, tiles stored transposed). A narrow N (2..12, an output layer) would leave most lanes
// of a panel empty: C = A op(B) then puts K in the lanes (gemm_small_n-inl.h), C = A^T op(B)
// is computed as C^T = op(B)^T A (M in the lanes), and the last few columns of a wide N also
// take K in the lanes (GemmNarrowTail). M == 1 or N == 1 goes to a GEMV (gemm_gemv-inl.h,
// memory bound); K == 1 to a rank-1 update.
// Each thread packs into its own thread_local buffers, which have a fixed size and are
// allocated on the thread's first GEMM only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "backends/highway/gemm_kernels.h"
#include "backends/highway/kernels.h"
#include "core/cpu_info.h"
#include "core/partition.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/gemm_kernels.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/aligned_allocator.h>
#include <hwy/cache_control.h>
#include <hwy/highway.h>
// clang-format on

#include "backends/highway/gemm_gemv-inl.h"
#include "backends/highway/gemm_small_n-inl.h"
#include "backends/highway/simd-inl.h"
#include "graphrun/plugin.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Rows of the micro-kernel: the C tile takes 2*kMR vector registers, plus 2 for B and one
// broadcast. AVX-512 has 32 registers (8 x 2 = 16 accumulators); AVX2/SSE have 16 (6 x 2).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr int64_t kMR = 8;
#elif HWY_TARGET == HWY_SCALAR
constexpr int64_t kMR = 4;
#else
constexpr int64_t kMR = 6;
#endif
// This target's blocking from the caches the CPU reports (gemm_blocking.h).
const GemmBlocking& Blocking() {
  static const GemmBlocking b = blocking_for(cache_sizes(), kMR, 2 * static_cast<int64_t>(hn::Lanes(DF())));
  return b;
}
// Per-thread packing buffers, allocated once on a thread's first GEMM and reused.
struct PackBuffers {
  hwy::AlignedFreeUniquePtr<float[]> a;
  hwy::AlignedFreeUniquePtr<float[]> b;
  hwy::AlignedFreeUniquePtr<float[]> partials;  // a GEMM split along K (gemm.cc)
  hwy::AlignedFreeUniquePtr<float[]> tail;      // op(B)^T of GemmNarrowTail's columns
};

PackBuffers& ThreadBuffers() {
  thread_local PackBuffers buffers;
  if (!buffers.a) {
    const GemmBlocking& b = Blocking();
    buffers.a = hwy::AllocateAligned<float>(static_cast<size_t>(b.mc * b.kc));
    buffers.b = hwy::AllocateAligned<float>(static_cast<size_t>(b.kc * b.nc));
    buffers.partials = hwy::AllocateAligned<float>(static_cast<size_t>(kSplitKCapacity));
    buffers.tail = hwy::AllocateAligned<float>(static_cast<size_t>(b.kc * HWY_MAX_BYTES / sizeof(float) / 2));
  }
  return buffers;
}

// Packs op(B)[k0 : k0+kc, j0 : j0+nc] into panels of nr columns: panel p holds kc rows of nr
// consecutive floats (columns past nc are zero).
void PackB(bool trans_b, const float* B, int64_t ldb, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t nr,
           float* HWY_RESTRICT dst) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (!trans_b) {
    // Row by row across the panels: each row of the block is read left to right, a stream the
    // prefetcher follows (panel by panel, rows ldb apart each missed the cache in turn).
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B + (k0 + k) * ldb + j0;
      // Rows a few ahead, each on another page: the prefetcher stops at page boundaries.
      if (k + 8 < kc)
        for (int64_t j = 0; j < nc; j += 16) hwy::Prefetch(src + 8 * ldb + j);
      for (int64_t jp = 0; jp < nc; jp += nr) {
        float* row = dst + jp * kc + k * nr;
        const int64_t w = std::min(nr, nc - jp);
        if (w == nr) {
          for (int64_t v = 0; v < nr; v += L) hn::Store(hn::LoadU(d, src + jp + v), d, row + v);
        } else {
          int64_t c = 0;
          for (; c < w; ++c) row[c] = src[jp + c];
          for (; c < nr; ++c) row[c] = 0.0f;
        }
      }
    }
    return;
  }
  for (int64_t jp = 0; jp < nc; jp += nr, dst += kc * nr) {
    const int64_t w = std::min(nr, nc - jp);
    // op(B)[k, j] = B[j * ldb + k]: source row j becomes packed column j.
    const float* src = B + (j0 + jp) * ldb + k0;
    TransposeBlock(src, ldb, w, kc, dst, nr);
    for (int64_t c = w; c < nr; ++c)
      for (int64_t k = 0; k < kc; ++k) dst[k * nr + c] = 0.0f;
  }
}

// Packs op(A)[i0 : i0+mc, k0 : k0+kc] into slivers of kMR rows: sliver s holds kc groups of
// kMR floats (rows past mc are zero).
void PackA(bool trans_a, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t k0, int64_t kc,
           float* HWY_RESTRICT dst) {
  for (int64_t ip = 0; ip < mc; ip += kMR, dst += kc * kMR) {
    const int64_t h = std::min(kMR, mc - ip);
    if (trans_a) {
      // op(A)[i, k] = A[k * lda + i]: kMR consecutive floats per k.
      const float* src = A + k0 * lda + i0 + ip;
      if (h == kMR) {  // a constant count: a vector copy, not a memcpy call per k
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t r = 0; r < kMR; ++r) dst[k * kMR + r] = src[k * lda + r];
        continue;
      }
      for (int64_t k = 0; k < kc; ++k) {
        int64_t r = 0;
        for (; r < h; ++r) dst[k * kMR + r] = src[k * lda + r];
        for (; r < kMR; ++r) dst[k * kMR + r] = 0.0f;
      }
    } else {
      const float* src = A + (i0 + ip) * lda + k0;
      if (h == kMR) {
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t r = 0; r < kMR; ++r) dst[k * kMR + r] = src[r * lda + k];
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          int64_t r = 0;
          for (; r < h; ++r) dst[k * kMR + r] = src[r * lda + k];
          for (; r < kMR; ++r) dst[k * kMR + r] = 0.0f;
        }
      }
    }
  }
}

// C[0:m, 0:n] (+)= sliver(pa) * panel(pb) over kc; the tile is kRows (kMR unless given) x (1 or 2
// vectors) in registers.
// load_c: add to the existing C (else overwrite it without reading).
// kNV2: the panel is 2 vectors wide (else 1, for narrow N such as 10 output classes).
// pb: kc rows of the panel, ldp apart (nr when packed, ldb when read from B in place).
// kAInPlace: pa is not a packed sliver but kRows rows of a row-major matrix, lda_in_place apart.
// kTransC: the tile is stored transposed, element (r, c) at C[c * ldc + r].
template <bool kNV2, bool kAInPlace = false, bool kTransC = false, int64_t kRows = kMR>
HWY_INLINE void MicroKernel(const float* HWY_RESTRICT pa, int64_t lda_in_place, const float* HWY_RESTRICT pb,
                            int64_t ldp, int64_t kc, float* HWY_RESTRICT C, int64_t ldc, int64_t m, int64_t n,
                            bool load_c) {
  const DF d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const int64_t nr = (kNV2 ? 2 : 1) * lanes;
  // The tile starts from the first product (kc >= 1), not from zeros: GCC zeroed the arrays
  // in memory (rep stos), which cost as much as the FMAs of a shallow tile (K = 10).
  VF acc0[kRows], acc1[kRows];
  {
    const VF b0 = hn::LoadU(d, pb);
    const VF b1 = kNV2 ? hn::LoadU(d, pb + lanes) : b0;
    for (int64_t r = 0; r < kRows; ++r) {
      const VF a = hn::Set(d, kAInPlace ? pa[r * lda_in_place] : pa[r]);
      acc0[r] = hn::Mul(a, b0);
      acc1[r] = kNV2 ? hn::Mul(a, b1) : hn::Zero(d);
    }
  }
  for (int64_t k = 1; k < kc; ++k) {
    const VF b0 = hn::LoadU(d, pb + k * ldp);
    const VF b1 = kNV2 ? hn::LoadU(d, pb + k * ldp + lanes) : b0;
    for (int64_t r = 0; r < kRows; ++r) {
      const VF a = hn::Set(d, kAInPlace ? pa[r * lda_in_place + k] : pa[k * kRows + r]);
      acc0[r] = hn::MulAdd(a, b0, acc0[r]);
      if (kNV2) acc1[r] = hn::MulAdd(a, b1, acc1[r]);
    }
  }
  if constexpr (kTransC) {
    HWY_ALIGN float tile[kRows * 2 * HWY_MAX_BYTES / sizeof(float)] = {};  // {}: GCC 12 false positive
    for (int64_t r = 0; r < kRows; ++r) {
      hn::Store(acc0[r], d, tile + r * nr);
      if (kNV2) hn::Store(acc1[r], d, tile + r * nr + lanes);
    }
    for (int64_t c = 0; c < n; ++c) {
      float* out = C + c * ldc;
      for (int64_t r = 0; r < m; ++r) out[r] = load_c ? out[r] + tile[r * nr + c] : tile[r * nr + c];
    }
    return;
  }
  if (m == kRows && n == nr) {
    for (int64_t r = 0; r < kRows; ++r) {
      float* c = C + r * ldc;
      if (load_c) {
        acc0[r] = hn::Add(acc0[r], hn::LoadU(d, c));
        if (kNV2) acc1[r] = hn::Add(acc1[r], hn::LoadU(d, c + lanes));
      }
      hn::StoreU(acc0[r], d, c);
      if (kNV2) hn::StoreU(acc1[r], d, c + lanes);
    }
    return;
  }
  const int64_t n0 = std::min(n, lanes);               // columns in the first vector
  const int64_t n1 = std::max<int64_t>(n - lanes, 0);  // and in the second
  const auto m0 = hn::FirstN(d, static_cast<size_t>(n0));
  const auto m1 = hn::FirstN(d, static_cast<size_t>(n1));
  for (int64_t r = 0; r < kRows; ++r) {
    if (r >= m) break;
    float* c = C + r * ldc;
    VF v0 = acc0[r], v1 = acc1[r];
    if (load_c) {
      v0 = hn::Add(v0, LoadPrefix(m0, d, c));
      if (n1 > 0) v1 = hn::Add(v1, LoadPrefix(m1, d, c + lanes));
    }
    hn::BlendedStore(v0, m0, d, c);
    if (n1 > 0) hn::BlendedStore(v1, m1, d, c + lanes);
  }
}

// C = op(A) B^T with few rows (the dX = dY W^T of a dense layer's backward pass), computed as
// C^T = B op(A)^T: slivers of kMR rows of B (row-major N x K) are read in place by the
// micro-kernel's broadcasts, op(A)^T (K x M, small) is packed, and the tiles are stored
// transposed. This avoids transposing all of B into panels, which costs as much as the FMAs.
void GemmSmallMTransB(bool trans_a, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                      int64_t ldb, float* C, int64_t ldc, bool accumulate, float* HWY_RESTRICT pa,
                      float* HWY_RESTRICT pb) {
  const DF d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const bool wide = M > lanes;
  const int64_t nr = (wide ? 2 : 1) * lanes;
  const int64_t kblocks = (K + Blocking().kc - 1) / Blocking().kc;
  const int64_t kc_max = (K + kblocks - 1) / kblocks;
  for (int64_t pc = 0; pc < K; pc += kc_max) {
    const int64_t kc = std::min(kc_max, K - pc);
    const bool load_c = accumulate || pc > 0;
    // op(A)^T[k, i] = op(A)[i, k]: A stored M x K is the transposed case of PackB.
    PackB(!trans_a, A, lda, pc, kc, 0, M, nr, pb);
    for (int64_t ir = 0; ir < N; ir += kMR) {
      const int64_t m = std::min(kMR, N - ir);
      const float* rows = B + ir * ldb + pc;
      if (m < kMR) PackA(false, B, ldb, ir, m, pc, kc, pa);  // rows past N read as zero
      for (int64_t jr = 0; jr < M; jr += nr) {
        const int64_t n = std::min(nr, M - jr);
        float* c = C + jr * ldc + ir;
        const float* panel = pb + jr * kc;
        if (m == kMR) {
          if (wide) {
            MicroKernel<true, true, true>(rows, ldb, panel, nr, kc, c, ldc, m, n, load_c);
          } else {
            MicroKernel<false, true, true>(rows, ldb, panel, nr, kc, c, ldc, m, n, load_c);
          }
        } else if (wide) {
          MicroKernel<true, false, true>(pa, 0, panel, nr, kc, c, ldc, m, n, load_c);
        } else {
          MicroKernel<false, false, true>(pa, 0, panel, nr, kc, c, ldc, m, n, load_c);
        }
      }
    }
  }
}

// C = A^T op(B) with a narrow N (2..12: the output layer's dW = X^T dY), computed as
// C^T = op(B)^T A: the long side M in the lanes, A's rows (K x M) read in place as panels,
// op(B)^T packed as one sliver of all N rows (rounded up to even), tiles stored transposed. The
// same depth blocks and order of sums as the general path; no lane is padding (N = 10 in a
// 16-lane panel leaves 6 empty) and no pass transposes A.
template <int64_t kRows>
void GemmSmallNTransA(bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                      int64_t ldb, float* C, int64_t ldc, bool accumulate, float* HWY_RESTRICT pb) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(DF()));
  // 2 vectors where kRows x 2 accumulators fit the registers (AVX-512's 32).
  constexpr bool kWide = kMR >= 8;
  const bool wide = kWide && M > lanes;
  const int64_t nr = (wide ? 2 : 1) * lanes;
  const int64_t kblocks = (K + Blocking().kc - 1) / Blocking().kc;
  const int64_t kc_max = (K + kblocks - 1) / kblocks;
  float* HWY_RESTRICT tail = pb + kRows * kc_max;  // a last, partial panel, zero-padded
  for (int64_t pc = 0; pc < K; pc += kc_max) {
    const int64_t kc = std::min(kc_max, K - pc);
    const bool load_c = accumulate || pc > 0;
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t r = 0; r < kRows; ++r)
        pb[k * kRows + r] = r >= N ? 0.0f : trans_b ? B[r * ldb + pc + k] : B[(pc + k) * ldb + r];
    for (int64_t jr = 0; jr < M; jr += nr) {
      const int64_t n = std::min(nr, M - jr);
      const float* panel = A + pc * lda + jr;
      int64_t ldp = lda;
      if (n < nr) {
        PackB(false, A, lda, pc, kc, jr, n, nr, tail);
        panel = tail;
        ldp = nr;
      }
      if (wide) {
        MicroKernel<kWide, false, true, kRows>(pb, 0, panel, ldp, kc, C + jr * ldc, ldc, N, n, load_c);
      } else {
        MicroKernel<false, false, true, kRows>(pb, 0, panel, ldp, kc, C + jr * ldc, ldc, N, n, load_c);
      }
    }
  }
}

// C[0:M, 0:N] (+)= a b^T, a GEMM with K == 1 (the weight gradient of one sample, x^T dY): one
// pass over C, no packing (which would cost more than the multiplies). a[i * inca], b
// contiguous. The product is rounded before it is added, as in the micro-kernel, so the result
// does not depend on the path.
void Rank1(const float* HWY_RESTRICT a, int64_t inca, const float* HWY_RESTRICT b, int64_t M, int64_t N,
           float* HWY_RESTRICT C, int64_t ldc, bool accumulate) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t nv = N / L * L;
  const auto tail = hn::FirstN(d, static_cast<size_t>(N - nv));
  for (int64_t i = 0; i < M; ++i) {
    const VF ai = hn::Set(d, a[i * inca]);
    float* HWY_RESTRICT c = C + i * ldc;
    int64_t j = 0;
    if (accumulate) {
      for (; j < nv; j += L) hn::StoreU(hn::Add(hn::LoadU(d, c + j), hn::Mul(ai, hn::LoadU(d, b + j))), d, c + j);
      if (j < N) {
        const VF prod = hn::Mul(ai, LoadPrefix(tail, d, b + j));
        hn::BlendedStore(hn::Add(LoadPrefix(tail, d, c + j), prod), tail, d, c + j);
      }
    } else {
      for (; j < nv; j += L) hn::StoreU(hn::Mul(ai, hn::LoadU(d, b + j)), d, c + j);
      if (j < N) hn::BlendedStore(hn::Mul(ai, LoadPrefix(tail, d, b + j)), tail, d, c + j);
    }
  }
}

// The epilogue (core/epilogue.h) on the finished block of rows [row0, row0 + rows) and columns
// [col0, col0 + cols) of this C (row stride ldc), a row at a time.
void ApplyEpilogue(const Epilogue& e, int64_t row0, int64_t col0, float* C, int64_t ldc, int64_t rows, int64_t cols) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t cv = cols / L * L;
  const auto tail = hn::FirstN(d, static_cast<size_t>(cols - cv));
  const Epilogue b = e.at(row0, col0, ldc);
  const size_t n = static_cast<size_t>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    float* HWY_RESTRICT c = C + (row0 + r) * ldc + col0;
    if (b.bias) {
      int64_t j = 0;
      for (; j < cv; j += L) hn::StoreU(hn::Add(hn::LoadU(d, c + j), hn::LoadU(d, b.bias + j)), d, c + j);
      if (j < cols)
        hn::BlendedStore(hn::Add(LoadPrefix(tail, d, c + j), LoadPrefix(tail, d, b.bias + j)), tail, d, c + j);
    }
    if (!b.activation) continue;
    if (b.backward_x) {
      b.activation->backward(b.backward_x + r * ldc, b.backward_fx + r * ldc, c, c, 1, n, b.activation_params);
    } else {
      b.activation->forward(c, b.activation_out ? b.activation_out + r * ldc : c, 1, n, b.activation_params);
    }
  }
}

// One thread's GEMM on a sub-problem (the caller has handled M, N == 0 and K == 0), and the
// epilogue (its bias at column 0 of this C) on each block as it is finished.
void GemmSerial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, const Epilogue* ep) {
  if (M == 1) {
    // C row = x * op(B), x = op(A) row 0 (stride lda when A is stored transposed).
    Gemv(A, trans_a ? lda : 1, B, ldb, trans_b, C, 1, K, N, accumulate);
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, 1, N);
    return;
  }
  if (K == 1 && !trans_b) {
    Rank1(A, trans_a ? 1 : lda, B, M, N, C, ldc, accumulate);
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, M, N);
    return;
  }
  PackBuffers& buffers = ThreadBuffers();
  const GemmBlocking& blocking = Blocking();
  if (gemm_small_n(trans_a, N, K)) {
    GemmSmallN(trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, buffers.a.get(), blocking.mc * blocking.kc,
               buffers.b.get(), blocking.kc * blocking.nc);
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, M, N);
    return;
  }
  if (trans_a && N >= 2 && N <= 12) {
    auto run = [&](auto rows) {
      GemmSmallNTransA<decltype(rows)::value>(trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, buffers.b.get());
    };
    if (N <= 4)
      run(std::integral_constant<int64_t, 4>());
    else if (N <= 8)
      run(std::integral_constant<int64_t, 8>());
    else if (N <= 10)
      run(std::integral_constant<int64_t, 10>());
    else
      run(std::integral_constant<int64_t, 12>());
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, M, N);
    return;
  }
  if (N == 1) {
    // C column = op(A) * b, i.e. C^T = b^T op(A)^T with op(A)^T[k, i] = op(A)[i, k].
    Gemv(B, trans_b ? 1 : ldb, A, lda, !trans_a, C, ldc, K, M, accumulate);
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, M, 1);
    return;
  }
  const DF d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const bool wide = N > lanes;  // 2-vector panels unless all of N fits one vector
  const int64_t nr = (wide ? 2 : 1) * lanes;
  // With few rows, each B panel is used by few slivers: the micro-kernel then reads full-width
  // panels of a row-major B in place (its loads overlap the FMAs, where a packing pass would
  // wait on memory alone). Many rows reuse a panel many times and need it packed: in place,
  // rows ldb apart would conflict in the L1 sets.
  const bool b_in_place = !trans_b && M <= kSmallM;
  // The micro-kernel broadcasts from whole slivers of a row-major A in place: only a last
  // partial sliver is packed, zero-padded. Each broadcast is a load either way, and packing
  // cost a transposing pass over A per column block (at M = 256 and 1024 in place was 1-12 %
  // faster, 1024^3 alike).
  const bool a_in_place = !trans_a;
  float* HWY_RESTRICT pa = buffers.a.get();
  float* HWY_RESTRICT pb = buffers.b.get();
  if (trans_b && M <= kSmallM && N >= kMR) {
    GemmSmallMTransB(trans_a, M, N, K, A, lda, B, ldb, C, ldc, accumulate, pa, pb);
    if (ep) ApplyEpilogue(*ep, 0, 0, C, ldc, M, N);
    return;
  }
  // Balanced blocks: e.g. K = 784 is split 196 x 4 rather than 256 x 3 + 16.
  const int64_t kblocks = (K + blocking.kc - 1) / blocking.kc;
  const int64_t kc_max = (K + kblocks - 1) / kblocks;
  // With several depth blocks each one passes over C's column block (M x nc): where all of M
  // fits, a wide N is cut into blocks that stay in L2 beside packed B (3/4 of it), not in L3.
  int64_t nc_cap = blocking.nc;
  if (kblocks > 1 && !trans_b && M <= 2 * blocking.mc && N > blocking.nc) {
    const int64_t l2 = std::max<int64_t>(cache_sizes().l2, 256 * 1024);
    nc_cap = std::clamp<int64_t>(l2 * 3 / 4 / ((M + kc_max) * 4) / nr * nr, 4 * nr, blocking.nc);
  }
  const int64_t nblocks = (N + nc_cap - 1) / nc_cap;
  const int64_t nc_max = std::min(nc_cap, ((N + nblocks - 1) / nblocks + nr - 1) / nr * nr);
  const int64_t mblocks = (M + blocking.mc - 1) / blocking.mc;
  const int64_t mc_max = std::min(blocking.mc, ((M + mblocks - 1) / mblocks + kMR - 1) / kMR * kMR);
  // A shallow depth block (K = 10: the output layer's dX) makes C's stores the cost: the tiles
  // then go along C's rows (each row a store stream the prefetcher follows), not down a panel
  // (rows ldc apart, every store a miss in the same L1 set). The same sums either way.
  const bool along_rows = kc_max <= 32;
  for (int64_t jc = 0; jc < N; jc += nc_max) {
    const int64_t nc = std::min(nc_max, N - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      const bool load_c = accumulate || pc > 0;
      for (int64_t ic = 0; ic < M; ic += mc_max) {
        const int64_t mc = std::min(mc_max, M - ic);
        const int64_t packed_from = a_in_place ? mc / kMR * kMR : 0;  // slivers before it are read in place
        if (packed_from < mc) PackA(trans_a, A, lda, ic + packed_from, mc - packed_from, pc, kc, pa);
        // The tile of rows ir and columns jr; a last panel of at most one vector (N = 100 leaves
        // 4 columns) runs the one-vector tile: half the FMAs of a zero-padded two-vector one.
        // A last panel of at most half a vector goes to GemmNarrowTail, after the others.
        const int64_t tail_n = nc % nr;
        // Not for a transposed B: with few rows GemmSmallMTransB takes it, which sums as the panels.
        const bool narrow_tail = !trans_a && !trans_b && wide && tail_n > 0 && tail_n <= lanes / 2 && kc >= 64;
        const int64_t full_nc = narrow_tail ? nc - tail_n : nc;
        auto tile = [&](int64_t ir, int64_t jr) HWY_ATTR __attribute__((always_inline)) {
          const int64_t n = std::min(nr, nc - jr), m = std::min(kMR, mc - ir);
          const bool in_place = b_in_place && n == nr;
          const float* panel = in_place ? B + pc * ldb + jc + jr : pb + jr * kc;
          const int64_t ldp = in_place ? ldb : nr;
          float* c = C + (ic + ir) * ldc + jc + jr;
          if (ir < packed_from) {
            const float* rows = A + (ic + ir) * lda + pc;
            if (wide && n > lanes) {
              MicroKernel<true, true>(rows, lda, panel, ldp, kc, c, ldc, m, n, load_c);
            } else {
              MicroKernel<false, true>(rows, lda, panel, ldp, kc, c, ldc, m, n, load_c);
            }
          } else if (wide && n > lanes) {
            MicroKernel<true>(pa + (ir - packed_from) * kc, 0, panel, ldp, kc, c, ldc, m, n, load_c);
          } else {
            MicroKernel<false>(pa + (ir - packed_from) * kc, 0, panel, ldp, kc, c, ldc, m, n, load_c);
          }
        };
        // B panels are packed during the first row block: a transposed B's right before their
        // first use, so the panel is still in L1 for every sliver of that block (all of M when
        // M <= mc); a row-major B's all at once, row by row (its rows ldb apart, read panel by
        // panel, each missed the cache: 13 % of the wide forward layer's time).
        const bool whole_block = !trans_b && !b_in_place;
        if (ic == 0 && whole_block) PackB(false, B, ldb, pc, kc, jc, nc, nr, pb);
        auto pack_panel = [&](int64_t jr) {
          const int64_t n = std::min(nr, nc - jr);
          if (ic == 0 && !whole_block && !(b_in_place && n == nr))
            PackB(trans_b, B, ldb, pc, kc, jc + jr, n, nr, pb + jr * kc);
        };
        if (along_rows) {
          for (int64_t jr = 0; jr < full_nc; jr += nr) pack_panel(jr);
          for (int64_t ir = 0; ir < mc; ir += kMR)
            for (int64_t jr = 0; jr < full_nc; jr += nr) tile(ir, jr);
        } else {
          // A transposed B's panels come from rows of B (a dense layer's W) that are not in any
          // cache: while the tiles of one panel run, the next panel's source is fetched into L1
          // a few lines per tile, so packing it does not wait on memory (dX 256 x 4096 x 4096:
          // +0-5 %, the gain where other tenants load the memory bus).
          const int64_t slivers = (mc + kMR - 1) / kMR;
          const int64_t rows_per_sliver = (nr + slivers - 1) / slivers;
          for (int64_t jr = 0; jr < full_nc; jr += nr) {
            pack_panel(jr);
            const int64_t next = jr + nr;
            const int64_t next_rows = trans_b && ic == 0 && next < full_nc ? std::min(nr, nc - next) : 0;
            for (int64_t ir = 0, s = 0; ir < mc; ir += kMR, ++s) {
              const int64_t r0 = s * rows_per_sliver;
              if (r0 < next_rows)
                PrefetchRows(B + (jc + next) * ldb + pc, ldb, r0, std::min(next_rows, r0 + rows_per_sliver), kc);
              tile(ir, jr);
            }
          }
        }
        if (narrow_tail) {
          const int64_t j = jc + full_nc;
          GemmNarrowTail(mc, tail_n, kc, A + ic * lda + pc, lda, B + pc * ldb + j, ldb, C + ic * ldc + j, ldc, load_c,
                         buffers.tail.get());
        }
        // The block's sums are complete after the last depth block; it is still in L2.
        if (ep && pc + kc == K) ApplyEpilogue(*ep, ic, jc, C, ldc, mc, nc);
      }
    }
  }
}

// The partial products of row blocks [b0, b1) of a GEMV y = x op(W) (W not transposed, n
// columns), block b's into out + (b - b0) * n: one thread's share of a GEMV split along K.
void GemvBlockPartials(const float* x, int64_t incx, const float* W, int64_t ldw, int64_t kdim, int64_t n, int64_t b0,
                       int64_t b1, float* out) {
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t k0 = b * kRowGrain, kc = std::min(kRowGrain, kdim - k0);
    Gemv(x + k0 * incx, incx, W + k0 * ldw, ldw, false, out + (b - b0) * n, 1, kc, n, false);
  }
}

// This thread's packing buffer for B, which a GEMV split along K uses for its partials.
float* PartialsBuffer() { return ThreadBuffers().b.get(); }
float* SplitKBuffer() { return ThreadBuffers().partials.get(); }

int64_t TargetValue() { return HWY_TARGET; }
const GemmBlocking* TargetBlocking() { return &Blocking(); }

void PrepareThread() { ThreadBuffers(); }

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(GemmSerial);
HWY_EXPORT(ApplyEpilogue);
HWY_EXPORT(GemvBlockPartials);
HWY_EXPORT(PartialsBuffer);
HWY_EXPORT(SplitKBuffer);
HWY_EXPORT(TargetValue);
HWY_EXPORT(TargetBlocking);
HWY_EXPORT(PrepareThread);

void prepare_thread_buffers() { HWY_DYNAMIC_DISPATCH(PrepareThread)(); }

const char* target_name() { return hwy::TargetName(HWY_DYNAMIC_DISPATCH(TargetValue)()); }

void gemm_serial_part(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                      const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, const Epilogue* ep) {
  HWY_DYNAMIC_DISPATCH(GemmSerial)(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, ep);
}

void apply_epilogue(const Epilogue& e, int64_t row0, int64_t col0, float* C, int64_t ldc, int64_t rows, int64_t cols) {
  HWY_DYNAMIC_DISPATCH(ApplyEpilogue)(e, row0, col0, C, ldc, rows, cols);
}

void gemv_block_partials(const float* x, int64_t incx, const float* W, int64_t ldw, int64_t kdim, int64_t n, int64_t b0,
                         int64_t b1, float* out) {
  HWY_DYNAMIC_DISPATCH(GemvBlockPartials)(x, incx, W, ldw, kdim, n, b0, b1, out);
}

const GemmBlocking& gemm_blocking() { return *HWY_DYNAMIC_DISPATCH(TargetBlocking)(); }

float* partials_buffer() { return HWY_DYNAMIC_DISPATCH(PartialsBuffer)(); }
float* split_k_buffer() { return HWY_DYNAMIC_DISPATCH(SplitKBuffer)(); }

}  // namespace graphrun::highway
#endif  // HWY_ONCE
