// Runtime failures of `graphrun train` (issue 8): a full disk (injected ENOSPC, and a real tiny
// tmpfs when this test may mount one), SIGINT/SIGTERM, a diverging run (lr 1e30) and data that
// overflow to NaN. Each ends with the documented exit code and one line on stderr, and leaves
// the last good checkpoint byte-identical (or, after a signal, a checkpoint that resumes
// bit-exactly). Also: eval and predict print the same bytes on every run and thread count, and
// --max-memory refuses a plan that does not fit before allocating it.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/model_file.h"
#include "tests/support/process_util.h"
#include "tests/support/tiny_data.h"
#include "train/checkpoint.h"

#ifndef GRAPHRUN_CLI
#error "GRAPHRUN_CLI (the path of the graphrun binary) must be defined"
#endif

namespace {

namespace fs = std::filesystem;
using namespace graphrun::testing;

struct Outcome {
  int status = 0;
  std::string out, err;
  int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("graphrun_rel");
    ASSERT_FALSE(dir_.empty());
    write_data("train.csv", 600, -1);
    write_model("model.json", "train.csv", "standardize");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // n rows of 3 classes, 48 features; row `huge` (if >= 0) has every feature 3.4e38, which
  // overflows to infinity in the first layer, then NaN.
  void write_data(const std::string& name, int n, int huge) const { write_csv_classes(path(name), n, 9, {}, huge); }
  void write_model(const std::string& name, const std::string& data, const std::string& scaling) const {
    write_file(
        path(name),
        R"({"inputs": 48, "layers": [{"units": 256, "activation": "relu"}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
  "data": {"format": "csv", "train": ")" +
            data + R"(", "label_column": 0, "scaling": ")" + scaling + R"("},
  "training": {"epochs": 3, "batch_size": 8, "seed": 4}})");
  }

