// Per-sample weights (io::Dataset::weights), class weights and binary_cross_entropy's pos_weight
// through the C++ API: the evaluated loss is sum_i w_i loss_i / N for every loss, zero-weight
// samples do not move the weights, and data whose weights the model does not take are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/plugin_host.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

// Features uniform in [-1, 1]; targets: 0/1 (feature j > 0) for the binary loss, a class index
// (argmax of the first three features) for cross-entropy, else a linear target.
io::Dataset make_data(Loss loss, int64_t n, int64_t outputs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor x(Shape{n, 4}), y(Shape{n, outputs});
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    float* r = x.data() + i * 4;
    for (int j = 0; j < 4; ++j) r[j] = u(rng);
    labels.push_back(r[0] > r[1] ? (r[0] > r[2] ? 0 : 2) : (r[1] > r[2] ? 1 : 2));
    for (int64_t j = 0; j < outputs; ++j) {
      y.data()[i * outputs + j] = loss == Loss::BinaryCrossEntropy ? (r[j] > 0 ? 1.0f : 0.0f) : r[0] - 2 * r[j + 1];
    }
  }
  io::Dataset d = loss == Loss::CrossEntropy ? io::make_dataset(std::move(x), std::move(labels), "data")
                                             : io::make_target_dataset(std::move(x), std::move(y), "data");
  for (int64_t i = 0; i < n; ++i) d.weights.push_back(i % 5 == 4 ? 0.0f : 0.25f + 0.5f * static_cast<float>(i % 7));
  return d;
}

struct Net {
  Model model;
  ParameterStore params;
};

Net make_net(Loss loss, int64_t outputs, bool weights, std::vector<float> pos_weight = {},
             std::vector<float> class_weights = {}) {
  SequentialSpec spec;
  spec.inputs = 4;
  spec.loss = loss;
  spec.huber_delta = 0.5f;
  spec.sample_weights = weights;
  spec.pos_weight = std::move(pos_weight);
  spec.class_weights = std::move(class_weights);
  const char* out = loss == Loss::CrossEntropy ? "softmax" : loss == Loss::BinaryCrossEntropy ? "sigmoid" : "linear";
  spec.layers = {dense_layer("hidden", 8, "tanh"), dense_layer("out", outputs, out)};
  Net n;
  n.model = build_sequential(spec, PluginRegistry::global());
  n.params = ParameterStore::initialize(n.model.graph, 3);
  return n;
}

TrainConfig config(int64_t batch, double lr) {
  TrainConfig c;
  c.batch_size = batch;
  c.optimizer = "sgd";
  c.learning_rate = lr;
  c.threads = 1;
  c.context = "test";
  return c;
}

// Sample i's own (unweighted) loss: the data set cut to that one sample.
double sample_loss(Trainer& t, const io::Dataset& d, int64_t i) {
  const int64_t row[] = {i};
  io::Dataset one = io::take_rows(d, row, "one");
  one.weights.clear();
  return t.evaluate(one).loss;
}

class WeightedLoss : public ::testing::TestWithParam<Loss> {};

TEST_P(WeightedLoss, IsTheWeightedSumOverTheBatchSize) {
  const Loss loss = GetParam();
  const int64_t outputs = loss == Loss::CrossEntropy ? 3 : 2;
  Net n = make_net(loss, outputs, true);
  Trainer t(n.model, n.params, config(16, 0.1), PluginRegistry::global());
  const io::Dataset d = make_data(loss, 23, outputs, 1);
  double want = 0;
  for (int64_t i = 0; i < d.size(); ++i) want += d.weights[static_cast<size_t>(i)] * sample_loss(t, d, i);
  const double got = t.evaluate(d, 16).loss;  // batches of 16 and 7: each divides by its size
  EXPECT_NEAR(got, want / 23, 1e-5 * std::max(1.0, want / 23)) << to_string(loss);
}

