// What a new user trying every documented command tripped on (issue 16), one test each:
// relative data paths under tune, --resume without --out, --metrics-out into a missing folder,
// one IDX file given to eval, "did you mean" for misspelt names, the two learning rates in
// metrics.json, exact history after a resume, inspect's FLOPs with fused weight gradients,
// plot on a file that is not a history, and the OpenMP advice in --help.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;
using graphrun::testing::CliResult;
using graphrun::testing::slurp;
using graphrun::testing::write_file;

class FirstUse : public graphrun::testing::CliFixture {
 protected:
  FirstUse() : CliFixture("graphrun_first_use") {}
  void SetUp() override {
    CliFixture::SetUp();
    if (HasFatalFailure()) return;
    write_file(path("model.json"), model_json());
  }

  // `extra_layer` and `optimizer` are spliced into the JSON as written.
  static std::string model_json(const std::string& extra_layer = "", const std::string& optimizer = R"("sgd")",
                                const std::string& training = "", const std::string& data_dir = "") {
    return R"({"inputs": 16, "layers": [{"units": 8, "activation": "relu")" + extra_layer +
           R"(}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": )" +
           optimizer + R"(, "learning_rate": 0.1},
  "data": {"train_images": ")" +
           data_dir + R"(train-images.idx", "train_labels": ")" + data_dir + R"(train-labels.idx", "test_images": ")" +
           data_dir + R"(test-images.idx", "test_labels": ")" + data_dir +
           R"(test-labels.idx"},
  "training": {"epochs": 1, "batch_size": 16, "seed": 7)" +
           training + "}}";
  }

  void expect_bad_input(const CliResult& r, const std::vector<std::string>& fragments) const {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& f : fragments)
      EXPECT_NE(r.err.find(f), std::string::npos) << "missing '" << f << "' in " << r.err;
  }
  std::string train(const std::string& extra) const { return "train " + path("model.json") + " --threads 1 " + extra; }
  static double training_flops(const std::string& inspect_out) {
    std::smatch m;
    const std::regex re(R"(training step ([0-9.]+) (k|M|G)?FLOP)");
    if (!std::regex_search(inspect_out, m, re)) return -1;
    const double scale = m[2] == "k" ? 1e3 : m[2] == "M" ? 1e6 : m[2] == "G" ? 1e9 : 1;
    return std::stod(m[1]) * scale;
  }
};

TEST_F(FirstUse, TuneWithRelativeDataPathsInTheModelFile) {
  // From the fixture's folder: `graphrun tune sub/m.json`, whose data paths are relative to sub/.
  fs::create_directories(path("sub"));
  for (const char* f : {"train-images.idx", "train-labels.idx", "test-images.idx", "test-labels.idx"}) {
    fs::rename(path(f), path(std::string("sub/") + f));
  }
  write_file(path("sub/m.json"), model_json());
  const std::string cmd = "cd " + dir_ + " && timeout 60 " + GRAPHRUN_CLI +
                          " tune sub/m.json --grid lr=0.1,0.05 --epochs 1 --threads 1 --metric loss --out runs/t > " +
                          path("tune.out") + " 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(path("tune.out"));
  EXPECT_TRUE(fs::exists(path("runs/t/best_weights.safetensors"))) << slurp(path("tune.out"));
  const nlohmann::json trial = nlohmann::json::parse(slurp(path("runs/t/trial_1/model.json")));
  EXPECT_TRUE(fs::path(trial["data"]["train_images"].get<std::string>()).is_absolute()) << trial.dump();
}

TEST_F(FirstUse, ResumeWithoutOutContinuesInTheCheckpointsFolder) {
  ASSERT_EQ(run(train("--out " + path("o"))).code, 0);
  CliResult r = run(train("--epochs 2 --resume " + path("o/checkpoint.safetensors")));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("results go to " + path("o") + ", the checkpoint's folder"), std::string::npos) << r.out;
  const std::string history = slurp(path("o/history.csv"));
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 1 + 2) << history;
  EXPECT_NE(slurp(path("o/steps.csv")).find("\n76,2,38,"), std::string::npos) << "38 steps per epoch, 2 epochs";
}

TEST_F(FirstUse, MetricsOutIntoAMissingFolderFailsBeforeTraining) {
  CliResult r = run(train("--metrics-out " + path("no/such/m.json")));
  expect_bad_input(r, {"--metrics-out " + path("no/such/m.json") + ": no such folder " + path("no/such")});
  EXPECT_EQ(r.out.find("training"), std::string::npos) << r.out;
}

