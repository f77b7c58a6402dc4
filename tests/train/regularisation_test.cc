// Regularisation: the per-layer l1/l2 weight penalties are exactly their terms in the loss,
// gradient clipping by value and by global norm bounds a step, and label smoothing gives the
// smoothed cross-entropy of the predicted probabilities.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/plugin_host.h"
#include "tests/support/tiny_dataset.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

using testing::make_tiny_dataset;

struct Net {
  Model model;
  ParameterStore params;
};

Net make_net(double l1, double l2, float smoothing = 0, std::vector<float> class_weights = {}) {
  SequentialSpec spec;
  spec.inputs = 8;
  spec.label_smoothing = smoothing;
  spec.class_weights = std::move(class_weights);
  DenseLayer hidden = dense_layer("hidden", 5, "tanh"), out = dense_layer("out", 3, "softmax");
  hidden.l1 = l1;
  hidden.l2 = l2;
  spec.layers = {hidden, out};
  Net n;
  n.model = build_sequential(spec, PluginRegistry::global());
  n.params = ParameterStore::initialize(n.model.graph, 11);  // the same seed: the same weights
  return n;
}

TrainConfig config(double clip_norm = 0, double clip_value = 0) {
  TrainConfig c;
  c.batch_size = 30;
  c.shuffle = false;
  c.learning_rate = 1.0;  // sgd: a step is minus the (clipped) gradient
  c.threads = 1;
  c.clip_norm = clip_norm;
  c.clip_value = clip_value;
  return c;
}

TEST(WeightPenalty, L1AndL2AreTheirTermsInTheLoss) {
  const io::Dataset data = make_tiny_dataset(30, 2);
  Net plain = make_net(0, 0), penalised = make_net(0.01, 0.1);
  Trainer a(plain.model, plain.params, config(), PluginRegistry::global());
  Trainer b(penalised.model, penalised.params, config(), PluginRegistry::global());
  const Tensor& w = penalised.params.at("hidden.weight");
  double abs_sum = 0, sq_sum = 0;
  for (int64_t i = 0; i < w.numel(); ++i) abs_sum += std::abs(w.data()[i]), sq_sum += double(w.data()[i]) * w.data()[i];
  EXPECT_NEAR(b.evaluate(data).loss - a.evaluate(data).loss, 0.01 * abs_sum + 0.1 * sq_sum, 1e-5);
}

TEST(WeightPenalty, L2ShrinksTheWeights) {
  const io::Dataset data = make_tiny_dataset(60, 3);
  Net plain = make_net(0, 0), penalised = make_net(0, 0.05);
  TrainConfig c = config();
  c.learning_rate = 0.1;
  c.epochs = 20;
  Trainer a(plain.model, plain.params, c, PluginRegistry::global());
  Trainer b(penalised.model, penalised.params, c, PluginRegistry::global());
  for (int e = 0; e < 20; ++e) a.train_epoch(data), b.train_epoch(data);
  auto norm = [](const Tensor& t) {
    double s = 0;
    for (int64_t i = 0; i < t.numel(); ++i) s += double(t.data()[i]) * t.data()[i];
    return std::sqrt(s);
  };
  EXPECT_LT(norm(penalised.params.at("hidden.weight")), 0.8 * norm(plain.params.at("hidden.weight")));
}

// The largest change and the global change norm of one step.
std::pair<double, double> step_change(double clip_norm, double clip_value) {
  const io::Dataset data = make_tiny_dataset(30, 4);
  Net n = make_net(0, 0);
  const char* names[] = {"hidden.weight", "hidden.bias", "out.weight", "out.bias"};
  std::vector<std::vector<float>> before;
  for (const char* name : names)
    before.emplace_back(n.params.at(name).data(), n.params.at(name).data() + n.params.at(name).numel());
  Trainer t(n.model, n.params, config(clip_norm, clip_value), PluginRegistry::global());
  t.train_epoch(data);  // one batch: one step
  double largest = 0, sq = 0;
  for (size_t k = 0; k < 4; ++k) {
    const std::vector<float>& x = before[k];
    const Tensor& y = n.params.at(names[k]);
    for (size_t i = 0; i < x.size(); ++i) {
      const double d = double(y.data()[i]) - x[i];
      largest = std::max(largest, std::abs(d));
      sq += d * d;
    }
  }
  return {largest, std::sqrt(sq)};
}

TEST(GradientClipping, ByValueAndByGlobalNorm) {
  const auto [free_largest, free_norm] = step_change(0, 0);
  ASSERT_GT(free_largest, 0.02) << "the unclipped step is larger than the clips below";
  ASSERT_GT(free_norm, 0.05);
  EXPECT_LE(step_change(0, 0.01).first, 0.01 + 1e-7);
  const auto [largest, norm] = step_change(0.05, 0);
  EXPECT_NEAR(norm, 0.05, 1e-6);
  EXPECT_LT(largest, free_largest);
}

TEST(LabelSmoothing, IsTheSmoothedCrossEntropy) {
  const float s = 0.2f;
  const io::Dataset data = make_tiny_dataset(30, 5);
  Net n = make_net(0, 0, s);
  ASSERT_FALSE(n.model.sparse_labels) << "smoothed labels are dense";
  Trainer t(n.model, n.params, config(), PluginRegistry::global());
  Tensor probs;
  t.predict(data.features, probs);
  double want = 0;
  for (int64_t i = 0; i < 30; ++i) {
    for (int64_t c = 0; c < 3; ++c) {
      const double target = (c == data.labels[static_cast<size_t>(i)] ? 1.0 - s : 0.0) + s / 3.0;
      want -= target * std::log(double(probs.data()[i * 3 + c]));
    }
  }
  const Evaluation e = t.evaluate(data);
  EXPECT_NEAR(e.loss, want / 30, 1e-5);
  EXPECT_GE(e.accuracy, 0.0);
}

TEST(ClassWeights, ScaleEachSamplesLossByItsClass) {
  const io::Dataset data = make_tiny_dataset(30, 6);
  const std::vector<float> w = {0.5f, 1.0f, 3.0f};
  Net n = make_net(0, 0, 0, w);
  Trainer t(n.model, n.params, config(), PluginRegistry::global());
  Tensor probs;
  t.predict(data.features, probs);
  double want = 0;
  for (int64_t i = 0; i < 30; ++i) {
    const int32_t y = data.labels[static_cast<size_t>(i)];
    want -= w[static_cast<size_t>(y)] * std::log(double(probs.data()[i * 3 + y]));
  }
  EXPECT_NEAR(t.evaluate(data).loss, want / 30, 1e-5);
}

TEST(ClassWeights, DoubleWeightsAreADoubleGradient) {
  // SGD: weights of 2 with lr 0.5 take the step of no weights with lr 1.
  const io::Dataset data = make_tiny_dataset(30, 7);
  Net plain = make_net(0, 0), doubled = make_net(0, 0, 0, {2.0f, 2.0f, 2.0f});
  TrainConfig half = config();
  half.learning_rate = 0.5;
  Trainer a(plain.model, plain.params, config(), PluginRegistry::global());
  Trainer b(doubled.model, doubled.params, half, PluginRegistry::global());
  a.train_epoch(data);
  b.train_epoch(data);
  for (const char* name : {"hidden.weight", "out.weight", "out.bias"}) {
    const Tensor &x = plain.params.at(name), &y = doubled.params.at(name);
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(x.data()[i], y.data()[i], 1e-6) << name << "[" << i << "]";
  }
}

}  // namespace
}  // namespace graphrun::train
