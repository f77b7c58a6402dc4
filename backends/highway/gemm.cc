// GEMM for graphrun::highway, the threading: gemm() splits a product among the pool's threads
// and runs each part with the per-target code of gemm_kernels.cc (through gemm_kernels.h).
// Plain C++, compiled once.
//
// Threads split K when M is batch-sized and K has several depth blocks (a GEMV too), so each
// thread reads its own rows of a weight matrix (core/partition.h), and add the partial
// products in GemmSerial's order; a rank-1 update splits rows; up to 256 rows, each thread
// takes row chunks of at most kSmallM (B read in place); otherwise N is split into whole
// panels (or M into row blocks when N is narrow). Each element is summed in the same order
// whatever the split and thread count.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "backends/highway/gemm_kernels.h"
#include "backends/highway/kernels.h"
#include "core/cpu_info.h"
#include "core/partition.h"

namespace graphrun::highway {

namespace {

constexpr int64_t kMaxParts = 64;

// y (+)= x W with M == 1, split along K: each thread computes the partial products of its row
// blocks of W (the rows the optimizer step then updates on the same thread), and the caller
// adds them up block by block in order, as the serial GEMV does. False when the partials do
// not fit the threads' buffers (the caller then splits N).
bool GemvSplitK(const float* x, int64_t incx, const float* W, int64_t ldw, int64_t K, int64_t N, float* y,
                bool accumulate, const Epilogue* ep, int64_t threads, ThreadPool& pool) {
  const int64_t blocks = (K + kRowGrain - 1) / kRowGrain;
  const int64_t parts = std::min({threads, blocks, kMaxParts});
  // Task t writes at t * per_task in its thread's buffer: a thread that runs two tasks (the
  // caller, when a worker is late) keeps both.
  const int64_t per_task = (blocks + parts - 1) / parts * N;
  // Room for partial products in one thread's B packing buffer (kc x nc floats).
  const GemmBlocking& blocking = gemm_blocking();
  if (parts < 2 || parts * per_task > blocking.kc * blocking.nc) return false;
  const float* partials[kMaxParts];
  pool.run(parts, [&](int64_t t) {
    const int64_t b0 = split_rows(K, parts, t) / kRowGrain,
                  b1 = (split_rows(K, parts, t + 1) + kRowGrain - 1) / kRowGrain;
    float* out = partials_buffer() + t * per_task;
    gemv_block_partials(x, incx, W, ldw, K, N, b0, b1, out);
    partials[t] = out;
  });
  for (int64_t t = 0; t < parts; ++t) {
    const int64_t b0 = split_rows(K, parts, t) / kRowGrain,
                  b1 = (split_rows(K, parts, t + 1) + kRowGrain - 1) / kRowGrain;
    for (int64_t b = b0; b < b1; ++b) {
      const float* p = partials[t] + (b - b0) * N;
      if (b == 0 && !accumulate) {
        std::memcpy(y, p, sizeof(float) * static_cast<size_t>(N));
      } else {
        for (int64_t j = 0; j < N; ++j) y[j] += p[j];
      }
    }
  }
  if (ep) apply_epilogue(*ep, 0, 0, y, N, 1, N);
  return true;
}

// C (+)= op(A) B with few rows (the forward pass of a dense layer at a batch size of at most
// kSmallM) split along K, in GemmSerial's depth blocks: each thread computes the partial
// products of its blocks, i.e. of its rows of B (the weight rows the optimizer then updates on
// the same thread, core/partition.h, so W stays in that core's cache), and then the threads
// add them up, each a share of C's rows, block by block in order: exactly GemmSerial's sums.
// False when there are fewer than two depth blocks or the partials do not fit (the caller then
// splits N).
bool GemmSplitK(bool trans_a, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
                float* C, int64_t ldc, bool accumulate, const Epilogue* ep, int64_t threads, ThreadPool& pool) {
  const int64_t kc = gemm_blocking().kc;
  const int64_t kblocks = (K + kc - 1) / kc;
  if (kblocks < 2 || M < 2 || M > kSmallM || N < 2) return false;
  const int64_t kc_max = (K + kblocks - 1) / kblocks;  // GemmSerial's balanced blocks
  const int64_t parts = std::min({threads, kblocks, kMaxParts});
  const int64_t per_block = M * N;
  // Task t writes at t * per_task in its thread's buffer: a thread that runs two tasks (the
  // caller, when a worker is late) keeps both.
  const int64_t per_task = (kblocks + parts - 1) / parts * per_block;
  if (parts * per_task > kSplitKCapacity) return false;
  const float* partials[kMaxParts];
  pool.run(parts, [&](int64_t t) {
    float* out = split_k_buffer() + t * per_task;
    for (int64_t b = kblocks * t / parts; b < kblocks * (t + 1) / parts; ++b) {
      const int64_t pc = b * kc_max, kc = std::min(kc_max, K - pc);
      gemm_serial_part(trans_a, false, M, N, kc, trans_a ? A + pc * lda : A + pc, lda, B + pc * ldb, ldb,
                       out + (b - kblocks * t / parts) * per_block, N, false, nullptr);
    }
    partials[t] = out;
  });
  pool.run(parts, [&](int64_t t) {
    for (int64_t i = M * t / parts; i < M * (t + 1) / parts; ++i) {
      float* __restrict__ c = C + i * ldc;
      for (int64_t u = 0; u < parts; ++u) {
        for (int64_t b = kblocks * u / parts; b < kblocks * (u + 1) / parts; ++b) {
          const float* __restrict__ p = partials[u] + (b - kblocks * u / parts) * per_block + i * N;
          if (b == 0 && !accumulate) {
            std::memcpy(c, p, sizeof(float) * static_cast<size_t>(N));
          } else {
            for (int64_t j = 0; j < N; ++j) c[j] += p[j];
          }
        }
      }
      if (ep) apply_epilogue(*ep, i, 0, C, ldc, 1, N);
    }
  });
  return true;
}

// Handles the degenerate shapes; false when there is a product left to compute.
bool TrivialGemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb, float* C,
                 int64_t ldc, bool accumulate) {
  // Shapes and strides were validated when the graph was built; checked again in debug builds.
  assert(M >= 0 && N >= 0 && K >= 0);
  assert(lda >= (trans_a ? M : K) && ldb >= (trans_b ? K : N));
  assert(ldc >= N);
  (void)trans_a, (void)trans_b, (void)lda, (void)ldb;
  if (M <= 0 || N <= 0) return true;
  if (K > 0) return false;
  if (!accumulate)
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, sizeof(float) * N);
  return true;
}

}  // namespace