  Outcome run(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
    args.insert(args.begin(), GRAPHRUN_CLI);
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    fs::remove(out);
    fs::remove(err);
    Outcome r;
    r.status = wait_for(spawn(args, out, env, err));
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  std::vector<std::string> train(const std::string& out, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"train", path("model.json"), "--threads", "1", "--out", path(out)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static void expect_one_line(const Outcome& r, int code, const std::vector<std::string>& fragments) {
    EXPECT_EQ(r.code(), code) << r.err;
    EXPECT_TRUE(r.err.starts_with("graphrun: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& f : fragments)
      EXPECT_NE(r.err.find(f), std::string::npos) << "missing '" << f << "' in " << r.err;
  }
  static bool no_temp_files(const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().filename().string().find(".tmp.") != std::string::npos) return false;
    }
    return true;
  }

  std::string dir_;
};

TEST_F(Reliability, InjectedFullDiskKeepsThePreviousCheckpoint) {
  ASSERT_EQ(run(train("o", {"--epochs", "1"})).code(), 0);
  const std::string ckpt = path("o/checkpoint.safetensors"), before = slurp(ckpt);
  // The first atomic write of the resumed run is the checkpoint at step 150 + 5.
  Outcome r = run(train("o", {"--resume", ckpt, "--checkpoint-every", "5"}), {"GRAPHRUN_TEST_FAULT=enospc"});
  expect_one_line(r, 1, {"checkpoint.safetensors", "No space left on device"});
  EXPECT_TRUE(slurp(ckpt) == before) << "the previous checkpoint changed";
  EXPECT_TRUE(no_temp_files(path("o")));
  // At an epoch end the history files come first; a full disk there keeps the checkpoint too.
  r = run(train("o", {"--resume", ckpt}), {"GRAPHRUN_TEST_FAULT=enospc:1"});
  expect_one_line(r, 1, {"history.csv", "No space left on device"});
  EXPECT_TRUE(slurp(ckpt) == before);
  // A misspelt fault is bad input.
  r = run(train("p", {"--epochs", "1"}), {"GRAPHRUN_TEST_FAULT=kill-after-sync"});
  expect_one_line(r, 2, {"GRAPHRUN_TEST_FAULT=kill-after-sync", "kill-after-fsync"});
}

TEST_F(Reliability, TinyTmpfsFullDiskKeepsThePreviousCheckpoint) {
  // The checkpoint after step 5, from a run killed right after that save's rename.
  const pid_t ref = spawn(
      {GRAPHRUN_CLI, "train", path("model.json"), "--threads", "1", "--out", path("ref"), "--checkpoint-every", "5"},
      path("ref.log"), {"GRAPHRUN_TEST_FAULT=kill-after-rename:1"});
  ASSERT_TRUE(WIFSIGNALED(wait_for(ref)));
  const std::string step5 = slurp(path("ref/checkpoint.safetensors"));
  ASSERT_FALSE(step5.empty());
  // Room for one checkpoint (and the small logs), not for its replacement beside it.
  const std::string mnt = path("tmpfs");
  fs::create_directory(mnt);
  const std::string size = "size=" + std::to_string(step5.size() * 3 / 2 + 8192);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, size.c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "; needs root or CAP_SYS_ADMIN); the "
                 << "injected ENOSPC test covers the same path";
  }
  Outcome r = run({"train", path("model.json"), "--threads", "1", "--out", mnt + "/o", "--checkpoint-every", "5"});
  const std::string left = slurp(mnt + "/o/checkpoint.safetensors");
  const bool clean = no_temp_files(mnt + "/o");
  ::umount(mnt.c_str());
  expect_one_line(r, 1, {"checkpoint.safetensors", "No space left on device"});
  EXPECT_TRUE(left == step5) << "the checkpoint of step 5 did not survive the full disk intact";
  EXPECT_TRUE(clean) << "a temporary file was left on the full disk";
}

TEST_F(Reliability, SignalsStopAfterAStepWithACheckpointThatResumesExactly) {
  ASSERT_EQ(run(train("straight")).code(), 0);
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string out = path(sig == SIGINT ? "int" : "term");
    const pid_t pid = spawn({GRAPHRUN_CLI, "train", path("model.json"), "--threads", "1", "--out", out}, out + ".log");
    // Wait until training is under way (the step log grows), then signal.
    int status = 0;
    bool exited = false;
    while (!exited && slurp(out + "/steps.csv").size() < 200) exited = wait_up_to(pid, 0.001, &status);
    ASSERT_FALSE(exited) << "the run ended before it could be signalled; see " << out << ".log";
    ::kill(pid, sig);
    status = wait_for(pid);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping";
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
    const std::string log = slurp(out + ".log");
    const size_t at = log.find("graphrun: interrupted by ");
    ASSERT_NE(at, std::string::npos) << log;
    EXPECT_NE(log.find(sig == SIGINT ? "SIGINT after step " : "SIGTERM after step ", at), std::string::npos) << log;
    EXPECT_NE(log.find("--resume", at), std::string::npos) << log;
    EXPECT_EQ(log.find('\n', at), log.size() - 1) << "the message is the last line, and one line";
    const std::string ckpt = out + "/checkpoint.safetensors";
    ASSERT_TRUE(fs::exists(ckpt));
    Outcome r = run({"train", path("model.json"), "--threads", "1", "--out", out, "--resume", ckpt});
    ASSERT_EQ(r.code(), 0) << r.err;
    EXPECT_TRUE(slurp(out + "/weights.safetensors") == slurp(path("straight/weights.safetensors")));
    EXPECT_TRUE(slurp(out + "/steps.csv") == slurp(path("straight/steps.csv")));
  }
}

