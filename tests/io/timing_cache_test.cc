// io/timing_cache.h: --backend auto's choices kept in a file between runs.
#include "io/timing_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>

#include "core/backend_timing.h"
#include "tests/io/io_test_util.h"
#include "tests/support/scoped_env.h"

namespace graphrun::io {
namespace {

using graphrun::testing::ScopedEnv;
using testing::ScratchDir;

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class TimingCache : public ::testing::Test {
 protected:
  void SetUp() override { forget_timed_choices(); }
  void TearDown() override { forget_timed_choices(); }
  ScratchDir dir_;
};

TEST_F(TimingCache, ChoicesComeBackForTheSameMachineOnly) {
  remember_choice("matmul [256,784]", {"onednn", "highway 2 ms, onednn 1 ms"});
  remember_choice("matmul [32,784]", {"highway", "highway 1 ms, onednn 2 ms"});
  const std::string file = dir_ / "sub/folder/timings.json";  // the folder is created
  save_timing_cache(file, "cpu A");
  forget_timed_choices();

  EXPECT_EQ(load_timing_cache(file, "cpu B"), 0u);  // timings of another machine do not hold here
  EXPECT_FALSE(cached_choice("matmul [256,784]"));
  EXPECT_EQ(load_timing_cache(file, "cpu A"), 2u);
  const std::optional<TimedChoice> c = cached_choice("matmul [256,784]");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backend, "onednn");
  EXPECT_EQ(c->report, "highway 2 ms, onednn 1 ms");
}

TEST_F(TimingCache, AChoiceOfThisProcessKeepsItsPlace) {
  remember_choice("k", {"onednn", "old"});
  const std::string file = dir_ / "t.json";
  save_timing_cache(file, "m");
  forget_timed_choices();
  remember_choice("k", {"highway", "new"});
  EXPECT_EQ(load_timing_cache(file, "m"), 1u);
  EXPECT_EQ(cached_choice("k")->backend, "highway");
}

TEST_F(TimingCache, SavingKeepsOtherMachinesEntries) {
  const std::string file = dir_ / "t.json";
  remember_choice("k1", {"onednn", "a"});
  save_timing_cache(file, "machine 1");
  forget_timed_choices();
  remember_choice("k2", {"highway", "b"});
  save_timing_cache(file, "machine 2");
  forget_timed_choices();
  EXPECT_EQ(load_timing_cache(file, "machine 1"), 1u);
  EXPECT_EQ(cached_choice("k1")->backend, "onednn");
  forget_timed_choices();
  EXPECT_EQ(load_timing_cache(file, "machine 2"), 1u);
  EXPECT_EQ(cached_choice("k2")->backend, "highway");
}

TEST_F(TimingCache, AMissingFileHoldsNothing) { EXPECT_EQ(load_timing_cache(dir_ / "none.json", "m"), 0u); }

TEST_F(TimingCache, AMalformedFileIsOneLineNamingTheFileAndPlace) {
  const std::string file = dir_ / "bad.json";
  write_text(file, "{\"format\": \"graphrun backend timings\", \"choices\": [");
  testing::expect_error([&] { load_timing_cache(file, "m"); }, ErrorKind::BadInput, {"bad.json", "invalid JSON"});
  write_text(file, R"({"format": "something else", "choices": []})");
  testing::expect_error([&] { load_timing_cache(file, "m"); }, ErrorKind::BadInput,
                        {"bad.json", "\"format\"", "graphrun backend timings"});
  write_text(file, R"({"format": "graphrun backend timings", "choices": {}})");
  testing::expect_error([&] { load_timing_cache(file, "m"); }, ErrorKind::BadInput, {"\"choices\"", "an array"});
  write_text(file, R"({"format": "graphrun backend timings", "choices": [{"machine": "m", "key": "k",)"
                   R"( "backend": 3, "timings": ""}]})");
  testing::expect_error([&] { load_timing_cache(file, "m"); }, ErrorKind::BadInput,
                        {"bad.json", "choices[0].backend", "a string"});
  EXPECT_FALSE(cached_choice("k"));  // nothing adopted from a malformed file

  remember_choice("k", {"highway", "x"});  // saving replaces it
  save_timing_cache(file, "m");
  forget_timed_choices();
  EXPECT_EQ(load_timing_cache(file, "m"), 1u);
}

TEST_F(TimingCache, DefaultPathFollowsTheEnvironment) {
  ScopedEnv home("HOME", "/home/u"), xdg("XDG_CACHE_HOME", "/xdg");
  {
    ScopedEnv dir("GRAPHRUN_CACHE_DIR", "/some/dir");
    EXPECT_EQ(default_timing_cache_path(), "/some/dir/backend-timings.json");
  }
  {
    ScopedEnv dir("GRAPHRUN_CACHE_DIR", "");
    EXPECT_EQ(default_timing_cache_path(), "");  // set empty: no cache
  }
  ScopedEnv dir("GRAPHRUN_CACHE_DIR", nullptr);
  EXPECT_EQ(default_timing_cache_path(), "/xdg/graphrun/backend-timings.json");
  ScopedEnv no_xdg("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(default_timing_cache_path(), "/home/u/.cache/graphrun/backend-timings.json");
}

}  // namespace
}  // namespace graphrun::io
