// The training practice through the graphrun binary: validation, early stopping, schedules,
// history files, plots, NaN loss, init_from + trainable:false, on tiny generated IDX data.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "io/safetensors.h"
#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;

using Result = graphrun::testing::CliResult;
using graphrun::testing::slurp;
using graphrun::testing::write_file;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class PracticeCliTest : public graphrun::testing::CliFixture {
 protected:
  PracticeCliTest() : CliFixture("graphrun_practice") {}

  // A model file whose "training" object gets `training` appended and first layer `layer0` extra keys.
  void write_model(const std::string& name, const std::string& training, const std::string& layer0 = "",
                   double lr = 0.1) const {
    write_file(path(name), R"({"inputs": 16, "layers": [{"name": "hidden", "units": 8, "activation": "relu")" + layer0 +
                               R"(}, {"name": "out", "units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": )" +
                               std::to_string(lr) + R"(},
  "data": {"train_images": "train-images.idx", "train_labels": "train-labels.idx",
           "test_images": "test-images.idx", "test_labels": "test-labels.idx"},
  "training": {"epochs": 6, "batch_size": 16, "seed": 7)" +
                               training + "}}");
  }
};

TEST_F(PracticeCliTest, ValidationScheduleAndHistoryFiles) {
  write_model("m.json", R"(, "validation_split": 0.2,
    "learning_rate_schedule": {"warmup_epochs": 1, "schedule": "cosine", "min_lr": 0.001})");
  Result r =
      run("train " + path("m.json") + " --threads 1 --out " + path("out") + " --metrics-out " + path("m.out.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "480 samples")) << r.out;
  EXPECT_TRUE(has(r.out, "120 validation samples")) << r.out;
  EXPECT_TRUE(has(r.out, "val_loss ")) << r.out;
  EXPECT_TRUE(has(r.out, "val_accuracy ")) << r.out;
  EXPECT_TRUE(has(r.out, "  lr 0.001  ")) << "the last epoch ends at min_lr: " << r.out;
  const std::string csv = slurp(path("out/history.csv"));
  EXPECT_TRUE(csv.starts_with("epoch,loss,accuracy,val_loss,val_accuracy,val_top2_accuracy,val_macro_f1,lr,seconds\n"))
      << "the validation metrics of three classes follow val_accuracy: " << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7) << csv;
  nlohmann::json h = nlohmann::json::parse(slurp(path("out/history.json")));
  ASSERT_EQ(h.size(), 6u);
  EXPECT_GT(h[5]["val_accuracy"].get<double>(), 0.9);
  EXPECT_LT(h[5]["lr"].get<double>(), h[1]["lr"].get<double>());
  nlohmann::json m = nlohmann::json::parse(slurp(path("m.out.json")));
  EXPECT_EQ(m["validation_samples"], 120);
  EXPECT_TRUE(m["epochs"][0].contains("val_accuracy"));
  EXPECT_TRUE(m["epochs"][0].contains("lr"));

  // plot: an SVG with both panels and the validation curves.
  Result p = run("plot " + path("out/history.csv") + " --output " + path("curves.svg"));
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string svg = slurp(path("curves.svg"));
  EXPECT_TRUE(has(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"")) << svg.substr(0, 200);
  for (const char* s :
       {"Loss", "Accuracy", "Learning rate", "validation loss", "validation accuracy", "train loss", "</svg>"}) {
    EXPECT_TRUE(has(svg, s)) << s;
  }
}

TEST_F(PracticeCliTest, EarlyStoppingPrintsTheReasonAndFlagsOverride) {
  // min_delta so large that nothing improves after epoch 1: stops after 1 + patience epochs.
  write_model("m.json", R"(, "validation_split": 0.2,
    "early_stopping": {"monitor": "val_loss", "patience": 2, "min_delta": 1000, "restore_best_weights": true})");
  Result r = run("train " + path("m.json") + " --threads 1 --metrics-out " + path("m.out.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "epoch 3/6")) << r.out;
  EXPECT_FALSE(has(r.out, "epoch 4/6")) << r.out;
  EXPECT_TRUE(has(r.out, "early stopping: val_loss did not improve by more than 1000 for 2 epochs")) << r.out;
  EXPECT_TRUE(has(r.out, "restored the weights of epoch 1")) << r.out;
  nlohmann::json m = nlohmann::json::parse(slurp(path("m.out.json")));
  EXPECT_EQ(m["stopped_early"], true);
  EXPECT_EQ(m["best_epoch"], 1);

  // The same from flags on a plain model file (monitor loss needs no validation set).
  write_model("plain.json", "");
  Result f = run("train " + path("plain.json") +
                 " --threads 1 --validation-split 0.25 --patience 1 --monitor val_accuracy "
                 "--schedule step --warmup-steps 5");
  ASSERT_EQ(f.code, 0) << f.err;
  EXPECT_TRUE(has(f.out, "150 validation samples")) << f.out;
  EXPECT_TRUE(has(f.out, "val_accuracy")) << f.out;
}

TEST_F(PracticeCliTest, BadSettingsAreOneLineErrors) {
  write_model("m.json", R"(, "early_stopping": {"patience": 0})");
  Result r = run("train " + path("m.json"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(has(r.err, "training.early_stopping.patience: expected an integer from 1")) << r.err;
  write_model("m2.json", R"(, "learning_rate_schedule": {"schedule": "linear"})");
  r = run("train " + path("m2.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "training.learning_rate_schedule.schedule: expected one of constant, step")) << r.err;
  write_model("m3.json", R"(, "early_stopping": {"monitor": "val_loss"})");
  r = run("train " + path("m3.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "needs a validation set")) << r.err;
  write_model("m4.json", R"(, "validation_split": 1.5)");
  r = run("train " + path("m4.json"));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(has(r.err, "training.validation_split")) << r.err;
}

TEST_F(PracticeCliTest, NonFiniteLossExitsOneWithAClearMessage) {
  write_model("m.json", "", "", 1e30);
  Result r = run("train " + path("m.json") + " --threads 1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.err, "the loss became")) << r.err;
  EXPECT_TRUE(has(r.err, "try a smaller learning rate")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(PracticeCliTest, InitFromWithFrozenLayerKeepsPretrainedWeights) {
  write_model("a.json", "");
  Result a = run("train " + path("a.json") + " --threads 1 --epochs 2 --out " + path("a"));
  ASSERT_EQ(a.code, 0) << a.err;
  write_model("b.json", R"(, "init_from": {"weights": "a/weights.safetensors", "layers": ["hidden"]})",
              R"(, "trainable": false)");
  Result b = run("train " + path("b.json") + " --threads 1 --epochs 2 --seed 99 --out " + path("b"));
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(has(b.out, "init_from")) << b.out;
  const auto fa = graphrun::io::read_safetensors(path("a/weights.safetensors"));
  const auto fb = graphrun::io::read_safetensors(path("b/weights.safetensors"));
  auto find = [](const graphrun::io::SafetensorsFile& f, const std::string& n) -> const graphrun::Tensor& {
    for (const auto& [name, t] : f.tensors) {
      if (name == n) return t;
    }
    throw std::runtime_error("no " + n);
  };
  for (const char* n : {"hidden.weight", "hidden.bias"}) {
    const graphrun::Tensor &x = find(fa, n), &y = find(fb, n);
    ASSERT_EQ(x.numel(), y.numel());
    EXPECT_EQ(std::memcmp(x.data(), y.data(), static_cast<size_t>(x.numel()) * sizeof(float)), 0) << n;
  }
  const graphrun::Tensor &ox = find(fa, "out.weight"), &oy = find(fb, "out.weight");
  EXPECT_NE(std::memcmp(ox.data(), oy.data(), static_cast<size_t>(ox.numel()) * sizeof(float)), 0);
  // An unknown layer is named.
  write_model("c.json", R"(, "init_from": {"weights": "a/weights.safetensors", "layers": ["nope"]})");
  Result c = run("train " + path("c.json") + " --threads 1");
  EXPECT_EQ(c.code, 2);
  EXPECT_TRUE(has(c.err, "no layer \"nope\"")) << c.err;
}

TEST_F(PracticeCliTest, PlotActivationsUsesThePluginKernels) {
  Result r = run("plot-activations relu sigmoid leaky_relu --output " + path("act.svg"));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string svg = slurp(path("act.svg"));
  for (const char* s : {"relu(x)", "relu'(x)", "sigmoid'(x)", "leaky_relu alpha=", "</svg>"})
    EXPECT_TRUE(has(svg, s)) << s;
  Result all = run("plot-activations --output " + path("all.svg"));
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_TRUE(has(slurp(path("all.svg")), "tanh(x)"));
  Result bad = run("plot-activations softmax --output " + path("x.svg"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(has(bad.err, "row-wise")) << bad.err;
  Result missing = run("plot " + path("no-such.csv"));
  EXPECT_EQ(missing.code, 2);
}

TEST_F(PracticeCliTest, ResumedRunContinuesTheHistoryAndSchedule) {
  // decay_epochs fixes the cosine's length, so the 1-epoch first run follows the same rates.
  write_model("m.json", R"(, "validation_split": 0.2,
    "learning_rate_schedule": {"schedule": "cosine", "min_lr": 0.001, "decay_epochs": 3})");
  Result full = run("train " + path("m.json") + " --threads 1 --epochs 3 --out " + path("full"));
  ASSERT_EQ(full.code, 0) << full.err;
  Result first = run("train " + path("m.json") + " --threads 1 --epochs 1 --out " + path("part"));
  ASSERT_EQ(first.code, 0) << first.err;
  Result rest = run("train " + path("m.json") + " --threads 1 --epochs 3 --resume " +
                    path("part/checkpoint.safetensors") + " --out " + path("part"));
  ASSERT_EQ(rest.code, 0) << rest.err;
  nlohmann::json a = nlohmann::json::parse(slurp(path("full/history.json")));
  nlohmann::json b = nlohmann::json::parse(slurp(path("part/history.json")));
  ASSERT_EQ(b.size(), 3u) << "epoch 1 from the first run, 2 and 3 from the resumed one";
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b[i]["epoch"], i + 1);
    // Epoch 1 of the resumed history went through history.csv (6 significant digits).
    EXPECT_NEAR(a[i]["lr"].get<double>(), b[i]["lr"].get<double>(), 1e-5 * a[i]["lr"].get<double>())
        << "the schedule resumes at its step";
    EXPECT_NEAR(a[i]["val_loss"].get<double>(), b[i]["val_loss"].get<double>(), 1e-5) << "same split, same weights";
  }
  EXPECT_EQ(slurp(path("full/weights.safetensors")), slurp(path("part/weights.safetensors")));
}

TEST_F(PracticeCliTest, TuneRanksTrialsInParallelAndKeepsTheBest) {
  write_model("m.json", "");
  Result r = run("tune " + path("m.json") + " --grid 'lr=0.2,0.0001 units=4,8' --jobs 2 --epochs 2 --threads 1 --out " +
                 path("tune"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "4 trials, 2 at a time")) << r.out;
  const std::string csv = slurp(path("tune/results.csv"));
  EXPECT_TRUE(csv.starts_with("rank,trial,lr,units,metric,val_loss,val_accuracy,test_accuracy,epochs,seconds,status\n"))
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5) << csv;
  // lr 0.0001 barely moves in 2 epochs: the best trial has lr 0.2.
  EXPECT_TRUE(csv.find("\n1,") != std::string::npos &&
              csv.substr(csv.find("\n1,"), 12).find(",0.2,") != std::string::npos)
      << csv;
  EXPECT_TRUE(fs::exists(path("tune/best_weights.safetensors")));
  EXPECT_TRUE(has(slurp(path("tune/best_model.json")), "\"learning_rate\": 0.2"));
  EXPECT_TRUE(fs::exists(path("tune/trial_4/train.log")));
  // --random keeps a sample; a bad grid is a usage error.
  Result s = run("tune " + path("m.json") + " --grid 'lr=0.2,0.1,0.05' --random 2 --epochs 1 --out " + path("tune2"));
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_TRUE(has(s.out, "2 trials")) << s.out;
  Result bad = run("tune " + path("m.json") + " --grid 'lr=fast'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(has(bad.err, "--grid: lr: expected numbers")) << bad.err;
}

}  // namespace