TEST_F(FirstUse, EvalWithOneIdxFileAsksForImagesThenLabels) {
  ASSERT_EQ(run(train("--out " + path("o"))).code, 0);
  CliResult r = run("eval " + path("model.json") + " --weights " + path("o/weights.safetensors") + " --data " +
                    path("test-images.idx"));
  expect_bad_input(r, {"--data " + path("test-images.idx") + ": an IDX file", "images then labels"});
  r = run("eval " + path("model.json") + " --weights " + path("o/weights.safetensors") + " --data " +
          path("test-images.idx") + " " + path("test-labels.idx"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(run("eval --help").out.find("images then labels"), std::string::npos);
}

TEST_F(FirstUse, MisspeltNamesGetASuggestion) {
  write_file(path("key.json"), model_json(R"(, "activaton_params": {})"));
  expect_bad_input(run("inspect " + path("key.json")),
                   {"layers[0].activaton_params", "did you mean \"activation_params\"?"});
  write_file(path("act.json"), std::regex_replace(model_json(), std::regex("\"relu\""), "\"rleu\""));
  expect_bad_input(run("inspect " + path("act.json")),
                   {"got string \"rleu\"", "did you mean \"relu\"?", "--plugin-dir"});
  write_file(path("opt.json"), model_json("", R"("adma")"));
  expect_bad_input(run("inspect " + path("opt.json")), {"did you mean \"adam\"?", "--plugin-dir"});
  write_file(path("hyper.json"), std::regex_replace(model_json("", R"("adam")"), std::regex("\"learning_rate\""),
                                                    "\"beta_1\": 0.8, \"learning_rate\""));
  expect_bad_input(run("inspect " + path("hyper.json")),
                   {"unknown parameter 'beta_1'; known: beta1", "; did you mean \"beta1\"?"});
  expect_bad_input(run("trian " + path("model.json")), {"unknown command \"trian\"; did you mean \"train\"?"});
  expect_bad_input(run(train("--epoch 2")), {"--epoch", "did you mean \"--epochs\"?"});
  expect_bad_input(run("plot-activations rleu"),
                   {"unknown activation 'rleu'; known: ", "; did you mean \"relu\"?", "--plugin-dir"});
}

TEST_F(FirstUse, MetricsHoldTheConfiguredAndTheFinalLearningRate) {
  write_file(path("sched.json"),
             model_json("", R"("sgd")", R"(, "learning_rate_schedule": {"schedule": "cosine", "min_lr": 0.001})"));
  CliResult r = run("train " + path("sched.json") + " --threads 1 --epochs 2 --metrics-out " + path("m.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json m = nlohmann::json::parse(slurp(path("m.json")));
  EXPECT_DOUBLE_EQ(m["learning_rate"].get<double>(), 0.1);
  EXPECT_NEAR(m["final_learning_rate"].get<double>(), 0.001, 1e-4);
  EXPECT_DOUBLE_EQ(m["final_learning_rate"].get<double>(), m["epochs"][1]["lr"].get<double>());
}

TEST_F(FirstUse, HistoryJsonKeepsEarlierEpochsExactAfterAResume) {
  ASSERT_EQ(run(train("--out " + path("o"))).code, 0);
  const nlohmann::json first = nlohmann::json::parse(slurp(path("o/history.json")));
  ASSERT_EQ(run(train("--out " + path("o") + " --epochs 2 --resume " + path("o/checkpoint.safetensors"))).code, 0);
  const nlohmann::json both = nlohmann::json::parse(slurp(path("o/history.json")));
  ASSERT_EQ(both.size(), 2u);
  for (const char* k : {"loss", "accuracy", "lr", "seconds"}) EXPECT_EQ(both[0][k], first[0][k]) << k;
}

TEST_F(FirstUse, InspectCountsTheWeightGradientsTheOptimizerComputes) {
  // highway leaves the weight gradients to the fused optimizer update; reference computes them
  // as nodes. The step's work is the same.
  CliResult fused = run("inspect " + path("model.json") + " --threads 1 --backend highway");
  CliResult plain = run("inspect " + path("model.json") + " --threads 1 --backend reference");
  ASSERT_EQ(fused.code, 0) << fused.err;
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(fused.out.find("weight gradients computed in the optimizer's update"), std::string::npos) << fused.out;
  EXPECT_GT(training_flops(plain.out), 0) << plain.out;
  EXPECT_EQ(training_flops(fused.out), training_flops(plain.out)) << fused.out << plain.out;
}

TEST_F(FirstUse, PlotRefusesAFileThatIsNotAHistory) {
  write_file(path("data.csv"), "label,x0,x1\n1,0.5,0.25\n");
  CliResult r = run("plot " + path("data.csv") + " --output " + path("c.svg"));
  expect_bad_input(r, {path("data.csv") + ":1: not a history file", "\"epoch\""});
  EXPECT_FALSE(fs::exists(path("c.svg")));
}

TEST_F(FirstUse, HelpGivesTheOpenMpAdviceForOneDnn) {
  EXPECT_NE(run("train --help").out.find("OMP_WAIT_POLICY=passive"), std::string::npos);
}

}  // namespace
