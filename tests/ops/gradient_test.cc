// Every op's gradient against central finite differences in double, and the seed network's
// gradient against its closed form.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

using testing::check_gradients;
using testing::random_tensor;
using Values = std::map<std::string, reference::DoubleTensor>;

// The shapes the checks run at: odd sizes so no dimension hides another.
constexpr int64_t kB = 3;

TEST(Gradient, MatMulAllTransposes) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string("trans_a=") + (ta ? "1" : "0") + " trans_b=" + (tb ? "1" : "0"));
      Graph g;
      std::mt19937_64 rng(7);
      const Shape sa = ta ? Shape{5, kB} : Shape{kB, 5};
      const Shape sb = tb ? Shape{4, 5} : Shape{5, 4};
      NodeId a = g.input("a", sa);
      NodeId b = g.parameter("b", sb, Initializer::zeros());
      NodeId c = ops::matmul(g, a, b, ta, tb);
      EXPECT_EQ(g.shape(c), (Shape{kB, 4}));
      check_gradients(g, c, kB, {{"a", random_tensor(sa, rng)}, {"b", random_tensor(sb, rng)}}, {"a", "b"});
    }
  }
}

TEST(Gradient, MatMulWithBatchDimension) {
  Graph g;
  std::mt19937_64 rng(8);
  NodeId x = g.input("x", {Shape::kBatch, 6});
  NodeId w = g.parameter("w", {6, 3}, Initializer::zeros());
  NodeId y = ops::matmul(g, x, w);
  EXPECT_EQ(g.shape(y), (Shape{Shape::kBatch, 3}));
  check_gradients(g, y, 4, {{"x", random_tensor({4, 6}, rng)}, {"w", random_tensor({6, 3}, rng)}}, {"x", "w"});
}

TEST(Gradient, AddSameShapeAndBias) {
  std::mt19937_64 rng(9);
  {
    Graph g;
    NodeId a = g.input("a", {kB, 5});
    NodeId b = g.input("b", {kB, 5});
    check_gradients(g, ops::add(g, a, b), kB, {{"a", random_tensor({kB, 5}, rng)}, {"b", random_tensor({kB, 5}, rng)}},
                    {"a", "b"});
  }
  {
    Graph g;
    NodeId a = g.input("a", {Shape::kBatch, 5});
    NodeId bias = g.parameter("bias", {5}, Initializer::zeros());
    check_gradients(g, ops::add(g, a, bias), kB,
                    {{"a", random_tensor({kB, 5}, rng)}, {"bias", random_tensor({5}, rng)}}, {"a", "bias"});
  }
}

TEST(Gradient, MulAndScale) {
  std::mt19937_64 rng(10);
  Graph g;
  NodeId a = g.input("a", {kB, 4});
  NodeId b = g.input("b", {kB, 4});
  NodeId y = ops::scale(g, ops::mul(g, a, b), -2.5f);
  check_gradients(g, y, kB, {{"a", random_tensor({kB, 4}, rng)}, {"b", random_tensor({kB, 4}, rng)}}, {"a", "b"});
}

TEST(Gradient, ActivationWithParameter) {
  std::mt19937_64 rng(11);
  Graph g;
  NodeId x = g.input("x", {kB, 7});
  NodeId y = ops::activation(g, x, testing::test_scaled_tanh(), {0.7});
  check_gradients(g, y, kB, {{"x", random_tensor({kB, 7}, rng, -2, 2)}}, {"x"});
}

TEST(Gradient, Softmax) {
  std::mt19937_64 rng(12);
  Graph g;
  NodeId x = g.input("x", {kB, 6});
  check_gradients(g, ops::softmax(g, x), kB, {{"x", random_tensor({kB, 6}, rng, -3, 3)}}, {"x"});
}

