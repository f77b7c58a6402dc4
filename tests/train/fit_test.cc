// fit and its parts on a tiny generated problem: the validation split, history files, early
// stopping with restored weights, schedules seen in the history, NaN loss, frozen layers and
// init_from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "tests/support/tiny_dataset.h"
#include "train/checkpoint.h"
#include "train/fit.h"

namespace graphrun::train {
namespace {

namespace fs = std::filesystem;

using testing::make_tiny_dataset;

using Net = testing::TinyNet;

Net make_net(uint64_t seed, bool freeze_hidden = false) { return testing::make_tiny_net(6, seed, freeze_hidden); }

TrainConfig base_config(int64_t epochs) {
  TrainConfig c;
  c.epochs = epochs;
  c.batch_size = 16;
  c.seed = 5;
  c.learning_rate = 0.1;
  c.threads = 1;
  c.context = "test";
  return c;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("graphrun_fit_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(ValidationSplit, SeededDisjointAndComplete) {
  io::Dataset a = make_tiny_dataset(100, 1), b = make_tiny_dataset(100, 1);
  io::Dataset va = split_validation(a, 0.2, 9), vb = split_validation(b, 0.2, 9);
  ASSERT_EQ(va.size(), 20);
  ASSERT_EQ(a.size(), 80);
  EXPECT_TRUE(same_bits(va.features, vb.features)) << "the same seed gives the same split";
  EXPECT_EQ(va.labels, vb.labels);
  io::Dataset c = make_tiny_dataset(100, 1);
  io::Dataset vc = split_validation(c, 0.2, 10);
  EXPECT_FALSE(same_bits(va.features, vc.features)) << "another seed gives another split";
  // Every original row is in exactly one side: compare sorted first features.
  io::Dataset orig = make_tiny_dataset(100, 1);
  std::vector<float> all, parts;
  for (int64_t i = 0; i < 100; ++i) all.push_back(orig.features.data()[i * 8]);
  for (int64_t i = 0; i < 80; ++i) parts.push_back(a.features.data()[i * 8]);
  for (int64_t i = 0; i < 20; ++i) parts.push_back(va.features.data()[i * 8]);
  std::sort(all.begin(), all.end());
  std::sort(parts.begin(), parts.end());
  EXPECT_EQ(all, parts);
  io::Dataset none = split_validation(c, 0.0, 1);
  EXPECT_EQ(none.size(), 0);
  io::Dataset tiny = make_tiny_dataset(3, 1);
  EXPECT_THROW(split_validation(tiny, 0.1, 1), Error) << "0 validation samples";
}

TEST(Fit, RecordsValidationAndScheduledLrInHistory) {
  Net n = make_net(3);
  TrainConfig cfg = base_config(4);
  cfg.schedule.kind = ScheduleKind::Cosine;
  cfg.schedule.warmup_steps = 3;
  cfg.schedule.min_lr = 0.001;
  io::Dataset train = make_tiny_dataset(240, 2);
  io::Dataset val = split_validation(train, 0.25, cfg.seed);
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  int epochs_seen = 0;
  FitHooks hooks;
  hooks.on_epoch = [&](const HistoryRow&) { ++epochs_seen; };
  FitResult r = fit(t, n.params, train, val, hooks);
  ASSERT_EQ(r.history.size(), 4u);
  EXPECT_EQ(epochs_seen, 4);
  EXPECT_FALSE(r.stopped_early);
  for (size_t i = 0; i < r.history.size(); ++i) {
    const HistoryRow& h = r.history[i];
    EXPECT_EQ(h.epoch, static_cast<int64_t>(i) + 1);
    EXPECT_TRUE(std::isfinite(h.val_loss) && std::isfinite(h.val_accuracy));
    if (i > 0) {
      EXPECT_LT(h.lr, r.history[i - 1].lr) << "cosine decreases after warmup";
    }
  }
  EXPECT_NEAR(r.history.back().lr, 0.001, 1e-9) << "the last step reaches min_lr";
  EXPECT_GT(r.history.back().val_accuracy, 0.9);
  // The history files round-trip.
  const std::string csv = temp_path("history.csv");
  write_history_csv(csv, r.history);
  std::vector<HistoryRow> back = read_history_csv(csv);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_NEAR(back[2].val_loss, r.history[2].val_loss, 1e-5 * r.history[2].val_loss);
  EXPECT_NEAR(back[3].lr, r.history[3].lr, 1e-9);
  const std::string json = temp_path("history.json");
  write_history_json(json, r.history);
  EXPECT_GT(fs::file_size(json), 100u);
  fs::remove(csv);
  fs::remove(json);
}

TEST(Fit, ValMonitorWithoutValidationSetIsBadInput) {
  Net n = make_net(3);
  TrainConfig cfg = base_config(2);
  cfg.early_stopping.enabled = true;
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  io::Dataset train = make_tiny_dataset(60, 2);
  try {
    fit(t, n.params, train, io::Dataset{});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.is_bad_input());
    EXPECT_NE(std::string(e.what()).find("validation_split"), std::string::npos) << e.what();
  }
}

TEST(Fit, EarlyStoppingStopsAfterPatienceAndRestoresBestWeights) {
  // min_delta so large that nothing after epoch 1 counts as better: stop after 1 + patience.
  Net n = make_net(3);
  TrainConfig cfg = base_config(20);
  cfg.early_stopping.enabled = true;
  cfg.early_stopping.monitor = "val_loss";
  cfg.early_stopping.patience = 2;
  cfg.early_stopping.min_delta = 1e9;
  io::Dataset train = make_tiny_dataset(120, 2);
  io::Dataset val = split_validation(train, 0.25, cfg.seed);
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  FitResult r = fit(t, n.params, train, val);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.history.size(), 3u);
  EXPECT_EQ(r.best_epoch, 1);
  EXPECT_TRUE(r.restored_best);
  EXPECT_NE(r.stop_reason.find("val_loss did not improve"), std::string::npos) << r.stop_reason;
  EXPECT_NE(r.stop_reason.find("restored the weights of epoch 1"), std::string::npos) << r.stop_reason;

