// The Highway GEMM's path for a narrow N and a deep K (gemm_small_n in gemm_kernels.h), e.g. a
// 10-class output layer, 256 x 4096 times 4096 x 10: C = A op(B) with K in the lanes. Panels of
// N in the lanes would leave 6 of 16 lanes empty for N = 10, where dot products fill them all.
// Internal to gemm_kernels.cc, which includes it once per target (Highway's -inl.h convention,
// hence the toggling include guard).
//
// Each tile of kSmallNRows rows of A (read in place) and up to 5 columns of op(B)^T keeps one
// vector of partial sums per element of C: lane l adds the products of k = l (mod lanes) in
// order of k. K is taken in chunks whose op(B)^T (B transposed into a buffer, or B itself when
// it is stored transposed) stays in L1; between chunks the partial vectors wait in a buffer.
// The lanes are summed once, at the end. Chunks are whole vectors, so every element of C is
// summed in one order whatever the chunk, the row block or the thread that computes it.
#if defined(GRAPHRUN_BACKENDS_HIGHWAY_GEMM_SMALL_N_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GRAPHRUN_BACKENDS_HIGHWAY_GEMM_SMALL_N_INL_H_
#undef GRAPHRUN_BACKENDS_HIGHWAY_GEMM_SMALL_N_INL_H_
#else
#define GRAPHRUN_BACKENDS_HIGHWAY_GEMM_SMALL_N_INL_H_
#endif

#include <algorithm>
#include <cstdint>

#include <hwy/highway.h>

#include "backends/highway/simd-inl.h"
#include "core/cpu_info.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rows x columns of a tile: its accumulators plus the rows' vectors and one of op(B)^T fit the
// registers (AVX-512: 20 + 4 + 1 of 32; AVX2 and SSE: 10 + 2 + 1 of 16).
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr int kSmallNRows = 4;
#else
constexpr int kSmallNRows = 2;
#endif
constexpr int kSmallNCols = 5;

// Tile rows [0, kR) x columns [0, kC) over a chunk of kc: a rows lda apart, bt (op(B)^T) rows
// ldbt apart, the partial vectors at part (element (r, c) at (r * n + c) * lanes). first: start
// from zero; c_out: the last chunk, whose sums go to C (added when accumulate), not to part
// (null when the depth is one chunk).
template <int kR, int kC>
HWY_INLINE void SmallNTile(const float* HWY_RESTRICT a, int64_t lda, const float* HWY_RESTRICT bt, int64_t ldbt,
                           int64_t kc, float* HWY_RESTRICT part, int64_t n, bool first, float* HWY_RESTRICT c_out,
                           int64_t ldc, bool accumulate) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  V acc[kR][kC];
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) acc[r][c] = first ? hn::Zero(d) : hn::Load(d, part + (r * n + c) * L);
  const int64_t kv = kc / L * L;
  for (int64_t k = 0; k < kv; k += L) {
    V av[kR];
    for (int r = 0; r < kR; ++r) av[r] = hn::LoadU(d, a + r * lda + k);
    for (int c = 0; c < kC; ++c) {
      const V b = hn::LoadU(d, bt + c * ldbt + k);
      for (int r = 0; r < kR; ++r) acc[r][c] = hn::MulAdd(av[r], b, acc[r][c]);
    }
  }
  if (kv < kc) {  // the last chunk's partial vector: zero past K
    const auto m = hn::FirstN(d, static_cast<size_t>(kc - kv));
    V av[kR];
    for (int r = 0; r < kR; ++r) av[r] = LoadPrefix(m, d, a + r * lda + kv);
    for (int c = 0; c < kC; ++c) {
      const V b = LoadPrefix(m, d, bt + c * ldbt + kv);
      for (int r = 0; r < kR; ++r) acc[r][c] = hn::MulAdd(av[r], b, acc[r][c]);
    }
  }
  if (c_out || !part) {  // the last chunk (part is null where there is one chunk)
    for (int r = 0; r < kR; ++r) {
      for (int c = 0; c < kC; ++c) {
        const float s = hn::GetLane(hn::SumOfLanes(d, acc[r][c]));
        float& out = c_out[r * ldc + c];
        out = accumulate ? out + s : s;
      }
    }
    return;
  }
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) hn::Store(acc[r][c], d, part + (r * n + c) * L);
}

