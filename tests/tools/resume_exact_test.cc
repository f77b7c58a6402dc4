// Bit-exact resume (issue 8): a run killed again and again — by a timer at random moments in
// the middle of epochs, and by injected faults between write, fsync and rename of a save
// (GRAPHRUN_TEST_FAULT) — and resumed each time from the checkpoint it left ends with the same
// weights file, byte for byte, and the same per-step loss log as an uninterrupted run. The
// history's loss and accuracy columns (not its timings) match too, so mid-epoch checkpoints
// carry the epoch's running sums.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

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

// history.csv without its "seconds" column (the last one).
std::string history_without_seconds(const std::string& path) {
  std::stringstream in(slurp(path)), out;
  std::string line;
  while (std::getline(in, line)) out << line.substr(0, line.rfind(',')) << "\n";
  return out.str();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(ResumeExact, KilledAndResumedRunEqualsUninterruptedRun) {
  const std::string dir = make_temp_dir("graphrun_resume");
  ASSERT_FALSE(dir.empty());
  const std::string log = dir + "/log.txt";
  {
    write_csv_classes(dir + "/train.csv", 1500, 3);
    // Adam (two state slots per parameter), a validation split, a warmup + cosine schedule,
    // reduce-on-plateau and early stopping with the best weights: everything a resume restores.
    write_file(dir + "/model.json", R"({"inputs": 48, "layers": [{"units": 256, "activation": "relu"},
      {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "adam", "learning_rate": 0.002},
  "data": {"format": "csv", "train": "train.csv", "label_column": 0, "scaling": "standardize"},
  "training": {"epochs": 4, "batch_size": 8, "seed": 5, "validation_split": 0.2,
               "learning_rate_schedule": {"schedule": "cosine", "warmup_steps": 30,
                                          "reduce_on_plateau": {"monitor": "val_loss", "factor": 0.5, "patience": 1, "min_delta": 0.01}},
               "early_stopping": {"monitor": "val_accuracy", "patience": 3, "restore_best_weights": true}}})");
  }
  const std::string model = dir + "/model.json", cli = GRAPHRUN_CLI;
  const uint64_t hash = graphrun::io::read_model_file(model).model_hash;
  // 1200 training samples / 8 = 150 steps per epoch; a checkpoint every 13 steps lands inside epochs.
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{cli, "train", model, "--threads", "1", "--out", out, "--checkpoint-every", "13"};
  };

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_for(spawn(args(dir + "/straight"), log)), 0) << "see " << log;
  const double run_seconds = seconds_since(t0);

  const std::string out = dir + "/killed", ckpt = out + "/checkpoint.safetensors";
  std::mt19937 rng(20261201);
  const char* faults[] = {"kill-after-write", "kill-after-fsync", "kill-after-rename"};
  int timer_kills = 0, fault_kills = 0, mid_epoch_resumes = 0, runs = 0;
  for (int round = 0; round < 60 && (timer_kills < 6 || fault_kills < 6); ++round) {
    std::vector<std::string> a = args(out);
    if (fs::exists(ckpt)) {
      a.push_back("--resume");
      a.push_back(ckpt);
      mid_epoch_resumes += graphrun::train::read_checkpoint(ckpt, hash).state.batch > 0;
    }
    std::vector<std::string> env;
    const bool by_fault = fault_kills < 6 && (timer_kills >= 6 || rng() % 2);
    if (by_fault)
      env.push_back("GRAPHRUN_TEST_FAULT=" + std::string(faults[rng() % 3]) + ":" + std::to_string(1 + rng() % 2));
    ++runs;
    const pid_t pid = spawn(a, log, env);
    int status = 0;
    if (by_fault) {
      status = wait_for(pid);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "round " << round << ": see " << log;
      ++fault_kills;
      continue;
    }
    // A random moment within the first 7% of an uninterrupted run: each run gets a little further,
    // and twelve kills stay well short of the whole run.
    std::uniform_real_distribution<double> when(0.02, 0.07);
    if (wait_up_to(pid, when(rng) * run_seconds, &status)) {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << ": see " << log;
      break;  // finished before the timer: nothing left to interrupt
    }
    ::kill(pid, SIGKILL);
    wait_for(pid);
    ++timer_kills;
  }
  std::printf(
      "%d timer kills, %d injected kills (%d resumes from inside an epoch) in %d runs; uninterrupted run %.2f s\n",
      timer_kills, fault_kills, mid_epoch_resumes, runs, run_seconds);
  EXPECT_GE(timer_kills + fault_kills, 10);
  EXPECT_GE(mid_epoch_resumes, 3);

  // Run to the end.
  std::vector<std::string> a = args(out);
  if (fs::exists(ckpt)) {
    a.push_back("--resume");
    a.push_back(ckpt);
  }
  ASSERT_EQ(wait_for(spawn(a, log)), 0) << "see " << log;

  const std::string w1 = slurp(dir + "/straight/weights.safetensors"), w2 = slurp(out + "/weights.safetensors");
  ASSERT_FALSE(w1.empty());
  EXPECT_TRUE(w1 == w2) << "the weights of the interrupted run differ from the uninterrupted run's";
  const std::string s1 = slurp(dir + "/straight/steps.csv"), s2 = slurp(out + "/steps.csv");
  EXPECT_EQ(std::count(s1.begin(), s1.end(), '\n'), 1 + 4 * 150);
  EXPECT_TRUE(s1 == s2) << "the per-step loss logs differ";
  EXPECT_EQ(history_without_seconds(dir + "/straight/history.csv"), history_without_seconds(out + "/history.csv"));
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
