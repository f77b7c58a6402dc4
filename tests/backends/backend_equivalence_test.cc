// Whole-run equivalence: the seed's batch-32 network trained for 200 steps (50 under ASan) from the same seed
// on every built backend (highway, onednn when built, reference) gives the same per-step losses (1e-4 relative) and the
// same predictions on >= 99.9 % of the first 2000 test images.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "backends/registry.h"
#include "core/plugin_host.h"
#include "io/dataset.h"
#include "io/scaling.h"
#include "tests/support/sanitizer.h"
#include "train/trainer.h"

namespace graphrun {
namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist";

io::Dataset first_rows(const io::Dataset& d, int64_t n) {
  const int64_t f = d.feature_count();
  Tensor x(Shape{n, f}, std::span<const float>(d.features.data(), static_cast<size_t>(n * f)));
  return io::make_dataset(std::move(x), std::vector<int32_t>(d.labels.begin(), d.labels.begin() + n), "subset");
}

struct TrainedRun {
  std::vector<double> step_losses;
  std::vector<int64_t> predictions;
};

TrainedRun train_on(const std::string& backend, const io::Dataset& train, const Tensor& test_x) {
  train::SequentialSpec spec;
  spec.inputs = train.feature_count();
  spec.layers = {train::dense_layer("dense", 400, "sigmoid"), train::dense_layer("dense_1", 10, "softmax")};
  train::Model model = train::build_sequential(spec, PluginRegistry::global());
  ParameterStore params = ParameterStore::initialize(model.graph, 7);
  train::TrainConfig config;
  config.batch_size = 32;
  config.learning_rate = 0.01;
  config.seed = 7;
  config.backend = backend;
  config.threads = 2;
  train::Trainer trainer(model, params, config, PluginRegistry::global());
  TrainedRun run;
  double previous_total = 0.0;
  trainer.train_epoch(train, 0, [&](int64_t done, int64_t, double mean_loss, double) {
    const double total = mean_loss * static_cast<double>(done * 32);
    run.step_losses.push_back((total - previous_total) / 32.0);
    previous_total = total;
  });
  Tensor probs;
  trainer.predict(test_x, probs);
  const int64_t c = probs.shape()[1];
  for (int64_t r = 0; r < probs.shape()[0]; ++r) {
    const float* row = probs.data() + r * c;
    run.predictions.push_back(std::max_element(row, row + c) - row);
  }
  return run;
}

TEST(BackendEquivalence, SeedBatch32Network200Steps) {
  if (!std::filesystem::exists(kData + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << "no Fashion-MNIST";
  io::Dataset all = io::load_idx_dataset(kData + "/train-images-idx3-ubyte.gz", kData + "/train-labels-idx1-ubyte.gz");
  io::Dataset all_test =
      io::load_idx_dataset(kData + "/t10k-images-idx3-ubyte.gz", kData + "/t10k-labels-idx1-ubyte.gz");
  // 200 steps of 32 (enough to see drift) and 2000 test rows. Under ASan the scalar reference
  // GEMM is ~30x slower, so it trains 50 steps: its job there is memory, drift is Release's.
  const int64_t steps = graphrun::testing::kSanitized ? 50 : 200;
  io::Dataset train = first_rows(all, steps * 32);
  io::Dataset test = first_rows(all_test, 2000);
  io::Scaler scaler = io::fit_scaler(io::Scaling::MinMaxGlobal, train.features);
  io::apply_scaler(scaler, train.features);
  io::apply_scaler(scaler, test.features);

  std::map<std::string, TrainedRun> runs;
  for (const std::string& b : backends::names()) runs[b] = train_on(b, train, test.features);
  const TrainedRun& ref = runs["reference"];
  ASSERT_EQ(ref.step_losses.size(), static_cast<size_t>(steps));
  for (const std::string& b : backends::names()) {
    if (b == "reference") continue;
    SCOPED_TRACE(b);
    const TrainedRun& run = runs[b];
    ASSERT_EQ(run.step_losses.size(), ref.step_losses.size());
    for (size_t s = 0; s < ref.step_losses.size(); ++s) {
      EXPECT_NEAR(run.step_losses[s], ref.step_losses[s], 1e-4 * std::abs(ref.step_losses[s])) << "step " << s + 1;
    }
    int64_t same = 0;
    for (size_t i = 0; i < ref.predictions.size(); ++i) same += run.predictions[i] == ref.predictions[i];
    EXPECT_GE(static_cast<double>(same), 0.999 * static_cast<double>(ref.predictions.size()));
  }
}

}  // namespace
}  // namespace graphrun
