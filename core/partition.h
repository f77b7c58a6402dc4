// How a weight matrix's rows are split among threads, shared by the kernels that touch it in a
// training step: the GEMV of the forward pass at batch 1 (split along K, the rows of W), the
// weight gradient at batch 1 (a rank-1 update, split by rows) and the optimizer step. Each
// thread then reads and writes the same rows of W every step, which stay in its core's cache;
// splitting by columns instead puts a boundary in every row, and the cores' prefetchers then
// bounce the cache lines at each boundary between them (measured: a 784 x 400 update took
// 187 us split by columns, 12.5 us split by rows, on two Zen 5 cores).
#pragma once

#include <algorithm>
#include <cstdint>

namespace graphrun {

// Rows are split in whole blocks of this many; the GEMV sums its partial products block by
// block in this order whatever the thread count, so its result does not depend on it.
inline constexpr int64_t kRowGrain = 128;

// The first row of part t of `parts` (t == parts gives rows): contiguous, in order, whole
// blocks of kRowGrain except the last.
inline int64_t split_rows(int64_t rows, int64_t parts, int64_t t) {
  const int64_t blocks = (rows + kRowGrain - 1) / kRowGrain;
  return std::min(rows, blocks * t / parts * kRowGrain);
}

// How many tasks a kernel runs: the count that finishes it soonest when its work takes
// t1 = flops / kCoreFlopsPerNs + bytes / kCoreBytesPerNs on one core and a job on n > 1
// threads costs join(n) = kJoinNs + kJoinPerThreadNs * (n - 2) to start and join:
// t(n) = t1 / n + join(n). t(n) is convex in n, so the best n grows with the work and never
// shrinks: tiny kernels run on the calling thread (t(2) > t(1)), large ones on every thread,
// and more threads in the pool never make a kernel's predicted time worse.
//
// The join cost is measured by benchmarks/thread_pool_bench.cc (docs/performance.md, "Threads
// by cost"): 280-580 ns for a job on 2 threads of a busy 2-core Zen 5 VM; the per-thread term
// (each extra worker's claim and completion move the job's cache lines once more) is an
// estimate from the cross-core transfer cost of a server's mesh, to be replaced by the
// benchmark's slope where it runs on many cores. The per-core rates are deliberately below a
// core's peak (GEMMs of a training step run at 40-90 % of it; weights stream from L2 or L3), so
// a split is chosen only when it pays for itself with margin.
inline constexpr double kJoinNs = 500;
inline constexpr double kJoinPerThreadNs = 100;
inline constexpr double kCoreFlopsPerNs = 100;  // 100 GFLOP/s
inline constexpr double kCoreBytesPerNs = 50;   // 50 GB/s

// The predicted time in ns of a kernel of `flops` and `bytes` run as `tasks` tasks.
inline double predicted_ns(double flops, double bytes, int64_t tasks) {
  const double t1 = flops / kCoreFlopsPerNs + bytes / kCoreBytesPerNs;
  if (tasks <= 1) return t1;
  return t1 / static_cast<double>(tasks) + kJoinNs + kJoinPerThreadNs * static_cast<double>(tasks - 2);
}

// The task count (1..pool_size) with the least predicted time; the smallest on a tie.
inline int64_t tasks_for(double flops, double bytes, int64_t pool_size) {
  int64_t best = 1;
  double best_ns = predicted_ns(flops, bytes, 1);
  for (int64_t n = 2; n <= pool_size; ++n) {
    const double ns = predicted_ns(flops, bytes, n);
    if (ns >= best_ns) break;  // convex: past the minimum
    best = n;
    best_ns = ns;
  }
  return best;
}

// A GEMM's task count: 2 M N K flops, its three operands' bytes. Every kernel that touches a
// weight matrix of K rows and N columns at batch M (the forward GEMM or GEMV split along K, the
// weight gradient and the optimizer step) asks with these same numbers, so they split W's rows
// into the same parts (split_rows) and each thread keeps its rows in its cache.
inline int64_t gemm_tasks(int64_t M, int64_t N, int64_t K, int64_t pool_size) {
  const double m = static_cast<double>(M), n = static_cast<double>(N), k = static_cast<double>(K);
  return tasks_for(2 * m * n * k, 4 * (m * k + k * n + m * n), pool_size);
}

}  // namespace graphrun
