// The regression and binary losses through the C++ API: mae, huber and mse learn a linear
// target, binary_cross_entropy a binary and a two-label target, and each beats its trivial
// baseline on held-out data; data that do not fit the loss are refused in one line.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/plugin_host.h"
#include "train/fit.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

// y = x0 - 2 x1 + 0.5 x2 (+ a second column x3 for two targets), features uniform in [-1, 1].
io::Dataset linear_data(int64_t n, int64_t targets, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor x(Shape{n, 4}), y(Shape{n, targets});
  for (int64_t i = 0; i < n; ++i) {
    float* r = x.data() + i * 4;
    for (int j = 0; j < 4; ++j) r[j] = u(rng);
    y.data()[i * targets] = r[0] - 2 * r[1] + 0.5f * r[2];
    if (targets > 1) y.data()[i * targets + 1] = r[3];
  }
  return io::make_target_dataset(std::move(x), std::move(y), "linear");
}

// Label j of a sample is 1 when feature j is positive (one label: feature 0).
io::Dataset label_data(int64_t n, int64_t labels, uint32_t seed) {
  io::Dataset d = linear_data(n, 1, seed);
  Tensor y(Shape{n, labels});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < labels; ++j) y.data()[i * labels + j] = d.features.data()[i * 4 + j] > 0 ? 1.0f : 0.0f;
  }
  return io::make_target_dataset(std::move(d.features), std::move(y), "labels");
}

struct Net {
  Model model;
  ParameterStore params;
};

Net make_net(Loss loss, int64_t outputs, const char* out_activation) {
  SequentialSpec spec;
  spec.inputs = 4;
  spec.loss = loss;
  spec.huber_delta = 0.5f;
  spec.layers = {dense_layer("hidden", 16, "tanh"), dense_layer("out", outputs, out_activation)};
  Net n;
  n.model = build_sequential(spec, PluginRegistry::global());
  n.params = ParameterStore::initialize(n.model.graph, 3);
  return n;
}

TrainConfig config(int64_t epochs) {
  TrainConfig c;
  c.epochs = epochs;
  c.batch_size = 16;
  c.optimizer = "adam";
  c.learning_rate = 0.01;
  c.threads = 1;
  c.context = "test";
  return c;
}

class RegressionLoss : public ::testing::TestWithParam<Loss> {};

TEST_P(RegressionLoss, LearnsALinearTargetWellBeyondTheMean) {
  Net n = make_net(GetParam(), 2, "linear");
  Trainer t(n.model, n.params, config(30), PluginRegistry::global());
  const io::Dataset train = linear_data(400, 2, 1), test = linear_data(200, 2, 2);
  const Evaluation before = t.evaluate(test);
  fit(t, n.params, train, {}, {});
  const Evaluation after = t.evaluate(test);
  EXPECT_TRUE(std::isnan(after.accuracy)) << "regression has no accuracy";
  EXPECT_TRUE(after.confusion.empty());
  EXPECT_LT(after.loss, before.loss / 4);
  // Predicting the mean gives R² = 0; the fit explains most of the variance.
  EXPECT_GT(after.metrics.r2, 0.9) << to_string(GetParam());
  EXPECT_LT(after.metrics.rmse, 0.4);
  EXPECT_LE(after.metrics.mae, after.metrics.rmse);
}

