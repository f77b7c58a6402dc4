// Runs the graphrun binary (GRAPHRUN_CLI) through the shell and captures its exit code, stdout
// and stderr, and the fixture of the CLI tests built on it.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <utility>

#include "tests/support/process_util.h"
#include "tests/support/tiny_data.h"

#ifndef GRAPHRUN_CLI
#error "GRAPHRUN_CLI (the path of the graphrun binary) must be defined"
#endif

namespace graphrun::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

// `graphrun <args>` with stdin from /dev/null; the output goes through files in `dir`, and
// `--backend auto`'s timing cache is dir/cache (not the user's). `launcher` (such as
// "taskset -c 0") runs graphrun.
inline CliResult run_cli(const std::string& args, const std::string& dir, const std::string& launcher = "") {
  CliResult r;
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  // `timeout`: a hang fails the test in 60 s instead of stalling the suite.
  const std::string cmd = "timeout 60 env GRAPHRUN_CACHE_DIR=" + dir + "/cache " + launcher + " " +
                          std::string(GRAPHRUN_CLI) + " " + args + " > " + out + " 2> " + err + " < /dev/null";
  const int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// A temp folder (removed afterwards) holding the tiny IDX sets train-* (600 samples) and test-*
// (150), in which `run` starts graphrun.
class CliFixture : public ::testing::Test {
 protected:
  explicit CliFixture(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = make_temp_dir(prefix_);
    ASSERT_FALSE(dir_.empty());
    write_idx_classes(path("train"), 600, 1);
    write_idx_classes(path("test"), 150, 2);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  CliResult run(const std::string& args) const { return run_cli(args, dir_); }

  std::string dir_;

 private:
  std::string prefix_;
};

}  // namespace graphrun::testing
