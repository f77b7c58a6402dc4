// At batch size 1 the trainer folds each dense layer's weight gradient x^T dz into the
// optimizer's update (TrainingStep, Optimizer::step with GradientRef outer products). The
// fused path must train exactly as the stored-gradient path: same floats, every parameter,
// with momentum and without, on one thread and on two (where the update is split by columns).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "train/trainer.h"

namespace graphrun::train {
namespace {

io::Dataset make_data(int64_t n, int64_t d, uint32_t seed) {
  io::Dataset data;
  data.features = Tensor(Shape{n, d});
  data.num_classes = 5;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& f : data.features.span()) f = u(rng);
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int64_t>(rng() % 5));
  return data;
}

struct TrainedNet {
  ParameterStore params;
  int fused = 0;
  double loss = 0;
  double moved = 0;  // largest change of a first-layer weight
};

// 300 -> 256 relu -> 96 sigmoid -> 5 softmax: the first weight (76,800 floats) is large enough
// for the optimizer to split it across two threads.
TrainedNet train(bool fuse, int threads, double momentum, int64_t batch) {
  SequentialSpec spec;
  spec.inputs = 300;
  spec.layers = {dense_layer("hidden", 256, "relu"), dense_layer("hidden2", 96, "sigmoid"),
                 dense_layer("out", 5, "softmax")};
  Model model = build_sequential(spec, PluginRegistry::global());
  TrainedNet r{ParameterStore::initialize(model.graph, 9)};
  TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.threads = threads;
  cfg.learning_rate = 0.05;
  cfg.seed = 4;
  if (momentum > 0) cfg.optimizer_params = {{"momentum", momentum}};
  Trainer trainer(model, r.params, cfg, PluginRegistry::global());
  trainer.set_fuse_outer_products(fuse);
  r.fused = trainer.training_step(batch).fused;
  const io::Dataset data = make_data(48, 300, 8);
  for (int e = 0; e < 2; ++e) r.loss = trainer.train_epoch(data).loss;
  const ParameterStore initial = ParameterStore::initialize(model.graph, 9);
  const auto w = r.params.at("hidden.weight").span();
  const auto w0 = initial.at("hidden.weight").span();
  for (size_t k = 0; k < w.size(); ++k) r.moved = std::max(r.moved, static_cast<double>(std::abs(w[k] - w0[k])));
  return r;
}

void expect_same_parameters(const ParameterStore& a, const ParameterStore& b, const std::string& label) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = a.tensor(i).span(), y = b.tensor(i).span();
    ASSERT_EQ(x.size(), y.size());
    int64_t differ = 0;
    for (size_t k = 0; k < x.size(); ++k) differ += x[k] != y[k];
    EXPECT_EQ(differ, 0) << label << ": " << a.name(i) << " differs in " << differ << " of " << x.size() << " floats";
  }
}

TEST(FusedUpdate, BatchOneTrainsExactlyAsTheStoredGradient) {
  for (int threads : {1, 2}) {
    for (double momentum : {0.0, 0.9}) {
      const std::string label = std::to_string(threads) + " threads, momentum " + std::to_string(momentum);
      const TrainedNet fused = train(true, threads, momentum, 1);
      const TrainedNet stored = train(false, threads, momentum, 1);
      EXPECT_EQ(fused.fused, 3) << label << ": every dense layer's weight gradient should be fused";
      EXPECT_EQ(stored.fused, 0) << label;
      EXPECT_EQ(fused.loss, stored.loss) << label;
      expect_same_parameters(fused.params, stored.params, label);
      EXPECT_GT(fused.moved, 0.01) << label << ": training should have changed the weights";
    }
  }
}

TEST(FusedUpdate, OnlyAtBatchOne) {
  EXPECT_EQ(train(true, 1, 0.0, 16).fused, 0);
  EXPECT_EQ(train(true, 1, 0.0, 1).fused, 3);
}

}  // namespace
}  // namespace graphrun::train
