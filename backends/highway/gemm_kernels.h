// The GEMM's per-target code (gemm_kernels.cc) as plain C++ functions for its threading
// (gemm.cc), and the blocking both use. Internal to backends/highway; no Highway type here.
// Each function runs its per-target namesake (GemmSerial, ApplyEpilogue, ...) for the target
// the dynamic dispatch picked on this machine.
#pragma once

#include <cstdint>

#include "backends/highway/gemm_blocking.h"
#include "core/epilogue.h"

namespace graphrun::highway {

// At most this many rows (a batch), B is read in place rather than packed (see GemmSerial).
// Also bounds op(A)^T packed by GemmSmallMTransB: kc x kSmallM <= kc x nc.
constexpr int64_t kSmallM = 64;
// Floats of one thread's buffer for the partial products of a GEMM split along K.
constexpr int64_t kSplitKCapacity = 128 * 1024;

// GemmSerial computes C = A op(B) with a narrow N and a deep K (a 10-class output layer) with K
// in the lanes (gemm_small_n-inl.h), row by row in one order, so gemm() splits it by rows only.
inline bool gemm_small_n(bool trans_a, int64_t N, int64_t K) { return !trans_a && N >= 2 && N <= 12 && K >= 128; }

// GemmSerial: one thread's GEMM on a sub-problem (the caller has handled M, N == 0 and K == 0),
// with the epilogue (its bias at column 0 of this C) on each block as it is finished.
void gemm_serial_part(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                      const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate, const Epilogue* ep);
// ApplyEpilogue: the epilogue on the finished block of rows [row0, row0 + rows) and columns
// [col0, col0 + cols) of C.
void apply_epilogue(const Epilogue& e, int64_t row0, int64_t col0, float* C, int64_t ldc, int64_t rows, int64_t cols);
// GemvBlockPartials: the partial products of row blocks [b0, b1) of a GEMV y = x W, block b's
// into out + (b - b0) * n.
void gemv_block_partials(const float* x, int64_t incx, const float* W, int64_t ldw, int64_t kdim, int64_t n, int64_t b0,
                         int64_t b1, float* out);
// The dispatched target's blocking (gemm_blocking.h, from this machine's caches).
const GemmBlocking& gemm_blocking();
// The calling thread's buffers for the partials of a GEMV split along K (its B packing buffer,
// kc x nc floats) and of a GEMM split along K (kSplitKCapacity floats).
float* partials_buffer();
float* split_k_buffer();

}  // namespace graphrun::highway
