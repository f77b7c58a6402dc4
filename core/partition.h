// How a matrix's columns are split among threads, shared by the GEMM that writes a weight
// gradient and the optimizer step that reads it: each thread then updates the columns it
// wrote (and, at batch 1, the columns of W its forward GEMV read), which stay in its core's
// cache instead of moving between cores every step.
#pragma once

#include <algorithm>
#include <cstdint>

namespace graphrun {

// Columns are split in whole blocks of this many (a GEMM micro-kernel panel on every target).
inline constexpr int64_t kColumnGrain = 32;

// The first column of part t of `parts` (t == parts gives cols): contiguous, in order, whole
// blocks of kColumnGrain except the last.
inline int64_t split_columns(int64_t cols, int64_t parts, int64_t t) {
  const int64_t blocks = (cols + kColumnGrain - 1) / kColumnGrain;
  return std::min(cols, blocks * t / parts * kColumnGrain);
}

}  // namespace graphrun