void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (TrivialGemm(trans_a, trans_b, M, N, K, lda, ldb, C, ldc, accumulate)) return;
  gemm_serial_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, nullptr);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float* C, int64_t ldc, bool accumulate, ThreadPool& pool, const Epilogue* ep) {
  if (TrivialGemm(trans_a, trans_b, M, N, K, lda, ldb, C, ldc, accumulate)) {
    if (ep && M > 0 && N > 0) apply_epilogue(*ep, 0, 0, C, ldc, M, N);
    return;
  }
  const int64_t threads = gemm_tasks(M, N, K, pool.size());
  if (threads == 1) {
    gemm_serial_part(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, ep);
    return;
  }
  // One row times a row-major B (the forward pass at batch 1): split K, so each thread reads
  // whole rows of B, the rows the optimizer then updates on that thread (core/partition.h).
  if (M == 1 && !trans_b && GemvSplitK(A, trans_a ? lda : 1, B, ldb, K, N, C, accumulate, ep, threads, pool)) return;
  // The narrow-N path sums each element in one order over all of K: split its rows only.
  const bool small_n = gemm_small_n(trans_a, N, K);
  if (!trans_b && !small_n && GemmSplitK(trans_a, M, N, K, A, lda, B, ldb, C, ldc, accumulate, ep, threads, pool))
    return;
  // A rank-1 update (K == 1, the batch-1 weight gradient) splits its rows the same way.
  if (K == 1 && !trans_b && M >= 2 * kRowGrain) {
    const int64_t parts = std::min<int64_t>(threads, (M + kRowGrain - 1) / kRowGrain);
    pool.run(parts, [&](int64_t t) {
      const int64_t i0 = split_rows(M, parts, t), i1 = split_rows(M, parts, t + 1);
      if (i1 <= i0) return;
      const float* Ai = trans_a ? A + i0 : A + i0 * lda;
      const Epilogue part = ep ? ep->at(i0, 0, ldc) : Epilogue{};
      gemm_serial_part(trans_a, trans_b, i1 - i0, N, K, Ai, lda, B, ldb, C + i0 * ldc, ldc, accumulate,
                       ep ? &part : nullptr);
    });
    return;
  }
  // Otherwise split N into whole micro-kernel panels (32 columns covers every target's NR)
  // when there are enough of them, else M into row blocks. No part is a single column or row:
  // GemmSerial makes those a GEMV, which sums in another order, and the result would then
  // depend on the thread count. A last panel or block of one joins the one before it.
  constexpr int64_t kPanel = 32, kBlock = 8;
  auto count = [](int64_t n, int64_t unit) {
    return std::max<int64_t>(1, n % unit == 1 ? n / unit : (n + unit - 1) / unit);
  };
  auto bound = [](int64_t n, int64_t units, int64_t unit, int64_t parts, int64_t t) {
    return t == parts ? n : std::min(n, units * t / parts * unit);
  };
  const int64_t panels = count(N, kPanel);
  // A batch of up to 4 x kSmallM rows times a row-major B: each thread takes its rows in chunks
  // of at most kSmallM, which read B in place. Split by columns instead, every thread would
  // pack all of op(A) (measured at 256 x 784 x 500 on 2 threads: 328-338 GFLOP/s by row chunks,
  // 295-322 by columns); larger M reuses packed B panels over more rows (1024^3 is faster split
  // by columns). Each thread then reads all of B, so only while B is small enough to come back
  // from the shared cache (at most twice a core's L2): a wide layer's B (4096 x 4096, 64 MiB)
  // would cross memory once per thread, where splitting columns reads it once.
  const bool b_rereadable = 4 * K * N <= 2 * std::max<int64_t>(cache_sizes().l2, 256 * 1024);
  if (!trans_b && !small_n && M > kSmallM && M <= 4 * kSmallM && N > 1 && b_rereadable) {
    const int64_t blocks = count(M, kBlock);
    const int64_t parts = std::min(threads, blocks);
    pool.run(parts, [&](int64_t t) {
      const int64_t i0 = bound(M, blocks, kBlock, parts, t), i1 = bound(M, blocks, kBlock, parts, t + 1);
      for (int64_t i = i0; i < i1;) {
        int64_t m = std::min(kSmallM, i1 - i);
        if (i1 - i - m == 1) ++m;  // no single row (a GEMV)
        const float* Ai = trans_a ? A + i : A + i * lda;
        const Epilogue part = ep ? ep->at(i, 0, ldc) : Epilogue{};
        gemm_serial_part(trans_a, trans_b, m, N, K, Ai, lda, B, ldb, C + i * ldc, ldc, accumulate,
                         ep ? &part : nullptr);
        i += m;
      }
    });
    return;
  }
  // A last part of a few columns would take GemmSerial's narrow-N path, which sums in another
  // order than the panels of the whole: split rows then.
  const int64_t col_parts = std::min(threads, panels);
  const bool narrow_part =
      col_parts > 1 && gemm_small_n(trans_a, N - bound(N, panels, kPanel, col_parts, col_parts - 1), K);
  // Whole panels split unevenly when there are few (N = 100: 64 and 36 columns on 2 threads);
  // with rows enough, rows balance better.
  const int64_t widest = (panels + col_parts - 1) / col_parts * kPanel;
  const bool uneven = 100 * widest * col_parts > 115 * N && M >= 4 * kBlock * threads;
  if (N > 1 && !narrow_part && !uneven && (panels >= threads || M < kBlock * threads)) {
    const int64_t parts = col_parts;
    pool.run(parts, [&](int64_t t) {
      const int64_t j0 = bound(N, panels, kPanel, parts, t), j1 = bound(N, panels, kPanel, parts, t + 1);
      if (j1 <= j0) return;
      const float* Bj = trans_b ? B + j0 * ldb : B + j0;
      const Epilogue part = ep ? ep->at(0, j0, ldc) : Epilogue{};
      gemm_serial_part(trans_a, trans_b, M, j1 - j0, K, A, lda, Bj, ldb, C + j0, ldc, accumulate, ep ? &part : nullptr);
    });
  } else {
    const int64_t blocks = count(M, kBlock);
    const int64_t parts = std::min(threads, blocks);
    pool.run(parts, [&](int64_t t) {
      const int64_t i0 = bound(M, blocks, kBlock, parts, t), i1 = bound(M, blocks, kBlock, parts, t + 1);
      if (i1 <= i0) return;
      const float* Ai = trans_a ? A + i0 : A + i0 * lda;
      const Epilogue part = ep ? ep->at(i0, 0, ldc) : Epilogue{};
      gemm_serial_part(trans_a, trans_b, i1 - i0, N, K, Ai, lda, B, ldb, C + i0 * ldc, ldc, accumulate,
                       ep ? &part : nullptr);
    });
  }
}

}  // namespace graphrun::highway