TEST(Gradient, SoftmaxCrossEntropySparseAndOneHot) {
  std::mt19937_64 rng(13);
  {
    Graph g;
    NodeId logits = g.input("logits", {Shape::kBatch, 5});
    NodeId labels = g.input("labels", {Shape::kBatch});
    NodeId loss = ops::softmax_cross_entropy(g, logits, labels, true);
    check_gradients(g, loss, 4,
                    {{"logits", random_tensor({4, 5}, rng, -3, 3)}, {"labels", {Shape{4}, {0, 4, 2, 2}}}}, {"logits"});
  }
  {
    Graph g;
    NodeId logits = g.input("logits", {kB, 4});
    NodeId target = g.input("target", {kB, 4});
    NodeId loss = ops::softmax_cross_entropy(g, logits, target, false);
    // Soft targets (rows sum to one) exercise the general formula.
    check_gradients(g, loss, kB,
                    {{"logits", random_tensor({kB, 4}, rng, -3, 3)},
                     {"target", {Shape{kB, 4}, {0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0.25, 0.25, 0.25, 0.25}}}},
                    {"logits"});
  }
}

TEST(Gradient, MeanSquaredErrorBothSides) {
  std::mt19937_64 rng(14);
  Graph g;
  NodeId p = g.input("p", {kB, 3});
  NodeId t = g.input("t", {kB, 3});
  check_gradients(g, ops::mean_squared_error(g, p, t), kB,
                  {{"p", random_tensor({kB, 3}, rng)}, {"t", random_tensor({kB, 3}, rng)}}, {"p", "t"});
}

TEST(Gradient, ReshapeFlattenAndReductions) {
  std::mt19937_64 rng(15);
  Graph g;
  NodeId x = g.input("x", {Shape::kBatch, 2, 3});
  NodeId flat = ops::flatten(g, x);
  EXPECT_EQ(g.shape(flat), (Shape{Shape::kBatch, 6}));
  NodeId rows = ops::sum_rows(g, flat);                        // [6]
  NodeId total = ops::add(g, ops::sum(g, rows), ops::mean(g, flat));  // scalar
  check_gradients(g, total, kB, {{"x", random_tensor({kB, 2, 3}, rng)}}, {"x"});
}

TEST(Gradient, FanOutGradientsAreSummed) {
  std::mt19937_64 rng(16);
  Graph g;
  NodeId x = g.input("x", {kB, 4});
  NodeId sq = ops::mul(g, x, x);                                   // x used twice by one op
  NodeId y = ops::add(g, sq, ops::activation(g, x, testing::test_sigmoid(), {}));  // and again
  check_gradients(g, y, kB, {{"x", random_tensor({kB, 4}, rng)}}, {"x"});
}

// The tutorial's first network: X (with a bias column) -> W -> sigmoid -> V -> softmax + CE.
struct SeedNet {
  Graph g;
  NodeId x, labels, w, v, hidden, logits, loss;
  SeedNet(int64_t in, int64_t hid, int64_t classes) {
    x = g.input("x", {Shape::kBatch, in});
    labels = g.input("labels", {Shape::kBatch, classes});
    w = g.parameter("w", {in, hid}, Initializer::normal());
    v = g.parameter("v", {hid, classes}, Initializer::normal());
    hidden = ops::activation(g, ops::matmul(g, x, w), testing::test_sigmoid(), {});
    logits = ops::matmul(g, hidden, v);
    loss = ops::softmax_cross_entropy(g, logits, labels, false);
  }
};

Values seed_values(int64_t n, int64_t in, int64_t hid, int64_t classes, std::mt19937_64& rng) {
  reference::DoubleTensor y{Shape{n, classes}, std::vector<double>(static_cast<size_t>(n * classes), 0.0)};
  for (int64_t r = 0; r < n; ++r) y.values[static_cast<size_t>(r * classes + (r * 7 + 3) % classes)] = 1.0;
  return {{"x", random_tensor({n, in}, rng)}, {"labels", y}, {"w", random_tensor({in, hid}, rng)},
          {"v", random_tensor({hid, classes}, rng)}};
}

