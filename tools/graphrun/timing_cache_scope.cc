#include "tools/graphrun/timing_cache_scope.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "backends/highway/kernels.h"
#include "core/backend_timing.h"
#include "core/cpu_info.h"
#include "io/timing_cache.h"

#ifndef GRAPHRUN_VERSION
#define GRAPHRUN_VERSION "unknown"
#endif

namespace graphrun::tool {
namespace {

// What the timings hold for: another version, CPU or SIMD target times afresh.
std::string machine() {
  return fmt::format("graphrun {}; {}; highway {}", GRAPHRUN_VERSION, cpu_model(), highway::target_name());
}

}  // namespace

TimingCacheScope::TimingCacheScope() : path_(io::default_timing_cache_path()) {
  if (path_.empty()) return;
  try {
    loaded_ = io::load_timing_cache(path_, machine());
  } catch (const std::exception& e) {
    fmt::print(stderr, "graphrun: ignoring the timing cache: {} (it is rewritten after timing)\n", e.what());
  }
}

TimingCacheScope::~TimingCacheScope() {
  if (path_.empty() || timed_choices().size() == loaded_) return;
  try {
    io::save_timing_cache(path_, machine());
  } catch (const std::exception& e) {
    fmt::print(stderr, "graphrun: could not keep the backend timings: {}\n", e.what());
  }
}

}  // namespace graphrun::tool
