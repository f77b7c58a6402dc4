#include "backends/reference/backend.h"

#include <cassert>

#include "backends/op_kernels.h"
#include "backends/reference/conv_kernels.h"
#include "backends/reference/kernels.h"
#include "backends/reference/layer_kernels.h"
#include "backends/reference/loss_kernels.h"

namespace graphrun::reference {
namespace {

// The reference kernels with the kernel-set signature (the pool is ignored: single thread).
struct ReferenceKernels {
  static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float* c, int64_t ldc, bool acc, ThreadPool&) {
    reference::gemm<float>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, acc);
  }
  // The fused nodes one after the other, in place: the oracle the fused kernels are tested on.
  static void gemm_epilogue(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                            const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& e, ThreadPool& pool) {
    assert(ldc == n);  // a Program's values are contiguous, as the row-wise steps below assume
    reference::gemm<float>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, false);
    if (e.bias) reference::add_bias_rows(c, e.bias, c, m, n);
    if (!e.activation) return;
    if (e.backward_x) {
      activation_backward(*e.activation, e.activation_params, e.backward_x, e.backward_fx, c, c, m, n, pool);
    } else {
      activation_forward(*e.activation, e.activation_params, c, e.activation_out ? e.activation_out : c, m, n, pool);
    }
  }
  static void add(const float* a, const float* b, float* y, int64_t n, ThreadPool&) { reference::add(a, b, y, n); }
  static void mul(const float* a, const float* b, float* y, int64_t n, ThreadPool&) { reference::mul(a, b, y, n); }
  static void scale(const float* x, float alpha, float* y, int64_t n, ThreadPool&) { reference::scale(x, alpha, y, n); }
  static void add_bias_rows(const float* x, const float* bias, float* y, int64_t r, int64_t c, ThreadPool&) {
    reference::add_bias_rows(x, bias, y, r, c);
  }
  static void broadcast_rows(const float* v, float alpha, float* y, int64_t r, int64_t c, ThreadPool&) {
    reference::broadcast_rows(v, alpha, y, r, c);
  }
  static void sum_rows(const float* x, float* y, int64_t r, int64_t c, ThreadPool&) { reference::sum_rows(x, y, r, c); }
  static float sum_all(const float* x, int64_t n, ThreadPool&) { return reference::sum_all(x, n); }
  static void softmax_rows(const float* x, float* y, int64_t r, int64_t c, ThreadPool&) {
    reference::softmax_rows(x, y, r, c);
  }
  static void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t r, int64_t c, ThreadPool&) {
    reference::softmax_rows_backward(y, dy, dx, r, c);
  }
  static float softmax_cross_entropy(const float* l, const float* t, bool sparse, int64_t r, int64_t c, ThreadPool&) {
    return reference::softmax_cross_entropy(l, t, sparse, r, c);
  }
  static void softmax_cross_entropy_backward(const float* l, const float* t, bool sparse, int64_t r, int64_t c,
                                             float dloss, float* dl, ThreadPool&) {
    reference::softmax_cross_entropy_backward(l, t, sparse, r, c, dloss, dl);
  }
  static float mean_squared_error(const float* p, const float* t, int64_t n, ThreadPool&) {
    return reference::mean_squared_error(p, t, n);
  }
  static void mean_squared_error_backward(const float* p, const float* t, int64_t n, float dloss, float* dp,
                                          ThreadPool&) {
    reference::mean_squared_error_backward(p, t, n, dloss, dp);
  }
  // mean_absolute_error, huber (delta) or binary_cross_entropy (from logits; pos_weight: one per
  // label, cols of them, or null).
  static float elementwise_loss(OpKind op, const float* p, const float* t, int64_t n, float delta,
                                const float* pos_weight, int64_t cols, ThreadPool&) {
    if (op == OpKind::MeanAbsoluteError) return reference::mean_absolute_error(p, t, n);
    if (op == OpKind::Huber) return reference::huber(p, t, n, static_cast<double>(delta));
    return reference::binary_cross_entropy(p, t, n, static_cast<const float*>(nullptr), cols, pos_weight);
  }
  static void elementwise_loss_backward(OpKind op, const float* p, const float* t, int64_t n, float delta,
                                        const float* pos_weight, int64_t cols, float dloss, float* dp, ThreadPool&) {
    if (op == OpKind::MeanAbsoluteErrorGrad) return reference::mean_absolute_error_backward(p, t, n, dloss, dp);
    if (op == OpKind::HuberGrad) return reference::huber_backward(p, t, n, static_cast<double>(delta), dloss, dp);
    reference::binary_cross_entropy_backward(p, t, n, dloss, dp, static_cast<const float*>(nullptr), cols, pos_weight);
  }
  static void reserve_conv_scratch(const ops::WindowGeometry&) {}
  static void conv2d(const ops::WindowGeometry& g, const float* x, const float* w, float* y, ThreadPool&) {
    reference::conv2d(g, x, w, y);
  }
  static void conv2d_backward_input(const ops::WindowGeometry& g, const float* dy, const float* w, float* dx,
                                    ThreadPool&) {
    reference::conv2d_backward_input(g, dy, w, dx);
  }
  static int64_t conv2d_weight_partials(const ops::WindowGeometry&) { return 0; }
  static void conv2d_backward_weight(const ops::WindowGeometry& g, const float* x, const float* dy, float* dw, float*,
                                     ThreadPool&) {
    reference::conv2d_backward_weight(g, x, dy, dw);
  }
  static void add_channels(const float* x, const float* b, float* y, int64_t n, int64_t c, int64_t p, ThreadPool&) {
    reference::add_channels(x, b, y, n, c, p);
  }
  static void sum_channels(const float* x, float* y, int64_t n, int64_t c, int64_t p, ThreadPool&) {
    reference::sum_channels(x, y, n, c, p);
  }
  static void max_pool2d(const ops::WindowGeometry& g, const float* x, float* y, ThreadPool&) {
    reference::max_pool2d(g, x, y);
  }
  static void max_pool2d_backward(const ops::WindowGeometry& g, const float* x, const float* dy, float* dx,
                                  ThreadPool&) {
    reference::max_pool2d_backward(g, x, dy, dx);
  }
  static void avg_pool2d(const ops::WindowGeometry& g, const float* x, float* y, ThreadPool&) {
    reference::avg_pool2d(g, x, y);
  }
  static void avg_pool2d_backward(const ops::WindowGeometry& g, const float* dy, float* dx, ThreadPool&) {
    reference::avg_pool2d_backward(g, dy, dx);
  }
  static void global_avg_pool(const float* x, float* y, int64_t rows, int64_t plane, ThreadPool&) {
    reference::global_avg_pool(x, y, rows, plane);
  }
  static void global_avg_pool_backward(const float* dy, float* dx, int64_t rows, int64_t plane, ThreadPool&) {
    reference::global_avg_pool_backward(dy, dx, rows, plane);
  }
  static void batch_norm_forward(const float* x, const float* gamma, const float* beta, float* mean, float* var,
                                 float* y, int64_t n, int64_t c, int64_t s, float eps, bool training, float momentum,
                                 ThreadPool&) {
    reference::batch_norm_forward(x, gamma, beta, mean, var, y, n, c, s, eps, training, training ? mean : nullptr,
                                  training ? var : nullptr, momentum);
  }
  static void batch_norm_backward(const float* x, const float* gamma, const float* mean, const float* var,
                                  const float* dy, float* dx, int64_t n, int64_t c, int64_t s, float eps, bool training,
                                  ThreadPool&) {
    reference::batch_norm_backward(x, gamma, mean, var, dy, dx, n, c, s, eps, training);
  }
  static void batch_norm_param_grads(const float* x, const float* mean, const float* var, const float* dy, float* out,
                                     int64_t n, int64_t c, int64_t s, float eps, bool training, ThreadPool&) {
    reference::batch_norm_param_grads(x, mean, var, dy, out, n, c, s, eps, training);
  }
  static void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, int64_t r, int64_t c,
                                 float eps, ThreadPool&) {
    reference::layer_norm_forward(x, gamma, beta, y, r, c, eps);
  }
  static void layer_norm_backward(const float* x, const float* gamma, const float* dy, float* dx, int64_t r, int64_t c,
                                  float eps, ThreadPool&) {
    reference::layer_norm_backward(x, gamma, dy, dx, r, c, eps);
  }
  static void layer_norm_param_grads(const float* x, const float* dy, float* out, int64_t r, int64_t c, float eps,
                                     ThreadPool&) {
    reference::layer_norm_param_grads(x, dy, out, r, c, eps);
  }
  static void dropout(const float* x, float* y, int64_t n, float rate, uint64_t key, ThreadPool&) {
    reference::dropout(x, y, n, rate, key);
  }
  static void copy_rows(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t r, int64_t c, ThreadPool&) {
    reference::copy_rows(x, ldx, y, ldy, r, c);
  }
};

class ReferenceBackend final : public Backend {
 public:
  const char* name() const override { return "reference"; }
  bool fuses_epilogue(const Node& node) const override { return node.op == OpKind::MatMul; }
  std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) override {
    // Single-threaded on purpose: the oracle's results must not depend on thread count.
    static ThreadPool single(1);
    NodeContext one{ctx.graph, ctx.id, ctx.node, ctx.inputs, ctx.output, single, ctx.epilogue, ctx.training, ctx.run};
    auto k = backends::prepare_standard<ReferenceKernels>(one);
    if (!k) *why_not = std::string("op '") + op_name(ctx.node.op) + "' is not a kernel";
    return k;
  }
};

}  // namespace

Backend& backend() {
  static ReferenceBackend b;
  return b;
}

}  // namespace graphrun::reference
