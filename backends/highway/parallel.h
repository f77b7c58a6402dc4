// Work splitting shared by the Highway kernels (internal to backends/highway; plain C++).
//
// Kernels are timed in microseconds, so small problems stay on the calling thread: a range
// is split only into chunks of at least `grain` elements (ThreadPool::parallel_for).
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/thread_pool.h"

namespace graphrun::highway::detail {

// Elements per thread below which elementwise kernels do not split (~64 KiB of floats).
constexpr int64_t kElementGrain = 16 * 1024;

// Rows per chunk so that a chunk holds at least `elements` elements of `cols`-wide rows.
inline int64_t row_grain(int64_t cols, int64_t elements = kElementGrain) {
  return std::max<int64_t>(1, elements / std::max<int64_t>(cols, 1));
}

// Splits [0, n) like parallel_for and returns the sum (in double) of f(begin, end) over the
// chunks. At most kMaxChunks chunks, so the partial sums live on the stack.
template <class F>
double parallel_sum(ThreadPool& pool, int64_t n, int64_t grain, F&& f) {
  constexpr int64_t kMaxChunks = 64;
  if (n <= 0) return 0.0;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>({static_cast<int64_t>(pool.size()), (n + grain - 1) / grain, kMaxChunks});
  double partial[kMaxChunks];
  pool.run(chunks, [&](int64_t t) { partial[t] = f(n * t / chunks, n * (t + 1) / chunks); });
  double total = 0.0;
  for (int64_t t = 0; t < chunks; ++t) total += partial[t];
  return total;
}

}  // namespace graphrun::highway::detail
