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

// Below this many multiply-adds per thread, handing work to another thread costs more than it
// saves (~100 K MACs is a few microseconds of one core).
inline constexpr int64_t kMinMacsPerThread = 96 * 1024;

// Threads for a kernel of `macs` multiply-adds (or element updates) on a pool of pool_size.
inline int64_t threads_for(int64_t macs, int64_t pool_size) {
  return std::min<int64_t>(pool_size, std::max<int64_t>(1, macs / kMinMacsPerThread));
}

}  // namespace graphrun