INSTANTIATE_TEST_SUITE_P(Losses, RegressionLoss,
                         ::testing::Values(Loss::MeanSquaredError, Loss::MeanAbsoluteError, Loss::Huber),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(BinaryCrossEntropy, BinaryTargetBeatsTheMajorityClass) {
  Net n = make_net(Loss::BinaryCrossEntropy, 1, "sigmoid");
  ASSERT_NE(n.model.logits, kNoNode) << "the sigmoid is fused into the loss";
  Trainer t(n.model, n.params, config(20), PluginRegistry::global());
  const io::Dataset train = label_data(400, 1, 3), test = label_data(200, 1, 4);
  fit(t, n.params, train, {}, {});
  const Evaluation e = t.evaluate(test);
  EXPECT_GT(e.accuracy, 0.9);  // the majority class is right about half the time
  EXPECT_GT(e.metrics.roc_auc, 0.97);
  EXPECT_GT(e.metrics.f1, 0.9);
  ASSERT_EQ(e.confusion.size(), 2u) << "one sigmoid output: the classes 0 and 1";
  EXPECT_EQ(e.confusion[0][0] + e.confusion[0][1] + e.confusion[1][0] + e.confusion[1][1], 200);
  Tensor probs;
  t.predict(test.features, probs);
  for (int64_t i = 0; i < probs.numel(); ++i) ASSERT_TRUE(probs.data()[i] >= 0 && probs.data()[i] <= 1);
}

TEST(BinaryCrossEntropy, MultiLabelTargets) {
  Net n = make_net(Loss::BinaryCrossEntropy, 3, "sigmoid");
  Trainer t(n.model, n.params, config(30), PluginRegistry::global());
  const io::Dataset train = label_data(400, 3, 5), test = label_data(200, 3, 6);
  fit(t, n.params, train, {}, {});
  const Evaluation e = t.evaluate(test);
  EXPECT_GT(e.accuracy, 0.8) << "every label of a sample right";
  EXPECT_GT(e.metrics.f1, 0.9) << "micro-averaged over the labels";
  EXPECT_TRUE(e.confusion.empty());
}

TEST(Monitor, EarlyStoppingOnAValidationMetric) {
  Net n = make_net(Loss::Huber, 2, "linear");
  TrainConfig c = config(200);
  c.early_stopping.enabled = true;
  c.early_stopping.monitor = "val_r2";  // larger is better
  c.early_stopping.patience = 3;
  c.early_stopping.min_delta = 1e-3;
  Trainer t(n.model, n.params, c, PluginRegistry::global());
  const FitResult r = fit(t, n.params, linear_data(300, 2, 7), linear_data(100, 2, 8), {});
  ASSERT_FALSE(r.history.empty());
  EXPECT_TRUE(r.stopped_early) << "R² stops improving by 1e-3 long before 200 epochs";
  double best = -1;
  for (const HistoryRow& row : r.history) {
    ASSERT_EQ(row.val_metrics.size(), 3u);  // mae, rmse, r2
    EXPECT_EQ(row.val_metrics[2].first, "r2");
    best = std::max(best, row.val_metrics[2].second);
  }
  // The best epoch is the last that improved by more than min_delta: within it of the maximum.
  EXPECT_GE(r.history[static_cast<size_t>(r.best_epoch - 1)].val_metrics[2].second, best - 1e-3);
  EXPECT_LT(r.best_epoch, static_cast<int64_t>(r.history.size()));
}

TEST(Monitor, AMetricTheLossDoesNotGiveIsRefused) {
  SequentialSpec spec;
  spec.inputs = 4;
  spec.loss = Loss::BinaryCrossEntropy;
  spec.layers = {dense_layer("out", 1, "sigmoid")};
  Model m = build_sequential(spec, PluginRegistry::global());
  ParameterStore p = ParameterStore::initialize(m.graph, 1);
  TrainConfig c = config(3);
  c.early_stopping.enabled = true;
  c.early_stopping.monitor = "val_r2";
  Trainer t(m, p, c, PluginRegistry::global());
  try {
    fit(t, p, label_data(40, 1, 1), label_data(20, 1, 2), {});
    FAIL() << "monitored a metric binary_cross_entropy does not give";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("\"val_r2\": this model's loss does not give it"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("val_roc_auc"), std::string::npos) << e.what();
  }
}

TEST(LossData, FloatTargetsForCrossEntropyAreRefused) {
  SequentialSpec spec;
  spec.inputs = 4;
  spec.layers = {dense_layer("out", 2, "softmax")};
  Model m = build_sequential(spec, PluginRegistry::global());
  ParameterStore p = ParameterStore::initialize(m.graph, 1);
  Trainer t(m, p, config(1), PluginRegistry::global());
  try {
    t.train_epoch(linear_data(10, 2, 1));
    FAIL() << "float targets trained a cross-entropy model";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("float targets; the cross_entropy loss expects class labels"),
              std::string::npos)
        << e.what();
  }
}

TEST(LossData, TargetColumnsMustMatchTheOutputs) {
  Net n = make_net(Loss::MeanSquaredError, 2, "linear");
  Trainer t(n.model, n.params, config(1), PluginRegistry::global());
  try {
    t.train_epoch(linear_data(10, 1, 1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 target columns, the model has 2 outputs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graphrun::train