// SmallNTile for a tile of rows x cols (1..kR x 1..kSmallNCols), picked at run time.
template <int kR>
HWY_INLINE void SmallNTileCols(int64_t cols, const float* a, int64_t lda, const float* bt, int64_t ldbt, int64_t kc,
                               float* part, int64_t n, bool first, float* c_out, int64_t ldc, bool accumulate) {
  switch (cols) {
    case 5:
      return SmallNTile<kR, 5>(a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
    case 4:
      return SmallNTile<kR, 4>(a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
    case 3:
      return SmallNTile<kR, 3>(a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
    case 2:
      return SmallNTile<kR, 2>(a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
    default:
      return SmallNTile<kR, 1>(a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
  }
}

HWY_INLINE void SmallNTileAny(int64_t rows, int64_t cols, const float* a, int64_t lda, const float* bt, int64_t ldbt,
                              int64_t kc, float* part, int64_t n, bool first, float* c_out, int64_t ldc,
                              bool accumulate) {
  if constexpr (kSmallNRows == 4) {
    if (rows == 4) return SmallNTileCols<4>(cols, a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
    if (rows == 3) return SmallNTileCols<3>(cols, a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
  }
  if (rows == 2) return SmallNTileCols<2>(cols, a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
  SmallNTileCols<1>(cols, a, lda, bt, ldbt, kc, part, n, first, c_out, ldc, accumulate);
}

// C[0:M, 0:N] (+)= A op(B), A row-major, for gemm_small_n's shapes. bt_buf holds a chunk of
// op(B)^T (when B is not stored transposed; bt_floats >= N * lanes floats) and part_buf the
// partial vectors of a row block (part_floats >= kSmallNRows * N * lanes floats).
void GemmSmallN(bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                float* C, int64_t ldc, bool accumulate, float* HWY_RESTRICT bt_buf, int64_t bt_floats,
                float* HWY_RESTRICT part_buf, int64_t part_floats) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  // A chunk of op(B)^T in half of L1d, in whole vectors.
  const int64_t l1 = cache_sizes().l1d > 0 ? cache_sizes().l1d : 32 * 1024;
  const int64_t chunk = std::max(L, std::min(l1 / 2 / (N * 4), bt_floats / N) / L * L);
  const int64_t block = std::max<int64_t>(kSmallNRows, part_floats / (N * L) / kSmallNRows * kSmallNRows);
  const int64_t groups = (N + kSmallNCols - 1) / kSmallNCols;
  for (int64_t i0 = 0; i0 < M; i0 += block) {
    const int64_t mb = std::min(block, M - i0);
    for (int64_t k0 = 0; k0 < K; k0 += chunk) {
      const int64_t kc = std::min(chunk, K - k0);
      const float* bt = B + k0;
      int64_t ldbt = ldb;
      if (!trans_b) {
        // op(B)^T[j, k] = B[k, j]: 4 x 4 blocks, then the leftover columns and rows.
        const float* src = B + k0 * ldb;
        const int64_t n4 = N / 4 * 4, k4 = kc / 4 * 4;
        for (int64_t j = 0; j < n4; j += 4) {
          for (int64_t k = 0; k < k4; k += 4) Transpose4x4(src + k * ldb + j, ldb, bt_buf + j * chunk + k, chunk);
          for (int64_t k = k4; k < kc; ++k)
            for (int64_t q = 0; q < 4; ++q) bt_buf[(j + q) * chunk + k] = src[k * ldb + j + q];
        }
        for (int64_t k = 0; k < kc; ++k)
          for (int64_t j = n4; j < N; ++j) bt_buf[j * chunk + k] = src[k * ldb + j];
        bt = bt_buf;
        ldbt = chunk;
      }
      const bool first = k0 == 0, last = k0 + kc == K;
      for (int64_t r = 0; r < mb; r += kSmallNRows) {
        const int64_t rows = std::min<int64_t>(kSmallNRows, mb - r);
        const float* a = A + (i0 + r) * lda + k0;
        for (int64_t g = 0; g < groups; ++g) {
          const int64_t j0 = N * g / groups, j1 = N * (g + 1) / groups;
          float* c_out = last ? C + (i0 + r) * ldc + j0 : nullptr;
          SmallNTileAny(rows, j1 - j0, a, lda, bt + j0 * ldbt, ldbt, kc, part_buf + (r * N + j0) * L, N, first, c_out,
                        ldc, accumulate);
        }
      }
    }
  }
}

// C[0:M, 0:n] (+)= A B over one depth block of kc, for the last few columns of a wide N (N = 100
// leaves 4 after 3 panels of 32, which a 16-lane tile would compute 4 times over): the tiles
// above with K in the lanes, summed per depth block as the general path adds them, so a GEMM
// split along K (gemm.cc) adds the same block sums. A is read in place; B's n columns are
// transposed into bt_buf (n x kc).
void GemmNarrowTail(int64_t M, int64_t n, int64_t kc, const float* A, int64_t lda, const float* B, int64_t ldb,
                    float* C, int64_t ldc, bool load_c, float* HWY_RESTRICT bt_buf) {
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t j = 0; j < n; ++j) bt_buf[j * kc + k] = B[k * ldb + j];
  const int64_t groups = (n + kSmallNCols - 1) / kSmallNCols;
  for (int64_t r = 0; r < M; r += kSmallNRows) {
    const int64_t rows = std::min<int64_t>(kSmallNRows, M - r);
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t j0 = n * g / groups, j1 = n * (g + 1) / groups;
      SmallNTileAny(rows, j1 - j0, A + r * lda, lda, bt_buf + j0 * kc, kc, kc, nullptr, n, true, C + r * ldc + j0, ldc,
                    load_c);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#endif  // GRAPHRUN_BACKENDS_HIGHWAY_GEMM_SMALL_N_INL_H_
