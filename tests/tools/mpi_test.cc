// Data-parallel training under mpirun (issue 10): `mpirun -np 2 graphrun train` against one
// process, the broadcast of rank 0's state, and a rank that dies or stops mid-run. Each test
// trains a small generated CSV problem (1600 samples, batch 32: 50 steps an epoch).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "tests/support/process_util.h"
#include "tests/support/tiny_data.h"
#include "train/checkpoint.h"

#ifndef GRAPHRUN_CLI
#error "GRAPHRUN_CLI (the path of the graphrun binary) must be defined"
#endif
#ifndef GRAPHRUN_MPIEXEC
#error "GRAPHRUN_MPIEXEC (the path of mpirun) must be defined"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using graphrun::testing::slurp;
using graphrun::testing::wait_or_kill;

class MpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // CI runs as root; OpenMPI refuses that unless told. OpenMPI's own allocations are never
    // freed, so LeakSanitizer (ASan builds) would fail every rank at exit.
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    ::setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1", 1);
    dir_ = graphrun::testing::make_temp_dir("graphrun_mpi");
    ASSERT_FALSE(dir_.empty());
    ::setenv("GRAPHRUN_MPI_TEST_DIR", dir_.c_str(), 1);  // marks this test's ranks in /proc
    graphrun::testing::write_csv_classes(path("train.csv"), 1600, 3, {.features = 16, .group = 5, .low = 0.1});
    std::ofstream model(path("model.json"));
    model << R"({"inputs": 16, "layers": [{"units": 32, "activation": "relu"}, {"units": 3, "activation": "softmax"}],
  "optimizer": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
  "data": {"format": "csv", "train": "train.csv", "label_column": 0, "scaling": "minmax"},
  "training": {"epochs": 1, "batch_size": 32, "seed": 5}})";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string log() const { return path("log.txt"); }

  // Starts a command (argv) with stdout and stderr appended to log().
  pid_t spawn(const std::vector<std::string>& args) const { return graphrun::testing::spawn(args, log()); }
  // Runs a command to completion (at most 40 s); its exit code (-1 when it overran or was killed).
  int run(const std::vector<std::string>& args) const {
    const int status = wait_or_kill(spawn(args), 40);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::vector<std::string> mpirun(int ranks) const {
    return {GRAPHRUN_MPIEXEC, "--oversubscribe", "-np", std::to_string(ranks)};
  }
  std::vector<std::string> train(const std::vector<std::string>& extra) const {
    std::vector<std::string> a = {GRAPHRUN_CLI, "train", path("model.json"), "--threads", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  // The pid of this test's rank `rank` (from the environment mpirun gives it), or 0.
  pid_t find_rank(int rank) const {
    const std::string want_dir = "GRAPHRUN_MPI_TEST_DIR=" + dir_,
                      want_rank = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string env = slurp(e.path().string() + "/environ");
      std::replace(env.begin(), env.end(), '\0', '\n');
      env = "\n" + env;
      if (env.find("\n" + want_dir + "\n") != std::string::npos &&
          env.find("\n" + want_rank + "\n") != std::string::npos &&
          slurp(e.path().string() + "/comm").starts_with("graphrun")) {
        return static_cast<pid_t>(std::stoi(name));
      }
    }
    return 0;
  }

  std::string dir_;
};

// Largest |a - b| / max |a| over the tensors of two weights files (same names and shapes).
double relative_difference(const std::string& a_path, const std::string& b_path) {
  const graphrun::io::SafetensorsFile a = graphrun::io::read_safetensors(a_path),
                                      b = graphrun::io::read_safetensors(b_path);
  EXPECT_EQ(a.tensors.size(), b.tensors.size());
  double worst = 0;
  for (size_t t = 0; t < std::min(a.tensors.size(), b.tensors.size()); ++t) {
    const graphrun::Tensor &x = a.tensors[t].second, &y = b.tensors[t].second;
    EXPECT_EQ(a.tensors[t].first, b.tensors[t].first);
    EXPECT_EQ(x.numel(), y.numel());
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < std::min(x.numel(), y.numel()); ++i) {
      diff = std::max(diff, std::abs(double(x.data()[i]) - double(y.data()[i])));
      scale = std::max(scale, std::abs(double(x.data()[i])));
    }
    worst = std::max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

TEST_F(MpiTest, TwoRanksMatchOneProcess) {
  ASSERT_EQ(run(train({"--out", path("one")})), 0) << slurp(log());
  ASSERT_EQ(run(cat(mpirun(2), train({"--out", path("two")}))), 0) << slurp(log());
  EXPECT_NE(slurp(log()).find("data-parallel over 2 ranks"), std::string::npos) << slurp(log());
  // 50 steps of batch 32. Each rank's GEMMs sum 16 rows of the gradient instead of 32, and the
  // halves are added by the allreduce: the same sum in another order, so equal to float rounding,
  // not bit for bit (the weights 16/32 are powers of two and add no rounding of their own).
  const double rel = relative_difference(path("one/weights.safetensors"), path("two/weights.safetensors"));
  std::printf("2 ranks vs 1 process after 50 steps: max relative difference %.3g\n", rel);
  EXPECT_LT(rel, 1e-6);
  // The runs trained: the weights moved far from the start (epochs 0 writes the initial ones).
  ASSERT_EQ(run(train({"--out", path("zero"), "--epochs", "0"})), 0) << slurp(log());
  EXPECT_GT(relative_difference(path("one/weights.safetensors"), path("zero/weights.safetensors")), 0.05);
}

TEST_F(MpiTest, UnevenShardsAreWeightedBySize) {
  // Batch 41: shards of 21 and 20 rows weighted 21/41 and 20/41, and a last batch of one row
  // (1600 = 39 * 41 + 1) that rank 1 has no share of: it adds zeros.
  ASSERT_EQ(run(train({"--batch-size", "41", "--out", path("one")})), 0) << slurp(log());
  ASSERT_EQ(run(cat(mpirun(2), train({"--batch-size", "41", "--out", path("two")}))), 0) << slurp(log());
  const double rel = relative_difference(path("one/weights.safetensors"), path("two/weights.safetensors"));
  std::printf("2 ranks vs 1 process, batch 41, 40 steps: max relative difference %.3g\n", rel);
  EXPECT_LT(rel, 1e-6);
}

TEST_F(MpiTest, BroadcastMakesRanksIdenticalDespiteSeeds) {
  // Two ranks with different seeds (an MPMD launch). At the start (0 epochs) and after an
  // epoch every rank holds rank 0's parameters: graphrun checks that every rank ends with the
  // same parameters, bit for bit, and fails the run otherwise.
  for (const char* epochs : {"0", "1"}) {
    const std::string mixed = path(std::string("mixed") + epochs), same = path(std::string("same") + epochs);
    std::vector<std::string> mpmd =
        cat(cat(mpirun(1), train({"--seed", "5", "--epochs", epochs, "--out", mixed})), {":"});
    mpmd = cat(cat(mpmd, {"--oversubscribe", "-np", "1"}), train({"--seed", "99", "--epochs", epochs}));
    ASSERT_EQ(run(mpmd), 0) << slurp(log());
    ASSERT_EQ(run(cat(mpirun(2), train({"--seed", "5", "--epochs", epochs, "--out", same}))), 0) << slurp(log());
    EXPECT_EQ(relative_difference(mixed + "/weights.safetensors", same + "/weights.safetensors"), 0.0)
        << "epochs " << epochs;
  }
  // Seed 5's initial weights, as one process makes them: rank 0's.
  ASSERT_EQ(run(train({"--seed", "5", "--epochs", "0", "--out", path("single")})), 0) << slurp(log());
  EXPECT_EQ(relative_difference(path("mixed0/weights.safetensors"), path("single/weights.safetensors")), 0.0);
  ASSERT_EQ(run(train({"--seed", "99", "--epochs", "0", "--out", path("other")})), 0) << slurp(log());
  EXPECT_GT(relative_difference(path("mixed0/weights.safetensors"), path("other/weights.safetensors")), 0.01);
}

// Starts a long run on two ranks, waits for its first checkpoint, does `harm` to rank 1 and
// returns (exit status of mpirun, seconds from harm to exit).
struct Ending {
  int status;
  double seconds;
};

class MpiFaultTest : public MpiTest {
 protected:
  Ending harm_rank_one(int signal, const std::string& out) {
    const pid_t job = spawn(cat(mpirun(2), train({"--epochs", "1000000", "--out", out})));
    const std::string ckpt = out + "/checkpoint.safetensors";
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!fs::exists(ckpt) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const pid_t victim = find_rank(1);
    if (!fs::exists(ckpt) || victim == 0) {
      ::kill(job, SIGKILL);
      ::waitpid(job, nullptr, 0);
      ADD_FAILURE() << (victim == 0 ? "rank 1 not found" : "no checkpoint in 20 s") << "; log:\n" << slurp(log());
      return {0, 0};
    }
    const auto t0 = Clock::now();
    ::kill(victim, signal);
    const int status = wait_or_kill(job, 60);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (signal == SIGSTOP) ::kill(victim, SIGKILL);  // should be gone with the job; make sure
    return {status, seconds};
  }
};

TEST_F(MpiFaultTest, KilledRankEndsTheJobAndResumeCompletes) {
  const std::string out = path("out");
  const Ending end = harm_rank_one(SIGKILL, out);
  if (HasFailure()) return;
  std::printf("SIGKILL of rank 1: mpirun exited after %.2f s (status %d)\n", end.seconds, end.status);
  ASSERT_NE(end.status, -1) << "mpirun still running 60 s after rank 1 was killed";
  EXPECT_FALSE(WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0) << "mpirun exited 0 after a rank died";
  EXPECT_LT(end.seconds, 60);
  // Resume from the last checkpoint on two ranks: one more epoch, then a normal end.
  const std::string ckpt = out + "/checkpoint.safetensors";
  const uint64_t hash = graphrun::io::read_model_file(path("model.json")).model_hash;
  const int64_t epoch = graphrun::train::read_checkpoint(ckpt, hash).state.epoch;
  ASSERT_GE(epoch, 1);
  ASSERT_EQ(run(cat(mpirun(2), train({"--out", out, "--resume", ckpt, "--epochs", std::to_string(epoch + 1)}))), 0)
      << slurp(log());
  EXPECT_EQ(graphrun::train::read_checkpoint(ckpt, hash).state.epoch, epoch + 1);
  // ... and ends exactly where an uninterrupted two-rank run of as many epochs ends.
  ASSERT_EQ(run(cat(mpirun(2), train({"--out", path("straight"), "--epochs", std::to_string(epoch + 1)}))), 0)
      << slurp(log());
  EXPECT_EQ(relative_difference(out + "/weights.safetensors", path("straight/weights.safetensors")), 0.0);
}

TEST_F(MpiFaultTest, StoppedRankHitsTheCollectiveTimeout) {
  // A stopped rank looks alive to mpirun; the others give up after GRAPHRUN_MPI_TIMEOUT.
  ::setenv("GRAPHRUN_MPI_TIMEOUT", "2", 1);
  const Ending end = harm_rank_one(SIGSTOP, path("out"));
  ::unsetenv("GRAPHRUN_MPI_TIMEOUT");
  if (HasFailure()) return;
  std::printf("SIGSTOP of rank 1: mpirun exited after %.2f s (status %d)\n", end.seconds, end.status);
  ASSERT_NE(end.status, -1) << "mpirun still running 60 s after rank 1 was stopped";
  EXPECT_FALSE(WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0);
  EXPECT_LT(end.seconds, 30);
  EXPECT_NE(slurp(log()).find("made no progress for 2 s"), std::string::npos) << slurp(log());
}

}  // namespace
