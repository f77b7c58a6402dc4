// Autodiff on whole graphs: the seed network's gradient against finite differences and its
// closed form, frozen parameters, shape errors. Each op's own gradient is checked against
// finite differences by the consistency table (tests/backends/consistency_cases.cc).
#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

using testing::check_gradients;
using testing::random_tensor;
using Values = std::map<std::string, reference::DoubleTensor>;

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
  return {{"x", random_tensor({n, in}, rng)},
          {"labels", y},
          {"w", random_tensor({in, hid}, rng)},
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

TEST(Gradient, WeightedSeedNetworkFiniteDifferences) {
  // The seed network with per-sample weights (one of them 0) on its loss, in a batch of 5.
  std::mt19937_64 rng(19);
  Graph g;
  const NodeId x = g.input("x", {Shape::kBatch, 6}), labels = g.input("labels", {Shape::kBatch});
  const NodeId weights = g.input("weights", {Shape::kBatch});
  const NodeId w = g.parameter("w", {6, 4}, Initializer::normal());
  const NodeId logits = ops::matmul(g, ops::activation(g, ops::matmul(g, x, w), testing::test_sigmoid(), {}),
                                    g.parameter("v", {4, 3}, Initializer::normal()));
  const NodeId loss = ops::with_sample_weights(g, ops::softmax_cross_entropy(g, logits, labels, true), weights);
  Values values = {{"x", random_tensor({5, 6}, rng)},
                   {"labels", {Shape{5}, {0, 2, 1, 1, 0}}},
                   {"weights", {Shape{5}, {0.5, 2.0, 0.0, 1.0, 3.0}}},
                   {"w", random_tensor({6, 4}, rng)},
                   {"v", random_tensor({4, 3}, rng)}};
  check_gradients(g, loss, 5, values, {"w", "v"});
}

TEST(Gradient, SampleWeightErrors) {
  Graph g;
  const NodeId p = g.input("p", {Shape::kBatch, 3}), t = g.input("t", {Shape::kBatch, 3});
  const NodeId w3 = g.input("w3", {3}), w = g.input("w", {Shape::kBatch});
  const NodeId loss = ops::mean_squared_error(g, p, t);
  EXPECT_THROW(ops::with_sample_weights(g, loss, w3), Error);  // not [N]
  EXPECT_THROW(ops::with_sample_weights(g, p, w), Error);      // not a loss
  const NodeId late = g.input("late", {Shape::kBatch});
  EXPECT_THROW(ops::with_sample_weights(g, loss, late), Error);  // made after the loss
  ops::with_sample_weights(g, loss, w);
  EXPECT_THROW(ops::with_sample_weights(g, loss, w), Error);  // weighted already
  try {
    ops::gradients(g, loss, {w});
    FAIL() << "a gradient with respect to the weights";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no gradient with respect to the sample weights"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace graphrun