TEST_F(Reliability, DivergingLearningRateStopsWithinAStep) {
  ASSERT_EQ(run(train("o", {"--epochs", "1"})).code(), 0);
  const std::string ckpt = path("o/checkpoint.safetensors"), before = slurp(ckpt);
  Outcome r = run(train("o", {"--resume", ckpt, "--lr", "1e30"}));
  expect_one_line(r, 1, {"the loss became", "epoch 2, batch "});
  EXPECT_TRUE(slurp(ckpt) == before);
  // The step with the bad update is logged; the next one found the loss non-finite and stopped.
  const std::string steps = slurp(path("o/steps.csv"));
  EXPECT_LE(std::count(steps.begin(), steps.end(), '\n'), 1 + 150 + 2) << steps.substr(steps.size() - 200);
  // Also when a checkpoint is due right after the bad update: it is not written.
  r = run(train("o", {"--resume", ckpt, "--lr", "1e30", "--checkpoint-every", "1"}));
  EXPECT_EQ(r.code(), 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NO_THROW(graphrun::train::read_checkpoint(ckpt, graphrun::io::read_model_file(path("model.json")).model_hash));
}

TEST_F(Reliability, NaNFromTheDataStopsWithinAStep) {
  write_model("model.json", "train.csv", "none");
  ASSERT_EQ(run(train("o", {"--epochs", "1"})).code(), 0);
  const std::string ckpt = path("o/checkpoint.safetensors"), before = slurp(ckpt);
  write_data("train.csv", 600, 321);  // the same data but one value that overflows the first layer
  Outcome r = run(train("o", {"--resume", ckpt}));
  expect_one_line(r, 1, {"model.json: the loss became", "nan at epoch 2, batch "});
  EXPECT_TRUE(slurp(ckpt) == before);
}

TEST_F(Reliability, EvalAndPredictAreDeterministicAcrossRunsAndThreads) {
  ASSERT_EQ(run(train("o", {"--epochs", "1"})).code(), 0);
  const std::string w = path("o/weights.safetensors");
  {  // predict takes features only: the training file without its label column
    std::ifstream in(path("train.csv"));
    std::ofstream out(path("features.csv"));
    for (std::string line; std::getline(in, line);) out << line.substr(line.find(',') + 1) << "\n";
  }
  std::string eval_ref, predict_ref;
  for (const char* threads : {"1", "2", "1", "2"}) {
    Outcome e = run({"eval", path("model.json"), "--weights", w, "--data", path("train.csv"), "--threads", threads});
    ASSERT_EQ(e.code(), 0) << e.err;
    const size_t speed = e.out.find("speed: ");  // the one line that differs between runs
    ASSERT_NE(speed, std::string::npos) << e.out;
    e.out.erase(speed, e.out.find('\n', speed) + 1 - speed);
    Outcome p =
        run({"predict", path("model.json"), "--weights", w, "--input", path("features.csv"), "--threads", threads});
    ASSERT_EQ(p.code(), 0) << p.err;
    if (eval_ref.empty()) {
      eval_ref = e.out;
      predict_ref = p.out;
      EXPECT_EQ(std::count(p.out.begin(), p.out.end(), '\n'), 601);
      continue;
    }
    EXPECT_EQ(e.out, eval_ref) << "--threads " << threads;
    EXPECT_TRUE(p.out == predict_ref) << "--threads " << threads;
  }
}

TEST_F(Reliability, MaxMemoryRefusesAnOversizedPlanBeforeAllocating) {
  // 48*256 + 256 + 256*3 + 3 = 13315 parameters; sgd with momentum keeps one slot: 106520 bytes.
  Outcome r = run(train("o", {"--max-memory", "100K"}));
  expect_one_line(r, 1, {"model.json", "13315 parameters", "106520 bytes", "--max-memory of 102400 bytes"});
  EXPECT_FALSE(fs::exists(path("o/checkpoint.safetensors")));
  // The parameters fit in 1M; a batch of 600 needs [600,256] activations and more in the arena.
  r = run(train("o", {"--max-memory", "1M", "--batch-size", "600"}));
  expect_one_line(r, 1, {"memory plan at batch 600", "arena of ", "more than the 942056 bytes allowed"});
  EXPECT_EQ(run(train("o", {"--max-memory", "1M", "--epochs", "1"})).code(), 0);
  r = run(train("o", {"--max-memory", "12X"}));
  expect_one_line(r, 2, {"--max-memory \"12X\"", "512M"});
}

TEST_F(Reliability, CheckpointEveryNeedsOut) {
  Outcome r = run({"train", path("model.json"), "--checkpoint-every", "5"});
  expect_one_line(r, 2, {"--checkpoint-every needs --out"});
}

}  // namespace
