// Crash safety of checkpoints (issue 8): `graphrun train` is killed with SIGKILL 50 times, each
// run resuming from the checkpoint the previous one left: half the kills at random moments, half
// forced between the write, fsync and rename of a save (GRAPHRUN_TEST_FAULT, io/write_faults.h).
// After every kill the checkpoint is either absent (no epoch finished yet) or complete and
// loadable (train::read_checkpoint validates the whole layout and metadata): never a partial
// file, and once one existed it never disappears. Temporary files of killed runs are removed
// when the next run starts, so a run that completes leaves none behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/model_file.h"
#include "tests/support/process_util.h"
#include "train/checkpoint.h"

#ifndef GRAPHRUN_CLI
#error "GRAPHRUN_CLI (the path of the graphrun binary) must be defined"
#endif

namespace {

namespace fs = std::filesystem;
using graphrun::testing::make_temp_dir;
using graphrun::testing::spawn;

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) out.push_back(name);
  }
  return out;
}

TEST(CheckpointKill, AlwaysALoadableCheckpoint) {
  const std::string dir = make_temp_dir("graphrun_kill");
  ASSERT_FALSE(dir.empty());
  const std::string out = dir + "/out", log = dir + "/log.txt";
  {
    std::ofstream csv(dir + "/train.csv");
    std::mt19937 rng(5);
    for (int i = 0; i < 240; ++i) {
      const int k = i % 3;
      csv << k;
      for (int j = 0; j < 16; ++j) csv << "," << ((j / 6 == k) ? 0.8 : 0.1) + 0.1 * (rng() % 100) / 100.0;
      csv << "\n";
    }
    std::ofstream model(dir + "/model.json");
    model << R"({"inputs": 16, "layers": [{"units": 24, "activation": "relu"}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
  "data": {"format": "csv", "train": "train.csv", "label_column": 0, "scaling": "minmax"},
  "training": {"epochs": 1000000, "batch_size": 8, "seed": 11}})";
  }
  const uint64_t hash = graphrun::io::read_model_file(dir + "/model.json").model_hash;
  const std::string ckpt = out + "/checkpoint.safetensors";

  std::mt19937 rng(20261125);
  bool had_checkpoint = false;
  int64_t last_epoch = -1;
  uint64_t last_step = 0;
  int advanced = 0, stale_seen = 0, forced = 0;
  const char* faults[] = {"kill-after-write", "kill-after-fsync", "kill-after-rename"};
  for (int round = 0; round < 50; ++round) {
    // 30 steps per epoch: a checkpoint every 7 steps lands inside epochs and beside their ends.
    std::vector<std::string> args = {GRAPHRUN_CLI, "train", dir + "/model.json",  "--threads", "1",
                                     "--out",      out,     "--checkpoint-every", "7"};
    if (fs::exists(ckpt)) {
      args.push_back("--resume");
      args.push_back(ckpt);
    }
    std::vector<std::string> env;
    if (round % 2) {
      env.push_back("GRAPHRUN_TEST_FAULT=" + std::string(faults[rng() % 3]) + ":" + std::to_string(1 + rng() % 4));
      ++forced;
    }
    const pid_t pid = spawn(args, log, env);
    ASSERT_GT(pid, 0);
    int status = 0;
    if (env.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(40 + rng() % 400));
      ::kill(pid, SIGKILL);
    }
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "round " << round << ": graphrun failed on its own; see " << log;
    if (!fs::exists(ckpt)) {
      EXPECT_FALSE(had_checkpoint) << "round " << round << ": the checkpoint disappeared";
      continue;
    }
    had_checkpoint = true;
    stale_seen += !temp_files(out).empty();
    try {
      graphrun::train::Checkpoint c = graphrun::train::read_checkpoint(ckpt, hash);
      EXPECT_GE(c.state.step, last_step) << "round " << round << ": the checkpoint went back in time";
      advanced += c.state.step > last_step;
      last_step = c.state.step;
      last_epoch = c.state.epoch;
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "round " << round << ": the checkpoint left by a kill does not load: " << ex.what();
    }
  }
  std::printf(
      "50 kills (%d forced inside a save): the checkpoint advanced %d times (to epoch %lld); %d kills left a "
      "temporary file\n",
      forced, advanced, static_cast<long long>(last_epoch), stale_seen);
  EXPECT_TRUE(had_checkpoint) << "no run lived long enough to write a checkpoint; see " << log;
  EXPECT_GT(last_epoch, 0);

  // A run that completes (one more epoch) removes the temporary files of the killed ones.
  if (had_checkpoint) {
    const std::string epochs = std::to_string(last_epoch + 1);
    const pid_t pid = spawn({GRAPHRUN_CLI, "train", dir + "/model.json", "--threads", "1", "--out", out, "--resume",
                             ckpt, "--epochs", epochs},
                            log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "see " << log;
    EXPECT_TRUE(temp_files(out).empty()) << "stale temporary file left: " << temp_files(out).front();
    EXPECT_NO_THROW(graphrun::train::read_checkpoint(ckpt, hash));
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