TEST(Gradient, SeedNetworkFiniteDifferences) {
  std::mt19937_64 rng(17);
  SeedNet net(9, 7, 4);
  check_gradients(net.g, net.loss, 5, seed_values(5, 9, 7, 4, rng), {"w", "v"});
}

TEST(Gradient, SeedNetworkMatchesClosedForm) {
  // dJ/dW = (1/N) X^T [((s(Z) - Y) V^T) * S * (1 - S)],  dJ/dV = (1/N) S^T (s(Z) - Y), S = sigmoid(XW).
  const int64_t n = 6, in = 8, hid = 5, k = 3;
  std::mt19937_64 rng(18);
  SeedNet net(in, hid, k);
  auto grads = ops::gradients(net.g, net.loss, {net.w, net.v});
  Values values = seed_values(n, in, hid, k, rng);
  auto out = reference::evaluate_f64(net.g, n, values);
  const auto &X = values["x"].values, &Y = values["labels"].values, &W = values["w"].values, &V = values["v"].values;
  std::vector<double> S(n * hid), P(n * k);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < hid; ++c) {
      double z = 0;
      for (int64_t m = 0; m < in; ++m) z += X[r * in + m] * W[m * hid + c];
      S[r * hid + c] = 1 / (1 + std::exp(-z));
    }
    double mx = -1e300, sum = 0;
    std::vector<double> z(k);
    for (int64_t j = 0; j < k; ++j) {
      for (int64_t c = 0; c < hid; ++c) z[j] += S[r * hid + c] * V[c * k + j];
      mx = std::max(mx, z[j]);
    }
    for (int64_t j = 0; j < k; ++j) sum += std::exp(z[j] - mx);
    for (int64_t j = 0; j < k; ++j) P[r * k + j] = std::exp(z[j] - mx) / sum;
  }
  const auto& dW = out[static_cast<size_t>(grads[0])].values;
  const auto& dV = out[static_cast<size_t>(grads[1])].values;
  for (int64_t m = 0; m < in; ++m) {
    for (int64_t c = 0; c < hid; ++c) {
      double expect = 0;
      for (int64_t r = 0; r < n; ++r) {
        double back = 0;
        for (int64_t j = 0; j < k; ++j) back += (P[r * k + j] - Y[r * k + j]) * V[c * k + j];
        expect += X[r * in + m] * back * S[r * hid + c] * (1 - S[r * hid + c]);
      }
      EXPECT_NEAR(dW[m * hid + c], expect / n, 1e-12);
    }
  }
  for (int64_t c = 0; c < hid; ++c) {
    for (int64_t j = 0; j < k; ++j) {
      double expect = 0;
      for (int64_t r = 0; r < n; ++r) expect += S[r * hid + c] * (P[r * k + j] - Y[r * k + j]);
      EXPECT_NEAR(dV[c * k + j], expect / n, 1e-12);
    }
  }
}

TEST(Gradient, FrozenParametersGetNoBackwardNodes) {
  SeedNet net(4, 3, 2);
  const int32_t before = net.g.size();
  auto grads = ops::gradients(net.g, net.loss, {net.v});  // w frozen
  ASSERT_EQ(grads.size(), 1u);
  for (NodeId id = before; id < net.g.size(); ++id) {
    // No matmul producing a [4, 3] gradient for w.
    EXPECT_FALSE(net.g.node(id).op == OpKind::MatMul && net.g.shape(id) == (Shape{4, 3})) << net.g.node(id).name;
  }
}

TEST(Gradient, ErrorsNameTheOpAndShapes) {
  Graph g;
  NodeId a = g.input("a", {2, 3});
  NodeId b = g.input("b", {4, 5});
  try {
    ops::matmul(g, a, b);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Shape);
    EXPECT_NE(std::string(e.what()).find("'a' [2,3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'b' [4,5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ops::gradients(g, a, {a}), Error);  // loss not a scalar
  EXPECT_THROW(ops::add(g, a, b), Error);
  EXPECT_THROW(ops::reshape(g, a, {7}), Error);
}

}  // namespace
}  // namespace graphrun
