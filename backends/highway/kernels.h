// graphrun::highway: hand-vectorized float kernels with runtime ISA dispatch (Google Highway).
//
// Same names, arguments and semantics as backends/reference/kernels.h, float only, with the
// ThreadPool that runs them as the last argument. Each kernel splits its work over the pool
// (element ranges, rows, or GEMM column panels) and stays on the calling thread when the
// problem is too small to repay the hand-over. Row-major throughout.
//
// Contracts: kernels trust their inputs (debug asserts only); the elementwise kernels accept
// y aliasing an input; no kernel allocates in steady state (GEMM packs into per-thread buffers
// of a fixed size, allocated on a thread's first GEMM). Sums accumulate in float with several
// vector accumulators; softmax and cross-entropy subtract the row max first, so logits of any
// finite magnitude give finite results.
//
// This header is plain C++: no Highway type appears here (see hwy/examples/skeleton.cc).
#pragma once

#include <cstdint>

#include "core/epilogue.h"
#include "core/graph.h"
#include "core/thread_pool.h"
#include "ops/window.h"

namespace graphrun::highway {

// C[M,N] (+)= op(A)[M,K] * op(B)[K,N]; op(A) = A (stored M x K, lda >= K) or A^T (stored K x M,
// lda >= M); op(B) likewise. accumulate=false overwrites C without reading it. An epilogue
// (core/epilogue.h: bias and an activation, or an activation's gradient) is applied to each
// block of C once its sums are complete, while the block is in cache: the results equal the
// separate kernels'.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
          int64_t ldb, float* C, int64_t ldc, bool accumulate, ThreadPool& pool, const Epilogue* epilogue = nullptr);
// The same on the calling thread alone, for callers already inside a pool task. Each element
// of C is summed over K in the same order as gemm() sums it, whatever M, N or the thread count.
void gemm_serial(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

void add(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);  // y = a + b
void mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);  // y = a * b
void scale(const float* x, float alpha, float* y, int64_t n, ThreadPool& pool);   // y = alpha x
// y[r,c] = x[r,c] + bias[c]
void add_bias_rows(const float* x, const float* bias, float* y, int64_t rows, int64_t cols, ThreadPool& pool);
// y[r,c] = alpha * v[c] (cols == 1 broadcasts a scalar)
void broadcast_rows(const float* v, float alpha, float* y, int64_t rows, int64_t cols, ThreadPool& pool);
// y[c] = sum_r x[r,c]
void sum_rows(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool);
float sum_all(const float* x, int64_t n, ThreadPool& pool);

// Stable (max-subtracted) softmax of each row, and its backward dx = y * (dy - sum(dy * y)).
void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols, ThreadPool& pool);
void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, ThreadPool& pool);

// Fused softmax + cross-entropy, mean over rows. sparse: `rows` class indices stored as floats;
// otherwise rows*cols target probabilities. Returns the mean loss.
float softmax_cross_entropy(const float* logits, const float* labels, bool sparse, int64_t rows, int64_t cols,
                            ThreadPool& pool);
// dlogits = (softmax(logits) - target) * dloss / rows
void softmax_cross_entropy_backward(const float* logits, const float* labels, bool sparse, int64_t rows, int64_t cols,
                                    float dloss, float* dlogits, ThreadPool& pool);

// mean((pred - target)^2), and dpred = 2 (pred - target) / n * dloss.
float mean_squared_error(const float* pred, const float* target, int64_t n, ThreadPool& pool);
void mean_squared_error_backward(const float* pred, const float* target, int64_t n, float dloss, float* dpred,
                                 ThreadPool& pool);

// The elementwise losses (loss.cc), a mean over n elements: op MeanAbsoluteError, Huber
// (threshold delta) or BinaryCrossEntropy (p holds logits); the backward takes the matching
// *Grad op and writes d pred scaled by dloss.
// pos_weight (BCE, null or one per label: rows of cols elements) weighs the positive term.
float elementwise_loss(OpKind op, const float* p, const float* t, int64_t n, float delta, const float* pos_weight,
                       int64_t cols, ThreadPool& pool);
