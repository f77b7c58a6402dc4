// One output folder, one run (issue 21): a second `graphrun train` on a folder in use stops
// before training (exit 2, one line naming the folder and the holder's PID) and leaves the
// first run's results consistent; a SIGKILLed run leaves no stale lock; a rerun says what it
// replaces, and a run that fails before its first step leaves the earlier results untouched.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;
using graphrun::testing::CliResult;
using graphrun::testing::slurp;
using graphrun::testing::spawn;
using graphrun::testing::write_file;

class OutFolder : public graphrun::testing::CliFixture {
 protected:
  OutFolder() : CliFixture("graphrun_out_folder") {}
  void SetUp() override {
    CliFixture::SetUp();
    if (HasFatalFailure()) return;
    write_file(path("a.json"), model_json(8, "train"));
    write_file(path("b.json"), model_json(9, "train"));
    write_file(path("missing.json"), model_json(8, "no-such"));
  }

  static std::string model_json(int hidden, const std::string& train_stem) {
    return R"({"inputs": 16, "layers": [{"units": )" + std::to_string(hidden) +
           R"(, "activation": "relu"}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": 0.1},
  "data": {"train_images": ")" +
           train_stem + R"(-images.idx", "train_labels": ")" + train_stem +
           R"(-labels.idx", "test_images": "test-images.idx", "test_labels": "test-labels.idx"},
  "training": {"epochs": 2, "batch_size": 16, "seed": 7}})";
  }
  std::vector<std::string> train(const std::string& model, const std::vector<std::string>& extra,
                                 const std::string& out = "out") const {
    std::vector<std::string> a = {GRAPHRUN_CLI, "train", path(model), "--threads", "1", "--out", path(out)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  uint64_t hash(const std::string& model) const { return graphrun::io::read_model_file(path(model)).model_hash; }
  std::map<std::string, std::string> metadata(const std::string& file) const {
    return graphrun::io::read_safetensors(path("out/" + file)).metadata;
  }
  // Polls until `pred` holds (true) or 20 s pass (false).
  static bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 40000; ++i) {
      if (pred()) return true;
      ::usleep(500);
    }
    return false;
  }
  static std::string hex(uint64_t v) { return fmt::format("{:016x}", v); }
};

TEST_F(OutFolder, SecondRunOnAFolderInUseIsRefusedAndTheFirstStaysConsistent) {
  const pid_t first = spawn(train("a.json", {"--epochs", "3"}), path("first.log"));
  ASSERT_GT(first, 0);
  // The lock file holds the PID once the lock is taken; freeze the holder there so the second
  // run surely meets it.
  ASSERT_TRUE(eventually([&] { return slurp(path("out/.graphrun.lock")) == std::to_string(first) + "\n"; }));
  ASSERT_EQ(::kill(first, SIGSTOP), 0);
  CliResult second = run("train " + path("b.json") + " --threads 1 --out " + path("out"));
  ::kill(first, SIGCONT);
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_EQ(std::count(second.err.begin(), second.err.end(), '\n'), 1) << second.err;
  EXPECT_NE(second.err.find("--out " + path("out") + ": in use"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("process " + std::to_string(first)), std::string::npos) << second.err;
  EXPECT_EQ(second.out.find("training"), std::string::npos) << "refused before training: " << second.out;
  const int status = graphrun::testing::wait_for(first);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(path("first.log"));
  EXPECT_FALSE(fs::exists(path("out/.graphrun.lock"))) << "the holder removes it as it ends";

  // Weights, checkpoint, history and step log all come from the first run: its model, 3 epochs
  // of 600 / 16 = 38 steps.
  const std::map<std::string, std::string> w = metadata("weights.safetensors"), c = metadata("checkpoint.safetensors");
  EXPECT_EQ(w.at("model_hash"), hex(hash("a.json")));
  EXPECT_EQ(c.at("model_hash"), hex(hash("a.json")));
  EXPECT_EQ(w.at("step"), "114");
  EXPECT_EQ(c.at("step"), "114");
  EXPECT_EQ(w.at("epoch"), "3");
  EXPECT_EQ(c.at("epoch"), "3");
  const std::string steps = slurp(path("out/steps.csv"));
  EXPECT_EQ(std::count(steps.begin(), steps.end(), '\n'), 1 + 114);
  EXPECT_NE(steps.find("\n114,3,38,"), std::string::npos);
  const std::string history = slurp(path("out/history.csv"));
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 1 + 3) << history;
  // The weights are the checkpoint's parameters, tensor by tensor.
  const graphrun::io::SafetensorsFile wf = graphrun::io::read_safetensors(path("out/weights.safetensors"));
  const graphrun::io::SafetensorsFile cf = graphrun::io::read_safetensors(path("out/checkpoint.safetensors"));
  for (const auto& [name, t] : wf.tensors) {
    auto it =
        std::find_if(cf.tensors.begin(), cf.tensors.end(), [&, &n = name](const auto& e) { return e.first == n; });
    ASSERT_NE(it, cf.tensors.end()) << name;
    ASSERT_EQ(t.numel(), it->second.numel()) << name;
    EXPECT_TRUE(std::equal(t.span().begin(), t.span().end(), it->second.span().begin())) << name;
  }
}

