#include "backends/highway/backend.h"

#include "backends/highway/kernels.h"
#include "backends/op_kernels.h"

namespace graphrun::highway {
namespace {

struct HighwayKernels {
  static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float* c, int64_t ldc, bool acc, ThreadPool& pool) {
    highway::gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, acc, pool);
  }
  static void gemm_epilogue(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                            const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& e, ThreadPool& pool) {
    highway::gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, false, pool, &e);
  }
  static void add(const float* a, const float* b, float* y, int64_t n, ThreadPool& p) { highway::add(a, b, y, n, p); }
  static void mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& p) { highway::mul(a, b, y, n, p); }
  static void scale(const float* x, float alpha, float* y, int64_t n, ThreadPool& p) {
    highway::scale(x, alpha, y, n, p);
  }
  static void add_bias_rows(const float* x, const float* bias, float* y, int64_t r, int64_t c, ThreadPool& p) {
    highway::add_bias_rows(x, bias, y, r, c, p);
  }
  static void broadcast_rows(const float* v, float alpha, float* y, int64_t r, int64_t c, ThreadPool& p) {
    highway::broadcast_rows(v, alpha, y, r, c, p);
  }
  static void sum_rows(const float* x, float* y, int64_t r, int64_t c, ThreadPool& p) {
    highway::sum_rows(x, y, r, c, p);
  }
  static float sum_all(const float* x, int64_t n, ThreadPool& p) { return highway::sum_all(x, n, p); }
  static void softmax_rows(const float* x, float* y, int64_t r, int64_t c, ThreadPool& p) {
    highway::softmax_rows(x, y, r, c, p);
  }
  static void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t r, int64_t c, ThreadPool& p) {
    highway::softmax_rows_backward(y, dy, dx, r, c, p);
  }
  static float softmax_cross_entropy(const float* l, const float* t, bool sparse, int64_t r, int64_t c, ThreadPool& p) {
    return highway::softmax_cross_entropy(l, t, sparse, r, c, p);
  }
  static void softmax_cross_entropy_backward(const float* l, const float* t, bool sparse, int64_t r, int64_t c,
                                             float dloss, float* dl, ThreadPool& p) {
    highway::softmax_cross_entropy_backward(l, t, sparse, r, c, dloss, dl, p);
  }
  static float mean_squared_error(const float* pr, const float* t, int64_t n, ThreadPool& p) {
    return highway::mean_squared_error(pr, t, n, p);
  }
  static void mean_squared_error_backward(const float* pr, const float* t, int64_t n, float dloss, float* dp,
                                          ThreadPool& p) {
    highway::mean_squared_error_backward(pr, t, n, dloss, dp, p);
  }
  static float elementwise_loss(OpKind op, const float* pr, const float* t, int64_t n, float delta, const float* pw,
                                int64_t cols, ThreadPool& p) {
    return highway::elementwise_loss(op, pr, t, n, delta, pw, cols, p);
  }
  static void elementwise_loss_backward(OpKind op, const float* pr, const float* t, int64_t n, float delta,
                                        const float* pw, int64_t cols, float dloss, float* dp, ThreadPool& p) {
    highway::elementwise_loss_backward(op, pr, t, n, delta, pw, cols, dloss, dp, p);
  }
  static void reserve_conv_scratch(const ops::WindowGeometry& g) { highway::reserve_conv_scratch(g); }
  static void conv2d(const ops::WindowGeometry& g, const float* x, const float* w, float* y, ThreadPool& p) {
    highway::conv2d(g, x, w, y, p);
  }
  static void conv2d_backward_input(const ops::WindowGeometry& g, const float* dy, const float* w, float* dx,
                                    ThreadPool& p) {
    highway::conv2d_backward_input(g, dy, w, dx, p);
  }
  static int64_t conv2d_weight_partials(const ops::WindowGeometry& g) { return highway::conv2d_weight_partials(g); }
  static void conv2d_backward_weight(const ops::WindowGeometry& g, const float* x, const float* dy, float* dw,
                                     float* partials, ThreadPool& p) {
    highway::conv2d_backward_weight(g, x, dy, dw, partials, p);
  }
  static void add_channels(const float* x, const float* b, float* y, int64_t n, int64_t c, int64_t pl, ThreadPool& p) {
    highway::add_channels(x, b, y, n, c, pl, p);
  }
  static void sum_channels(const float* x, float* y, int64_t n, int64_t c, int64_t pl, ThreadPool& p) {
    highway::sum_channels(x, y, n, c, pl, p);
  }
  static void max_pool2d(const ops::WindowGeometry& g, const float* x, float* y, ThreadPool& p) {
    highway::max_pool2d(g, x, y, p);
  }
  static void max_pool2d_backward(const ops::WindowGeometry& g, const float* x, const float* dy, float* dx,
                                  ThreadPool& p) {
    highway::max_pool2d_backward(g, x, dy, dx, p);
  }
  static void avg_pool2d(const ops::WindowGeometry& g, const float* x, float* y, ThreadPool& p) {
    highway::avg_pool2d(g, x, y, p);
  }
  static void avg_pool2d_backward(const ops::WindowGeometry& g, const float* dy, float* dx, ThreadPool& p) {
    highway::avg_pool2d_backward(g, dy, dx, p);
  }
  static void global_avg_pool(const float* x, float* y, int64_t rows, int64_t plane, ThreadPool& p) {
    highway::global_avg_pool(x, y, rows, plane, p);
  }
  static void global_avg_pool_backward(const float* dy, float* dx, int64_t rows, int64_t plane, ThreadPool& p) {
    highway::global_avg_pool_backward(dy, dx, rows, plane, p);
  }
  static constexpr auto batch_norm_forward = &highway::batch_norm_forward;
  static constexpr auto batch_norm_backward = &highway::batch_norm_backward;
  static constexpr auto batch_norm_param_grads = &highway::batch_norm_param_grads;
  static constexpr auto layer_norm_forward = &highway::layer_norm_forward;
  static constexpr auto layer_norm_backward = &highway::layer_norm_backward;
  static constexpr auto layer_norm_param_grads = &highway::layer_norm_param_grads;
  static constexpr auto dropout = &highway::dropout;
  static constexpr auto copy_rows = &highway::copy_rows;
};

class HighwayBackend final : public Backend {
 public:
  const char* name() const override { return "highway"; }
  bool fuses_epilogue(const Node& node) const override { return node.op == OpKind::MatMul; }
  SerialGemm serial_gemm() const override { return &gemm_serial; }
  std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) override {
    auto k = backends::prepare_standard<HighwayKernels>(ctx);
    if (!k) *why_not = std::string("op '") + op_name(ctx.node.op) + "' is not a kernel";
    return k;
  }
  void prepare_thread() override {
    highway::prepare_thread_buffers();
    highway::prepare_conv_thread();
  }
};

}  // namespace

Backend& backend() {
  static HighwayBackend b;
  return b;
}

}  // namespace graphrun::highway
