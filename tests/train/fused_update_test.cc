// The trainer leaves each dense layer's weight gradient x^T dz to the optimizer, which makes it
// inside its update (TrainingStep, Optimizer::step with product GradientRefs): at batch size 1
// through sgd's step_outer, otherwise block by block through the Highway GEMM. The fused path
// must train exactly as the stored-gradient path: same floats, every parameter, for sgd with
// and without momentum and for adam, at batch sizes 1, 16 and 7 (48 samples: a last batch of
// 6), on one thread and on two (where the update is split by rows).
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

// 300 -> 129 relu -> 97 sigmoid -> 5 softmax: the first weight (38,700 floats) is split across
// two threads; 129 rows and columns leave a single row at the end of a 128-row split and of a
// 127-row gradient block, which the optimizer must not compute as a GEMV.
TrainedNet train(bool fuse, int threads, const std::string& optimizer, double momentum, int64_t batch) {
  SequentialSpec spec;
  spec.inputs = 300;
  spec.layers = {dense_layer("hidden", 129, "relu"), dense_layer("hidden2", 97, "sigmoid"),
                 dense_layer("out", 5, "softmax")};
  Model model = build_sequential(spec, PluginRegistry::global());
  TrainedNet r{ParameterStore::initialize(model.graph, 9)};
  TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.threads = threads;
  cfg.optimizer = optimizer;
  cfg.learning_rate = optimizer == "adam" ? 0.002 : 0.05;
  cfg.seed = 4;
  if (momentum > 0) cfg.optimizer_params = {{"momentum", momentum}};
  Trainer trainer(model, r.params, cfg, PluginRegistry::global());
  trainer.set_fuse_weight_gradients(fuse);
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

TEST(FusedUpdate, TrainsExactlyAsTheStoredGradient) {
  struct Setting {
    std::string optimizer;
    double momentum;
  };
  for (const Setting& s : {Setting{"sgd", 0.0}, Setting{"sgd", 0.9}, Setting{"adam", 0.0}}) {
    for (int64_t batch : {1, 16, 7}) {
      for (int threads : {1, 2}) {
        const std::string label = s.optimizer + " momentum " + std::to_string(s.momentum) + ", batch " +
                                  std::to_string(batch) + ", " + std::to_string(threads) + " threads";
        const TrainedNet fused = train(true, threads, s.optimizer, s.momentum, batch);
        const TrainedNet stored = train(false, threads, s.optimizer, s.momentum, batch);
        EXPECT_EQ(fused.fused, 3) << label << ": every dense layer's weight gradient should be fused";
        EXPECT_EQ(stored.fused, 0) << label;
        EXPECT_EQ(fused.loss, stored.loss) << label;
        expect_same_parameters(fused.params, stored.params, label);
        EXPECT_GT(fused.moved, 0.001) << label << ": training should have changed the weights";
      }
    }
  }
}

// How many weight gradients a step at `batch` leaves to the optimizer.
int fused_gradients(const std::string& optimizer, const std::string& backend, int64_t batch) {
  SequentialSpec spec;
  spec.inputs = 30;
  spec.layers = {dense_layer("hidden", 20, "relu"), dense_layer("out", 5, "softmax")};
  Model model = build_sequential(spec, PluginRegistry::global());
  ParameterStore params = ParameterStore::initialize(model.graph, 1);
  TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.optimizer = optimizer;
  cfg.backend = backend;
  Trainer trainer(model, params, cfg, PluginRegistry::global());
  return trainer.training_step(batch).fused;
}

// Blocks through the Highway GEMM up to a batch of 64, on the Highway backend only (another
// backend's GEMM may sum in another order); sgd's step_outer at batch 1 on any backend.
TEST(FusedUpdate, WhereItApplies) {
  EXPECT_EQ(fused_gradients("adam", "highway", 1), 2);
  EXPECT_EQ(fused_gradients("adam", "highway", 64), 2);
  EXPECT_EQ(fused_gradients("adam", "highway", 65), 0);
  EXPECT_EQ(fused_gradients("sgd", "reference", 1), 2);
  EXPECT_EQ(fused_gradients("sgd", "reference", 16), 0);
  EXPECT_EQ(fused_gradients("adam", "reference", 1), 0);
}

}  // namespace
}  // namespace graphrun::train