TEST_F(OutFolder, AKilledRunLeavesNoStaleLock) {
  const pid_t killed = spawn(train("a.json", {"--epochs", "1000000"}), path("killed.log"));
  ASSERT_GT(killed, 0);
  ASSERT_TRUE(eventually([&] { return fs::exists(path("out/checkpoint.safetensors")); })) << slurp(path("killed.log"));
  ASSERT_EQ(::kill(killed, SIGKILL), 0);
  graphrun::testing::wait_for(killed);
  EXPECT_EQ(slurp(path("out/.graphrun.lock")), std::to_string(killed) + "\n") << "the file stays; its lock does not";
  const std::string before = slurp(path("out/checkpoint.safetensors"));
  // At once: a resumed run (one more epoch), then a new one.
  const int64_t epoch = std::stoll(metadata("checkpoint.safetensors").at("epoch"));
  CliResult r = run("train " + path("a.json") + " --threads 1 --out " + path("out") + " --epochs " +
                    std::to_string(epoch + 1) + " --resume " + path("out/checkpoint.safetensors"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(metadata("checkpoint.safetensors").at("epoch"), std::to_string(epoch + 1));
  EXPECT_TRUE(slurp(path("out/checkpoint.safetensors")) != before);
  r = run("train " + path("a.json") + " --threads 1 --out " + path("out") + " --epochs 1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(metadata("checkpoint.safetensors").at("epoch"), "1");
  EXPECT_FALSE(fs::exists(path("out/.graphrun.lock")));
}

TEST_F(OutFolder, ARerunSaysWhatItReplaces) {
  CliResult r = run("train " + path("a.json") + " --threads 1 --out " + path("out"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("earlier run"), std::string::npos) << "a new folder replaces nothing: " << r.out;

  // A run that fails before its first step (missing data) leaves the results as they were.
  std::map<std::string, std::string> before;
  for (const char* f : {"weights.safetensors", "checkpoint.safetensors", "history.csv", "history.json", "steps.csv"}) {
    before[f] = slurp(path(std::string("out/") + f));
  }
  r = run("train " + path("missing.json") + " --threads 1 --out " + path("out"));
  EXPECT_EQ(r.code, 2) << r.err;
  for (const auto& [f, bytes] : before) EXPECT_TRUE(slurp(path("out/" + f)) == bytes) << f << " changed";
  EXPECT_EQ(std::distance(fs::directory_iterator(path("out")), fs::directory_iterator()), 5) << "no file added";
  r = run("train " + path("missing.json") + " --threads 1 --out " + path("new"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_FALSE(fs::exists(path("new"))) << "a failed run leaves no folder behind";

  // Another model into the folder: one line, before training, naming both model hashes.
  r = run("train " + path("b.json") + " --threads 1 --out " + path("out") + " --epochs 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t line = r.out.find(path("out") +
                                 " holds an earlier run's results (weights.safetensors, "
                                 "checkpoint.safetensors, history.csv, history.json, steps.csv) of "
                                 "another model (" +
                                 hex(hash("a.json")) + "; this one is " + hex(hash("b.json")) +
                                 ") at epoch 2, step 76: this run replaces them at its first step\n");
  EXPECT_EQ(line, 0u) << r.out;
  EXPECT_LT(line, r.out.find("training ")) << r.out;
  EXPECT_EQ(metadata("weights.safetensors").at("model_hash"), hex(hash("b.json")));
  const std::string history = slurp(path("out/history.csv"));
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 1 + 1) << "only the new run's epoch: " << history;

  // --resume from the folder continues it: nothing is replaced, nothing said.
  r = run("train " + path("b.json") + " --threads 1 --out " + path("out") + " --epochs 2 --resume " +
          path("out/checkpoint.safetensors"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("earlier run"), std::string::npos) << r.out;
  const std::string resumed = slurp(path("out/history.csv"));
  EXPECT_EQ(std::count(resumed.begin(), resumed.end(), '\n'), 1 + 2) << resumed;
}

TEST_F(OutFolder, TuneLocksItsFolderAndEachTrialItsOwn) {
  const pid_t holder = spawn(train("a.json", {"--epochs", "1"}, "tune"), path("holder.log"));
  ASSERT_GT(holder, 0);
  ASSERT_TRUE(eventually([&] { return slurp(path("tune/.graphrun.lock")) == std::to_string(holder) + "\n"; }));
  ASSERT_EQ(::kill(holder, SIGSTOP), 0);
  const std::string tune = "tune " + path("a.json") +
                           " --grid 'lr=0.1,0.05' --jobs 2 --epochs 1 --threads 1 --metric loss --out " + path("tune");
  CliResult r = run(tune);
  ::kill(holder, SIGCONT);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("in use by another graphrun run (process " + std::to_string(holder) + ")"), std::string::npos)
      << r.err;
  graphrun::testing::wait_for(holder);
  // Two trials at once, each locking its own folder.
  r = run(tune);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* d : {"tune/trial_1", "tune/trial_2"}) {
    EXPECT_TRUE(fs::exists(path(d) + "/weights.safetensors")) << d;
    EXPECT_FALSE(fs::exists(path(d) + "/.graphrun.lock")) << d;
  }
}

}  // namespace