  // The restored weights are those after one epoch of the same run.
  Net one = make_net(3);
  TrainConfig cfg1 = base_config(1);
  Trainer t1(one.model, one.params, cfg1, PluginRegistry::global());
  io::Dataset train1 = make_tiny_dataset(120, 2);
  io::Dataset val1 = split_validation(train1, 0.25, cfg1.seed);
  fit(t1, one.params, train1, val1);
  for (size_t i = 0; i < n.params.size(); ++i) {
    EXPECT_TRUE(same_bits(n.params.tensor(i), one.params.at(n.params.name(i)))) << n.params.name(i);
  }
}

TEST(Fit, NonFiniteLossStopsWithRuntimeError) {
  Net n = make_net(3);
  TrainConfig cfg = base_config(3);
  cfg.learning_rate = 1e30;
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  io::Dataset train = make_tiny_dataset(120, 2);
  try {
    fit(t, n.params, train, io::Dataset{});
    FAIL() << "expected the loss to blow up";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("the loss became"), std::string::npos) << e.what();
  }
}

TEST(Transfer, FrozenLayerStaysBitIdenticalWhileTheRestTrains) {
  Net n = make_net(4, /*freeze_hidden=*/true);
  const Tensor w0 = n.params.at("hidden.weight"), b0 = n.params.at("hidden.bias"), o0 = n.params.at("out.weight");
  TrainConfig cfg = base_config(3);
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  EXPECT_EQ(n.model.trainable().size(), 2u) << "only out.weight and out.bias train";
  io::Dataset train = make_tiny_dataset(120, 2);
  fit(t, n.params, train, io::Dataset{});
  EXPECT_TRUE(same_bits(n.params.at("hidden.weight"), w0));
  EXPECT_TRUE(same_bits(n.params.at("hidden.bias"), b0));
  EXPECT_FALSE(same_bits(n.params.at("out.weight"), o0));
}

TEST(Transfer, InitFromCopiesNamedLayersOnly) {
  Net a = make_net(11), b = make_net(12);
  const std::string path = temp_path("pre.safetensors");
  save_weights(path, a.params, nullptr);
  EXPECT_EQ(load_layers(path, {"hidden"}, b.params, "test"), 2);
  EXPECT_TRUE(same_bits(b.params.at("hidden.weight"), a.params.at("hidden.weight")));
  EXPECT_TRUE(same_bits(b.params.at("hidden.bias"), a.params.at("hidden.bias")));
  EXPECT_FALSE(same_bits(b.params.at("out.weight"), a.params.at("out.weight")));
  try {
    load_layers(path, {"nope"}, b.params, "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no layer \"nope\""), std::string::npos) << e.what();
  }
  fs::remove(path);
}

}  // namespace
}  // namespace graphrun::train
