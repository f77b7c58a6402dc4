// Every op the oneDNN backend runs natively, forward and backward, against the reference on
// edge shapes (each dimension swept over kEdgeSizes while the others stay small), every
// transpose; the schedule names oneDNN for native nodes and gives reasons for the others; the
// primitive cache reuses primitives across compiles.
#include <gtest/gtest.h>

#include "backends/onednn/backend.h"
#include "tests/onednn/onednn_test_util.h"

namespace graphrun {
namespace {

using testing::check_op;
using testing::kEdgeSizes;

std::string dims_str(int64_t a, int64_t b, int64_t c = -1) {
  return "[" + std::to_string(a) + "," + std::to_string(b) + (c >= 0 ? "," + std::to_string(c) : "") + "]";
}

// Every node of these ops ran on oneDNN (their backward nodes included).
void expect_native(const testing::OpCheck& c, std::initializer_list<OpKind> ops) {
  for (const ScheduledNode& s : c.onednn->schedule()) {
    const Node& n = c.g->node(s.node);
    for (OpKind op : ops) {
      if (n.op == op) {
        EXPECT_EQ(s.backend, "onednn") << n.name << ": " << s.declined;
      }
    }
  }
}

TEST(OnednnOps, MatMulEveryTransposeOnEdgeShapes) {
  const int64_t base[3] = {17, 33, 31};  // M, K, N
  for (int dim = 0; dim < 3; ++dim) {
    for (int64_t size : kEdgeSizes) {
      int64_t mkn[3] = {base[0], base[1], base[2]};
      mkn[dim] = size;
      const int64_t m = mkn[0], k = mkn[1], n = mkn[2];
      for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        const Shape sa = ta ? Shape{k, m} : Shape{m, k};
        const Shape sb = tb ? Shape{n, k} : Shape{k, n};
        auto c = check_op("matmul mkn" + dims_str(m, k, n) + (ta ? " ta" : "") + (tb ? " tb" : ""), {sa, sb},
                          [&](Graph& g, const std::vector<NodeId>& in) { return ops::matmul(g, in[0], in[1], ta, tb); },
                          2e-6 * static_cast<double>(std::max({m, k, n})) + 1e-5, 1e-5);
        expect_native(c, {OpKind::MatMul, OpKind::Mul, OpKind::Sum});
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

// Sweeps rows then columns of a [rows, cols] shape over the edge sizes (the other stays 17).
template <class F>
void sweep_rows_cols(F f) {
  for (int dim = 0; dim < 2; ++dim) {
    for (int64_t size : kEdgeSizes) {
      const int64_t rows = dim == 0 ? size : 17, cols = dim == 1 ? size : 17;
      f(rows, cols);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(OnednnOps, AddSameShapeAndBias) {
  sweep_rows_cols([](int64_t r, int64_t c) {
    auto same = check_op("add " + dims_str(r, c), {Shape{r, c}, Shape{r, c}},
                         [](Graph& g, const std::vector<NodeId>& in) { return ops::add(g, in[0], in[1]); });
    expect_native(same, {OpKind::Add});
    auto bias = check_op("add bias " + dims_str(r, c), {Shape{r, c}, Shape{c}},
                         [](Graph& g, const std::vector<NodeId>& in) { return ops::add(g, in[0], in[1]); },
                         1e-6 * static_cast<double>(r) + 1e-5);
    expect_native(bias, {OpKind::Add, OpKind::SumRows});  // d bias = sum_rows(d y)
  });
}

TEST(OnednnOps, MulAndScale) {
  sweep_rows_cols([](int64_t r, int64_t c) {
    auto mul = check_op("mul " + dims_str(r, c), {Shape{r, c}, Shape{r, c}},
                        [](Graph& g, const std::vector<NodeId>& in) { return ops::mul(g, in[0], in[1]); });
    expect_native(mul, {OpKind::Mul});
    auto scale = check_op("scale " + dims_str(r, c), {Shape{r, c}},
                          [](Graph& g, const std::vector<NodeId>& in) { return ops::scale(g, in[0], -2.5f); });
    expect_native(scale, {OpKind::Scale});
  });
}

TEST(OnednnOps, SoftmaxAndItsGradient) {
  sweep_rows_cols([](int64_t r, int64_t c) {
    auto s = check_op("softmax " + dims_str(r, c), {Shape{r, c}},
                      [](Graph& g, const std::vector<NodeId>& in) { return ops::softmax(g, in[0]); }, 1e-6, 1e-5,
                      -5.0f, 5.0f);
    expect_native(s, {OpKind::Softmax, OpKind::SoftmaxGrad});
    ASSERT_NE(s.scheduled(OpKind::SoftmaxGrad), nullptr);
  });
}

TEST(OnednnOps, ReductionsAndTheirFallbackGradients) {
  sweep_rows_cols([](int64_t r, int64_t c) {
    const double atol = 1e-6 * static_cast<double>(r * c) + 1e-5;
    auto rows = check_op("sum_rows " + dims_str(r, c), {Shape{r, c}},
                         [](Graph& g, const std::vector<NodeId>& in) { return ops::sum_rows(g, in[0]); }, atol);
    expect_native(rows, {OpKind::SumRows, OpKind::Sum});
    auto sum = check_op("sum " + dims_str(r, c), {Shape{r, c}},
                        [](Graph& g, const std::vector<NodeId>& in) { return ops::sum(g, in[0]); }, atol);
    expect_native(sum, {OpKind::Sum});
    auto mean = check_op("mean " + dims_str(r, c), {Shape{r, c}},
                         [](Graph& g, const std::vector<NodeId>& in) { return ops::mean(g, in[0]); }, atol);
    expect_native(mean, {OpKind::Mean});
    // Their gradients broadcast, which oneDNN has no primitive for: Highway runs it.
    const ScheduledNode* b = mean.scheduled(OpKind::BroadcastRows);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->backend, "highway");
    EXPECT_EQ(b->declined, "onednn: op 'broadcast_rows' has no oneDNN primitive");
  });
}

TEST(OnednnOps, LossesFallBackWithAReason) {
  auto mse = check_op("mse", {Shape{9, 5}, Shape{9, 5}},
                      [](Graph& g, const std::vector<NodeId>& in) { return ops::mean_squared_error(g, in[0], in[1]); },
                      1e-5, 1e-5, -1.0f, 1.0f, 1);
  const ScheduledNode* s = mse.scheduled(OpKind::MeanSquaredError);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, "highway");
  EXPECT_EQ(s->declined, "onednn: op 'mean_squared_error' has no oneDNN primitive");

  auto xent = check_op("softmax_cross_entropy", {Shape{9, 5}, Shape{9, 5}},
                       [](Graph& g, const std::vector<NodeId>& in) {
                         return ops::softmax_cross_entropy(g, in[0], in[1], false);
                       },
                       1e-5, 1e-5, -1.0f, 1.0f, 1);  // no gradient with respect to the labels
  s = xent.scheduled(OpKind::SoftmaxCrossEntropy);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, "highway");
  EXPECT_EQ(s->declined, "onednn: op 'softmax_cross_entropy' has no oneDNN primitive");
  s = xent.scheduled(OpKind::SoftmaxCrossEntropyGrad);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->declined, "onednn: op 'softmax_cross_entropy_grad' has no oneDNN primitive");
}

TEST(OnednnOps, RankThreeTensorsUseTheirRowView) {
  // softmax and sum_rows over the last dimension of a [2, 5, 7] tensor (a bias add too).
  auto s = check_op("softmax rank 3", {Shape{2, 5, 7}},
                    [](Graph& g, const std::vector<NodeId>& in) { return ops::softmax(g, in[0]); });
  expect_native(s, {OpKind::Softmax, OpKind::SoftmaxGrad});
  auto b = check_op("bias rank 3", {Shape{2, 5, 7}, Shape{7}},
                    [](Graph& g, const std::vector<NodeId>& in) { return ops::add(g, in[0], in[1]); });
  expect_native(b, {OpKind::Add, OpKind::SumRows});
}

TEST(OnednnOps, CompilingTheSameShapesAgainReusesThePrimitives) {
  auto build = [](Graph& g, const std::vector<NodeId>& in) {
    return ops::softmax(g, ops::add(g, ops::matmul(g, in[0], in[1]), in[2]));
  };
  const std::vector<Shape> shapes = {Shape{11, 23}, Shape{23, 19}, Shape{19}};
  check_op("first", shapes, build);
  const onednn::CacheStats before = onednn::cache_stats();
  auto again = check_op("again", shapes, build);
  const onednn::CacheStats after = onednn::cache_stats();
  EXPECT_EQ(after.entries, before.entries);  // nothing new was built
  int64_t native = 0;
  for (const ScheduledNode& s : again.onednn->schedule()) native += s.backend == "onednn";
  EXPECT_GT(native, 5);
  EXPECT_EQ(after.hits - before.hits, native);
}

}  // namespace
}  // namespace graphrun
