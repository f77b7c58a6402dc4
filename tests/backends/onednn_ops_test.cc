// Which nodes the oneDNN backend runs natively (their backward nodes included) and the
// reasons the others decline, on one odd shape per op (the consistency table compares the
// numbers on every shape); the primitive cache reuses primitives across compiles.
#include <gtest/gtest.h>

#include "backends/onednn/backend.h"
#include "tests/backends/onednn_test_util.h"

namespace graphrun {
namespace {

using testing::in;
using testing::on_onednn;

// Every node of these ops ran on oneDNN.
void expect_native(const testing::Run& c, std::initializer_list<OpKind> ops) {
  for (const ScheduledNode& s : c.program->schedule()) {
    const Node& n = c.g->node(s.node);
    for (OpKind op : ops) {
      if (n.op == op) {
        EXPECT_EQ(s.backend, "onednn") << n.name << ": " << s.declined;
      }
    }
  }
}

TEST(OnednnOps, MatMulEveryTransposeIsNative) {
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    auto c = on_onednn("matmul", {in(ta ? Shape{33, 17} : Shape{17, 33}), in(tb ? Shape{31, 33} : Shape{33, 31})},
                       BUILD(ops::matmul(g, x[0], x[1], ta, tb)), 1e-4);
    expect_native(c, {OpKind::MatMul, OpKind::Mul, OpKind::Sum});
  }
}

TEST(OnednnOps, ElementwiseOpsAreNative) {
  expect_native(on_onednn("add", {in({17, 33}), in({17, 33})}, BUILD(ops::add(g, x[0], x[1]))), {OpKind::Add});
  expect_native(on_onednn("add bias", {in({17, 33}), in({33})}, BUILD(ops::add(g, x[0], x[1]))),
                {OpKind::Add, OpKind::SumRows});  // d bias = sum_rows(d y)
  expect_native(on_onednn("mul", {in({17, 33}), in({17, 33})}, BUILD(ops::mul(g, x[0], x[1]))), {OpKind::Mul});
  expect_native(on_onednn("scale", {in({17, 33})}, BUILD(ops::scale(g, x[0], -2.5f))), {OpKind::Scale});
}

TEST(OnednnOps, SoftmaxAndItsGradientAreNative) {
  auto s = on_onednn("softmax", {in({17, 33})}, BUILD(ops::softmax(g, x[0])));
  expect_native(s, {OpKind::Softmax, OpKind::SoftmaxGrad});
  ASSERT_NE(s.scheduled(OpKind::SoftmaxGrad), nullptr);
}

TEST(OnednnOps, ReductionsAreNativeAndTheirGradientsFallBack) {
  auto rows = on_onednn("sum_rows", {in({17, 33})}, BUILD(ops::sum_rows(g, x[0])), 1e-4);
  expect_native(rows, {OpKind::SumRows, OpKind::Sum});
  expect_native(on_onednn("sum", {in({17, 33})}, BUILD(ops::sum(g, x[0])), 1e-4), {OpKind::Sum});
  auto mean = on_onednn("mean", {in({17, 33})}, BUILD(ops::mean(g, x[0])), 1e-4);
  expect_native(mean, {OpKind::Mean});
  // Their gradients broadcast, which oneDNN has no primitive for: Highway runs it.
  const ScheduledNode* b = mean.scheduled(OpKind::BroadcastRows);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->backend, "highway");
  EXPECT_EQ(b->declined, "onednn: op 'broadcast_rows' has no oneDNN primitive");
}

TEST(OnednnOps, LossesFallBackWithAReason) {
  auto mse = on_onednn("mse", {in({9, 5}), in({9, 5})}, BUILD(ops::mean_squared_error(g, x[0], x[1])));
  const ScheduledNode* s = mse.scheduled(OpKind::MeanSquaredError);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, "highway");
  EXPECT_EQ(s->declined, "onednn: op 'mean_squared_error' has no oneDNN primitive");

  auto xent = on_onednn("softmax_cross_entropy", {in({9, 5}), testing::soft_labels({9, 5})},
                        BUILD(ops::softmax_cross_entropy(g, x[0], x[1], false)));
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
  expect_native(on_onednn("softmax rank 3", {in({2, 5, 7})}, BUILD(ops::softmax(g, x[0]))),
                {OpKind::Softmax, OpKind::SoftmaxGrad});
  expect_native(on_onednn("bias rank 3", {in({2, 5, 7}), in({7})}, BUILD(ops::add(g, x[0], x[1]))),
                {OpKind::Add, OpKind::SumRows});
}

TEST(OnednnOps, CompilingTheSameShapesAgainReusesThePrimitives) {
  const std::vector<testing::Operand> shapes = {in({11, 23}), in({23, 19}), in({19})};
  const testing::Build build = BUILD(ops::softmax(g, ops::add(g, ops::matmul(g, x[0], x[1]), x[2])));
  on_onednn("first", shapes, build);
  const onednn::CacheStats before = onednn::cache_stats();
  auto again = on_onednn("again", shapes, build);
  const onednn::CacheStats after = onednn::cache_stats();
  EXPECT_EQ(after.entries, before.entries);  // nothing new was built
  int64_t native = 0;
  for (const ScheduledNode& s : again.program->schedule()) {
    native += s.backend == "onednn" && s.fused_into == kNoNode;  // a fused node has no primitive of its own
  }
  EXPECT_GT(native, 5);
  EXPECT_EQ(after.hits - before.hits, native);
}

}  // namespace
}  // namespace graphrun
