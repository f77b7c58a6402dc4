// batch_norm, layer_norm, dropout and concat: gradients against central finite differences in
// double (f64 reference interpreter), in the mode each test names; and their shape rules.
// Each case is a (graph, shapes, mode, tolerance) row so it moves into a table unchanged.
#include <gtest/gtest.h>

#include "core/error.h"
#include "ops/layers.h"
#include "tests/support/gradient_check.h"

namespace graphrun {
namespace {

using testing::check_gradients;
using testing::random_tensor;
using Values = std::map<std::string, reference::DoubleTensor>;

constexpr bool kTraining = true, kInference = false;

// A batch norm layer on x of shape `s` (batch first) in the given mode: gradients of x, gamma
// and beta; the running variance positive (inference divides by it).
void check_batch_norm(const Shape& s, bool training, uint64_t seed) {
  Graph g;
  std::mt19937_64 rng(seed);
  Shape batched = s;
  batched[0] = Shape::kBatch;
  NodeId x = g.input("x", batched);
  NodeId y = ops::batch_norm(g, x, "bn", 0.9f, 1e-3f);
  const Shape c{s[1]};
  Values v{{"x", random_tensor(s, rng, -2.0, 3.0)},
           {"bn.gamma", random_tensor(c, rng, 0.5, 1.5)},
           {"bn.beta", random_tensor(c, rng)},
           {"bn.running_mean", random_tensor(c, rng)},
           {"bn.running_var", random_tensor(c, rng, 0.5, 2.0)}};
  check_gradients(g, y, s[0], v, {"x", "bn.gamma", "bn.beta"}, seed, 1e-6, training);
}

TEST(LayersGradient, BatchNormNCHWTraining) { check_batch_norm({3, 4, 3, 5}, kTraining, 1); }
TEST(LayersGradient, BatchNormNCHWInference) { check_batch_norm({3, 4, 3, 5}, kInference, 2); }
TEST(LayersGradient, BatchNormFeaturesTraining) { check_batch_norm({5, 7}, kTraining, 3); }
TEST(LayersGradient, BatchNormFeaturesInference) { check_batch_norm({5, 7}, kInference, 4); }
TEST(LayersGradient, BatchNormOneSampleSpatial) { check_batch_norm({1, 3, 2, 3}, kTraining, 5); }

void check_layer_norm(const Shape& s, int32_t axis, uint64_t seed) {
  Graph g;
  std::mt19937_64 rng(seed);
  Shape batched = s;
  batched[0] = Shape::kBatch;
  NodeId x = g.input("x", batched);
  NodeId y = ops::layer_norm(g, x, "ln", axis, 1e-3f);
  const Shape p = g.shape(g.at("ln.gamma"));
  Values v{{"x", random_tensor(s, rng, -2.0, 3.0)},
           {"ln.gamma", random_tensor(p, rng, 0.5, 1.5)},
           {"ln.beta", random_tensor(p, rng)}};
  check_gradients(g, y, s[0], v, {"x", "ln.gamma", "ln.beta"}, seed);
}

TEST(LayersGradient, LayerNormLastAxis) { check_layer_norm({3, 7}, -1, 11); }
TEST(LayersGradient, LayerNormTrailingDims) { check_layer_norm({2, 3, 5}, 1, 12); }
TEST(LayersGradient, LayerNormLastOfImage) { check_layer_norm({2, 3, 2, 5}, -1, 13); }

// y = concat(inputs) along axis, with inputs of the given per-sample shapes.
void check_concat(const std::vector<Shape>& shapes, int32_t axis, uint64_t seed) {
  Graph g;
  std::mt19937_64 rng(seed);
  constexpr int64_t kBatch = 3;
  std::vector<NodeId> in;
  Values v;
  std::vector<std::string> names;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Shape batched{Shape::kBatch}, concrete{kBatch};
    for (int64_t d : shapes[i]) batched.push_back(d), concrete.push_back(d);
    names.push_back("x");
    names.back() += std::to_string(i);
    in.push_back(g.input(names.back(), batched));
    v[names.back()] = random_tensor(concrete, rng);
  }
  check_gradients(g, ops::concat(g, in, axis), kBatch, v, names, seed);
}

TEST(LayersGradient, ConcatChannels) { check_concat({{2, 3, 5}, {4, 3, 5}}, 1, 21); }
TEST(LayersGradient, ConcatHeight) { check_concat({{2, 1, 5}, {2, 3, 5}, {2, 2, 5}}, 2, 22); }
TEST(LayersGradient, ConcatLastAxis) { check_concat({{2, 3}, {2, 1}, {2, 4}}, -1, 23); }
TEST(LayersGradient, ConcatFeatures) { check_concat({{5}, {1}, {2}}, 1, 24); }

// The same mask in the forward and the gradient (seed 0, step 0): the derivative is exact.
TEST(LayersGradient, DropoutFixedMask) {
  for (bool training : {kTraining, kInference}) {
    Graph g;
    std::mt19937_64 rng(31);
    NodeId x = g.input("x", {Shape::kBatch, 3, 17});
    NodeId y = ops::dropout(g, x, 0.3f, "drop");
    check_gradients(g, y, 4, {{"x", random_tensor({4, 3, 17}, rng)}}, {"x"}, 31, 1e-7, training);
  }
}

// Dropout in training mode zeroes about `rate` of the elements and scales the others.
TEST(LayersGradient, DropoutMaskRateAndScale) {
  Graph g;
  NodeId x = g.input("x", {Shape::kBatch, 1000});
  NodeId y = ops::dropout(g, x, 0.25f, "drop");
  reference::DoubleTensor ones{{10, 1000}, std::vector<double>(10000, 1.0)};
  const auto out = reference::evaluate_f64(g, 10, {{"x", ones}}, kTraining, RunState{7, 3});
  int64_t kept = 0;
  for (double value : out[static_cast<size_t>(y)].values) {
    if (value != 0.0) {
      EXPECT_DOUBLE_EQ(value, 1.0 / 0.75);
      ++kept;
    }
  }
  EXPECT_NEAR(static_cast<double>(kept) / 10000.0, 0.75, 0.015);
  // Another step draws another mask; inference passes x through.
  const auto other = reference::evaluate_f64(g, 10, {{"x", ones}}, kTraining, RunState{7, 4});
  EXPECT_NE(out[static_cast<size_t>(y)].values, other[static_cast<size_t>(y)].values);
  const auto infer = reference::evaluate_f64(g, 10, {{"x", ones}}, kInference, RunState{7, 3});
  EXPECT_EQ(infer[static_cast<size_t>(y)].values, ones.values);
}

TEST(LayersShapes, RulesAndErrors) {
  Graph g;
  NodeId img = g.input("img", {Shape::kBatch, 4, 6, 6});
  NodeId other = g.input("other", {Shape::kBatch, 2, 6, 5});
  NodeId feat = g.input("feat", {Shape::kBatch, 10});
  EXPECT_EQ(g.shape(ops::batch_norm(g, img, "bn")), (Shape{Shape::kBatch, 4, 6, 6}));
  EXPECT_EQ(g.shape(g.at("bn.running_var")), (Shape{4}));
  EXPECT_FALSE(g.node(g.at("bn.running_mean")).trainable);
  EXPECT_TRUE(g.node(g.at("bn.gamma")).trainable);
  EXPECT_EQ(g.shape(ops::layer_norm(g, img, "ln", 2)), (Shape{Shape::kBatch, 4, 6, 6}));
  EXPECT_EQ(g.shape(g.at("ln.gamma")), (Shape{6, 6}));
  EXPECT_EQ(g.shape(ops::concat(g, {img, img}, 1)), (Shape{Shape::kBatch, 8, 6, 6}));
  EXPECT_EQ(g.shape(ops::slice(g, img, 3, 1, 4)), (Shape{Shape::kBatch, 4, 6, 4}));
  EXPECT_THROW(ops::concat(g, {img, other}, 1), Error);  // widths differ
  EXPECT_THROW(ops::concat(g, {img, img}, 0), Error);    // the batch dimension
  EXPECT_THROW(ops::concat(g, {img, feat}, 1), Error);   // ranks differ
  EXPECT_THROW(ops::slice(g, img, 1, 3, 2), Error);      // past the end
  EXPECT_THROW(ops::dropout(g, feat, 1.0f), Error);
  EXPECT_THROW(ops::dropout(g, feat, -0.1f), Error);
  EXPECT_THROW(ops::layer_norm(g, feat, "ln0", 0), Error);  // over the batch
  EXPECT_THROW(ops::batch_norm(g, g.input("flat", {Shape::kBatch}), "bn1"), Error);
  NodeId gamma = g.parameter("gamma5", {5}, Initializer::zeros());
  EXPECT_THROW(ops::batch_norm(g, img, gamma, gamma, gamma, gamma), Error);  // [5] for 4 channels
  try {
    ops::concat(g, {img, other}, 1);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'other' [N,2,6,5]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graphrun