void elementwise_loss_backward(OpKind op, const float* p, const float* t, int64_t n, float delta,
                               const float* pos_weight, int64_t cols, float dloss, float* dp, ThreadPool& pool);

// Image ops, NCHW (ops/window.h; conv.cc, pool.cc): the reference's conv2d_* and pool
// kernels. conv2d runs im2col + the GEMM per sample; reserve_conv_scratch(g), called at
// compile time for each conv node, sizes the per-thread col buffer prepare_thread_buffers
// then allocates.
using ops::WindowGeometry;
void reserve_conv_scratch(const WindowGeometry& g);
void conv2d(const WindowGeometry& g, const float* x, const float* w, float* y, ThreadPool& pool);
void conv2d_backward_input(const WindowGeometry& g, const float* dy, const float* w, float* dx, ThreadPool& pool);
// The weight gradient sums the batch in a fixed number of parts (whatever the thread count),
// each into its own slice of `partials` (conv2d_weight_partials(g) floats, owned by the
// caller), and then adds the parts in order.
int64_t conv2d_weight_partials(const WindowGeometry& g);
void conv2d_backward_weight(const WindowGeometry& g, const float* x, const float* dy, float* dw, float* partials,
                            ThreadPool& pool);
// y[n,c,:] = x[n,c,:] + b[c]; y[c] = sum over n and the plane of x[n,c,:].
void add_channels(const float* x, const float* b, float* y, int64_t batch, int64_t channels, int64_t plane,
                  ThreadPool& pool);
void sum_channels(const float* x, float* y, int64_t batch, int64_t channels, int64_t plane, ThreadPool& pool);
void max_pool2d(const WindowGeometry& g, const float* x, float* y, ThreadPool& pool);
void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx, ThreadPool& pool);
void avg_pool2d(const WindowGeometry& g, const float* x, float* y, ThreadPool& pool);
void avg_pool2d_backward(const WindowGeometry& g, const float* dy, float* dx, ThreadPool& pool);
void global_avg_pool(const float* x, float* y, int64_t rows, int64_t plane, ThreadPool& pool);
void global_avg_pool_backward(const float* dy, float* dx, int64_t rows, int64_t plane, ThreadPool& pool);
void prepare_conv_thread();
// Batch norm of x [n, c, s] per channel, layer norm of [rows, cols] per row, their gradients,
// dropout and row copies: as backends/reference/layer_kernels.h (statistics two-pass, sums in
// float vectors totalled in double). batch_norm_forward in training mode updates mean/var
// (the running statistics) in place.
void batch_norm_forward(const float* x, const float* gamma, const float* beta, float* mean, float* var, float* y,
                        int64_t n, int64_t c, int64_t s, float eps, bool training, float momentum, ThreadPool& pool);
void batch_norm_backward(const float* x, const float* gamma, const float* mean, const float* var, const float* dy,
                         float* dx, int64_t n, int64_t c, int64_t s, float eps, bool training, ThreadPool& pool);
void batch_norm_param_grads(const float* x, const float* mean, const float* var, const float* dy, float* out, int64_t n,
                            int64_t c, int64_t s, float eps, bool training, ThreadPool& pool);
void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols,
                        float eps, ThreadPool& pool);
void layer_norm_backward(const float* x, const float* gamma, const float* dy, float* dx, int64_t rows, int64_t cols,
                         float eps, ThreadPool& pool);
void layer_norm_param_grads(const float* x, const float* dy, float* out, int64_t rows, int64_t cols, float eps,
                            ThreadPool& pool);
// y = x * mask / (1 - rate), the mask of core/run_state.h for this key (bit-identical to the
// reference's).
void dropout(const float* x, float* y, int64_t n, float rate, uint64_t key, ThreadPool& pool);
// y[r, 0:cols] = x[r, 0:cols], row strides ldx and ldy.
void copy_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t rows, int64_t cols, ThreadPool& pool);

// Allocates the calling thread's GEMM packing buffers now (the backend calls it on every pool
// thread at compile time, so that no step allocates).
void prepare_thread_buffers();

// The instruction set the dynamic dispatch picked on this machine, e.g. "AVX3".
const char* target_name();

}  // namespace graphrun::highway
