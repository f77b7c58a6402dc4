// Runs the built graphrun binary on tiny generated data sets: every subcommand's success path,
// the exit code 2 + one-line message of each bad input, and bit-exact resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;

using Result = graphrun::testing::CliResult;
using graphrun::testing::slurp;
using graphrun::testing::write_file;

class CliTest : public graphrun::testing::CliFixture {
 protected:
  CliTest() : CliFixture("graphrun_cli") {}
  void SetUp() override {
    CliFixture::SetUp();
    if (HasFatalFailure()) return;
    write_file(path("model.json"), model_json(8));
  }

  static std::string model_json(int hidden, const std::string& activation = "relu",
                                const std::string& extra_data = "") {
    return R"({"inputs": 16, "layers": [{"units": )" + std::to_string(hidden) + R"(, "activation": ")" + activation +
           R"("}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": 0.1},
  "data": {"train_images": "train-images.idx", "train_labels": "train-labels.idx",
           "test_images": "test-images.idx", "test_labels": "test-labels.idx", "scaling": "minmax_global")" +
           extra_data + R"(},
  "training": {"epochs": 2, "batch_size": 16, "seed": 7}})";
  }

  // Exit code 2 and exactly one line "graphrun: ..." containing every expected fragment.
  void expect_bad_input(const std::string& args, const std::vector<std::string>& fragments) const {
    Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\nstderr: " << r.err;
    ASSERT_TRUE(r.err.starts_with("graphrun: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& f : fragments)
      EXPECT_NE(r.err.find(f), std::string::npos) << "missing '" << f << "' in " << r.err;
  }

  std::string train_to(const std::string& out, const std::string& extra = "") const {
    Result r = run("train " + path("model.json") + " --threads 1 --out " + path(out) + " " + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return path(out) + "/weights.safetensors";
  }
};

TEST_F(CliTest, VersionAndHelp) {
  Result v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_TRUE(v.out.starts_with("graphrun ")) << v.out;
  for (const char* cmd :
       {"--help", "train --help", "eval --help", "predict --help", "inspect --help", "plugins --help"}) {
    Result h = run(cmd);
    EXPECT_EQ(h.code, 0) << cmd;
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << cmd << h.out;
  }
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  expect_bad_input("", {"a command is required"});
  expect_bad_input("train", {"model is required"});
  expect_bad_input("train " + path("model.json") + " --no-such-flag", {"--no-such-flag"});
  expect_bad_input("train " + path("model.json") + " --epochs -1", {"--epochs"});
  expect_bad_input("train " + path("model.json") + " --backend nope", {"unknown backend 'nope'", "highway", "or auto"});
  expect_bad_input("plugins --plugin-dir " + path("no-such-dir"), {"no-such-dir"});
}

TEST_F(CliTest, Plugins) {
  Result r = run("plugins");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s :
       {"sigmoid", "softmax", "relu", "leaky_relu", "alpha=", "sgd", "adam", "ABI", ".so", "onednn-native"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
}

TEST_F(CliTest, TrainWritesWeightsCheckpointAndMetrics) {
  Result r =
      run("train " + path("model.json") + " --threads 1 --out " + path("out") + " --metrics-out " + path("m.json"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "stderr is not a terminal: no progress expected, got " << r.err;
  EXPECT_NE(r.out.find("epoch 1/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 2/2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test  loss"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(path("out/weights.safetensors")));
  EXPECT_TRUE(fs::exists(path("out/checkpoint.safetensors")));
  nlohmann::json m = nlohmann::json::parse(slurp(path("m.json")));
  for (const char* k : {"test_accuracy", "test_loss", "epochs", "samples_per_second", "backend", "threads"}) {
    EXPECT_TRUE(m.contains(k)) << k;
  }
  ASSERT_EQ(m["epochs"].size(), 2u);
  for (const auto& e : m["epochs"]) {
    EXPECT_TRUE(e.contains("loss") && e.contains("accuracy") && e.contains("seconds"));
  }
  EXPECT_EQ(m["backend"], "highway");
  EXPECT_EQ(m["threads"], 1);
  EXPECT_GT(m["test_accuracy"].get<double>(), 0.9) << "the tiny data set is easy";
}

// The default thread count is the CPUs the process may use (here its affinity mask), and more
// threads than those are capped with a one-line notice; train's first line shows the count.
TEST_F(CliTest, ThreadsFollowTheAffinityMask) {
  using graphrun::testing::run_cli;
  Result r = run_cli("train " + path("model.json") + " --epochs 1", dir_, "taskset -c 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.substr(0, r.out.find('\n')).find(", 1 threads,"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  r = run_cli("train " + path("model.json") + " --epochs 1 --threads 8", dir_, "taskset -c 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.substr(0, r.out.find('\n')).find(", 1 threads,"), std::string::npos) << r.out;
  EXPECT_EQ(r.err,
            "graphrun: --threads 8 capped to 1, the CPUs this process may use (affinity mask and cgroup quota)\n");
}

TEST_F(CliTest, TrainOverridesAndLimits) {
  Result r = run("train " + path("model.json") +
                 " --epochs 1 --batch-size 8 --lr 0.05 --seed 3 --limit-train 100 "
                 "--limit-test 30 --backend reference --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("100 samples"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(30 samples)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("epoch 2/"), std::string::npos) << r.out;
}

TEST_F(CliTest, ResumeIsBitExact) {
  const std::string straight = train_to("straight", "--epochs 2");
  train_to("first", "--epochs 1");
  Result r = run("train " + path("model.json") + " --threads 1 --epochs 2 --resume " +
                 path("first/checkpoint.safetensors") + " --out " + path("resumed"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("resuming"), std::string::npos);
  EXPECT_EQ(r.out.find("epoch 1/2"), std::string::npos) << "the resumed run must not repeat epoch 1";
  const std::string a = slurp(straight), b = slurp(path("resumed/weights.safetensors"));
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "weights after 2 epochs differ from 1 epoch + resume 1 epoch";
  // A different model's checkpoint is refused.
  write_file(path("other.json"), model_json(9));
  expect_bad_input("train " + path("other.json") + " --resume " + path("first/checkpoint.safetensors"),
                   {"another model"});
}

TEST_F(CliTest, EvalPredictInspect) {
  const std::string w = train_to("out");
  Result e = run("eval " + path("model.json") + " --weights " + w + " --threads 1");
  ASSERT_EQ(e.code, 0) << e.err;
  for (const char* s : {"150 samples", "accuracy", "confusion matrix"})
    EXPECT_NE(e.out.find(s), std::string::npos) << s;
  Result d = run("eval " + path("model.json") + " --weights " + w + " --data " + path("train-images.idx") + " " +
                 path("train-labels.idx"));
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("600 samples"), std::string::npos) << d.out;
  // Any batch size gives the same predictions (after the speed line).
  Result b = run("eval " + path("model.json") + " --weights " + w + " --threads 1 --batch-size 7");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("samples/s (batch 7, 1 threads)"), std::string::npos) << b.out;
  EXPECT_EQ(b.out.substr(b.out.find("\n\n")), e.out.substr(e.out.find("\n\n"))) << b.out;
  expect_bad_input("eval " + path("model.json") + " --weights " + w + " --batch-size 0", {"--batch-size"});

  std::string csv;
  for (int i = 0; i < 3; ++i) {
    for (int p = 0; p < 16; ++p) csv += (p ? "," : "") + std::string((p / 4 == i || p / 4 == i + 1) ? "220" : "10");
    csv += "\n";
  }
  write_file(path("in.csv"), csv);
  Result p = run("predict " + path("model.json") + " --weights " + w + " --input " + path("in.csv") + " --output " +
                 path("pred.csv"));
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string pred = slurp(path("pred.csv"));
  EXPECT_TRUE(pred.starts_with("row,class,name,p0,p1,p2\n")) << pred;
  EXPECT_NE(pred.find("\n0,0,"), std::string::npos) << pred;
  EXPECT_NE(pred.find("\n1,1,"), std::string::npos) << pred;
  EXPECT_NE(pred.find("\n2,2,"), std::string::npos) << pred;
  Result ps = run("predict " + path("model.json") + " --weights " + w + " --input " + path("test-images.idx"));
  ASSERT_EQ(ps.code, 0) << ps.err;
  EXPECT_EQ(std::count(ps.out.begin(), ps.out.end(), '\n'), 151);

  Result i = run("inspect " + path("model.json") + " --batch-size 4");
  ASSERT_EQ(i.code, 0) << i.err;
  for (const char* s : {"FLOPs per sample", "arena", "matmul", "highway", "dense0.weight", "[N,8]", "total 163"}) {
    EXPECT_NE(i.out.find(s), std::string::npos) << s << "\n" << i.out;
  }
  // --backend auto: each MatMul timed at compile time, its figures in the notes (one candidate
  // when oneDNN is not built: nothing to time, the chain's order decides).
  Result a = run("inspect " + path("model.json") + " --batch-size 4 --backend auto");
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_NE(a.out.find("auto: each MatMul and convolution"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("the choices kept in " + path("cache/backend-timings.json")), std::string::npos) << a.out;
  const bool timed = a.out.find("highway -> onednn -> reference") != std::string::npos;
  if (timed) {
    EXPECT_NE(a.out.find("timed: highway "), std::string::npos) << a.out;
  }
  // The choices are kept in the cache file: the next run binds them without timing (within a
  // run, the evaluation program already reuses the training program's).
  auto reused = [](const std::string& out) {
    size_t n = 0;
    for (size_t at = out.find("(timed before)"); at != std::string::npos; at = out.find("(timed before)", at + 1)) ++n;
    return n;
  };
  Result again = run("inspect " + path("model.json") + " --batch-size 4 --backend auto");
  ASSERT_EQ(again.code, 0) << again.err;
  if (timed) {
    EXPECT_TRUE(std::filesystem::exists(path("cache/backend-timings.json")));
    EXPECT_GT(reused(again.out), reused(a.out)) << again.out;
  }
  // A cache file that is not one costs the timing again, with one line; the command runs.
  std::filesystem::create_directories(path("cache"));
  write_file(path("cache/backend-timings.json"), "{ not json");
  Result bad = run("inspect " + path("model.json") + " --batch-size 4 --backend auto");
  ASSERT_EQ(bad.code, 0) << bad.err;
  EXPECT_NE(bad.err.find("ignoring the timing cache"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("backend-timings.json: the file: invalid JSON"), std::string::npos) << bad.err;
  EXPECT_EQ(reused(bad.out), reused(a.out)) << bad.out;
}

TEST_F(CliTest, BadModelFiles) {
  expect_bad_input("train " + path("missing.json"), {"missing.json", "no such model file"});
  write_file(path("empty.json"), "");
  expect_bad_input("train " + path("empty.json"), {"empty.json", "empty file"});
  write_file(path("syntax.json"), "{\n  \"inputs\": 16,\n  \"layers\": [}\n");
  expect_bad_input("train " + path("syntax.json"), {"syntax.json:3:", "invalid JSON"});
  write_file(path("key.json"), R"({"inputs": 16, "layers": [{"units": 3, "activation": "softmax", "unit": 4}]})");
  expect_bad_input("inspect " + path("key.json"), {"layers[0].unit", "unknown key"});
  write_file(path("act.json"), model_json(8, "nope"));
  expect_bad_input("train " + path("act.json"), {"layers[0].activation", "nope", "sigmoid"});
  write_file(path("units.json"), R"({"inputs": 16, "layers": [{"units": -3, "activation": "softmax"}]})");
  expect_bad_input("inspect " + path("units.json"), {"layers[0].units", "-3"});
  write_file(path("nodata.json"), R"({"inputs": 16, "layers": [{"units": 3, "activation": "softmax"}]})");
  expect_bad_input("train " + path("nodata.json"), {"no \"data\" section"});
}

TEST_F(CliTest, BadWeightsFiles) {
  const std::string w = train_to("out", "--epochs 1");
  write_file(path("wide.json"), model_json(9));
  expect_bad_input("eval " + path("wide.json") + " --weights " + w, {"dense0.weight", "[16,8]", "[16,9]"});
  const std::string bytes = slurp(w);
  write_file(path("truncated.safetensors"), bytes.substr(0, bytes.size() / 2));
  expect_bad_input("eval " + path("model.json") + " --weights " + path("truncated.safetensors"),
                   {"truncated.safetensors"});
  std::string past(8, '\0');
  past[0] = static_cast<char>(0xe8);  // 1000 little-endian
  past[1] = 0x03;
  write_file(path("past.safetensors"), past + "{}");
  expect_bad_input("eval " + path("model.json") + " --weights " + path("past.safetensors"),
                   {"past.safetensors", "header length 1000", "past the end"});
  expect_bad_input("eval " + path("model.json") + " --weights " + path("none.safetensors"), {"none.safetensors"});
}

TEST_F(CliTest, BadIdxFiles) {
  std::string images = slurp(path("train-images.idx"));
  std::string wrong_magic = images;
  wrong_magic[0] = 1;
  wrong_magic[1] = 2;
  write_file(path("train-images.idx"), wrong_magic);
  expect_bad_input("train " + path("model.json"), {"train-images.idx"});
  write_file(path("train-images.idx"), images.substr(0, images.size() - 7));
  expect_bad_input("train " + path("model.json"), {"train-images.idx"});
  write_file(path("train-images.idx"), images);
  std::string labels = slurp(path("train-labels.idx"));
  labels[20] = 9;  // class 9 in a 3-class model
  write_file(path("train-labels.idx"), labels);
  expect_bad_input("train " + path("model.json"), {"label 9", "3 classes"});
}

TEST_F(CliTest, CsvData) {
  std::string good = "label,a,b,c,d\n";
  for (int i = 0; i < 60; ++i) good += std::to_string(i % 2) + (i % 2 ? ",9,8,1,0\n" : ",0,1,8,9\n");
  write_file(path("good.csv"), good);
  auto csv_model = [](const std::string& file) {
    return R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}],
      "optimizer": {"name": "sgd", "learning_rate": 0.5},
      "data": {"format": "csv", "train": ")" +
           file + R"(", "test": ")" + file + R"(", "label_column": 0, "header": true,
               "scaling": "standardize"}, "training": {"epochs": 3, "batch_size": 4}})";
  };
  write_file(path("csv.json"), csv_model("good.csv"));
  Result r = run("train " + path("csv.json") + " --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  // Two classes: the test line also gives precision, recall, F1 and ROC AUC of class 1.
  EXPECT_NE(r.out.find("accuracy 1.0000  precision 1.0000  recall 1.0000  f1 1.0000  roc_auc 1.0000"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("(60 samples)"), std::string::npos) << r.out;

  write_file(path("cell.csv"), "label,a,b,c,d\n0,1,2,3,4\n1,1,x2,3,4\n");
  write_file(path("cell.json"), csv_model("cell.csv"));
  expect_bad_input("train " + path("cell.json"), {"cell.csv:3", "x2"});
  write_file(path("ragged.csv"), "label,a,b,c,d\n0,1,2,3,4\n1,1,2,3\n");
  write_file(path("ragged.json"), csv_model("ragged.csv"));
  expect_bad_input("train " + path("ragged.json"), {"ragged.csv:3"});
}

}  // namespace