TEST_P(WeightedLoss, ZeroWeightSamplesDoNotMoveTheWeights) {
  // One full-batch SGD step: 20 samples plus 10 of weight 0 with lr * 30 / 20 is the step of
  // the 20 alone (the loss divides by the batch size, zero-weight samples included).
  const Loss loss = GetParam();
  const int64_t outputs = loss == Loss::CrossEntropy ? 3 : 2;
  io::Dataset all = make_data(loss, 30, outputs, 2);
  for (size_t i = 0; i < all.weights.size(); ++i) all.weights[i] = i < 20 ? 1.0f : 0.0f;
  std::vector<int64_t> first(20);
  for (int64_t i = 0; i < 20; ++i) first[static_cast<size_t>(i)] = i;
  const io::Dataset kept = io::take_rows(all, first, "kept");
  Net a = make_net(loss, outputs, true), b = make_net(loss, outputs, true);
  Trainer ta(a.model, a.params, config(30, 0.3), PluginRegistry::global());
  Trainer tb(b.model, b.params, config(30, 0.3 * 30 / 20), PluginRegistry::global());
  ta.train_epoch(kept);
  tb.train_epoch(all);
  for (const char* name : {"hidden.weight", "out.weight", "out.bias"}) {
    const Tensor &x = a.params.at(name), &y = b.params.at(name);
    for (int64_t i = 0; i < x.numel(); ++i) ASSERT_NEAR(x.data()[i], y.data()[i], 1e-5) << name << "[" << i << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(Losses, WeightedLoss,
                         ::testing::Values(Loss::CrossEntropy, Loss::MeanSquaredError, Loss::MeanAbsoluteError,
                                           Loss::Huber, Loss::BinaryCrossEntropy),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(PosWeight, IsPyTorchsWeightOfThePositiveTerm) {
  const std::vector<float> pw = {3.0f, 0.5f};
  Net n = make_net(Loss::BinaryCrossEntropy, 2, false, pw);
  Trainer t(n.model, n.params, config(16, 0.1), PluginRegistry::global());
  io::Dataset d = make_data(Loss::BinaryCrossEntropy, 19, 2, 3);
  d.weights.clear();
  Tensor probs;
  t.predict(d.features, probs);
  double want = 0;
  for (int64_t i = 0; i < 19 * 2; ++i) {
    const double s = probs.data()[i], y = d.targets.data()[i];
    want -= pw[static_cast<size_t>(i % 2)] * y * std::log(s) + (1 - y) * std::log(1 - s);
  }
  EXPECT_NEAR(t.evaluate(d).loss, want / 38, 1e-5);
}

TEST(ClassWeights, BinaryOutputWeighsEachSampleByItsTarget) {
  const std::vector<float> cw = {0.5f, 4.0f};
  // The same network (same seed) without class weights gives each sample's own loss.
  Net n = make_net(Loss::BinaryCrossEntropy, 1, true, {}, cw), plain = make_net(Loss::BinaryCrossEntropy, 1, true);
  Trainer t(n.model, n.params, config(16, 0.1), PluginRegistry::global());
  Trainer tp(plain.model, plain.params, config(16, 0.1), PluginRegistry::global());
  const io::Dataset d = make_data(Loss::BinaryCrossEntropy, 21, 1, 4);
  double want = 0;
  for (int64_t i = 0; i < d.size(); ++i) {
    const float cls = cw[d.targets.data()[i] >= 0.5f ? 1 : 0];
    want += cls * d.weights[static_cast<size_t>(i)] * sample_loss(tp, d, i);
  }
  EXPECT_NEAR(t.evaluate(d).loss, want / 21, 1e-5);
}

TEST(SampleWeights, DataWithWeightsNeedAModelThatTakesThem) {
  Net n = make_net(Loss::MeanSquaredError, 2, false);
  Trainer t(n.model, n.params, config(16, 0.1), PluginRegistry::global());
  try {
    t.train_epoch(make_data(Loss::MeanSquaredError, 10, 2, 5));
    FAIL() << "trained on weights the model ignores";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("have sample weights; the model was built without them"), std::string::npos)
        << e.what();
  }
}

TEST(SampleWeights, ANegativeWeightIsRefused) {
  Net n = make_net(Loss::Huber, 2, true);
  Trainer t(n.model, n.params, config(16, 0.1), PluginRegistry::global());
  io::Dataset d = make_data(Loss::Huber, 10, 2, 6);
  d.weights[3] = -1.0f;
  try {
    t.train_epoch(d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 3 has weight -1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graphrun::train
