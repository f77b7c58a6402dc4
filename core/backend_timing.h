// Compile stage 4's timed choice (CompileOptions::choose_by_time, `--backend auto`): for a
// heavy node (a MatMul or a convolution) every candidate backend prepares a kernel, the
// kernels run in turn on the node's buffers, and the fastest is kept. The winner is cached
// for the process by what decides the speed (op, attributes, shapes, epilogue, threads,
// candidates), so the next Program with those shapes (another batch size's training step
// does not share them; the evaluation program's forward nodes do) binds without timing; the
// CLI keeps the cache in a file between runs (io/timing_cache.h).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/backend.h"

namespace graphrun {

// Whether the node's kernels are worth timing: the ops whose cost dominates a step and
// whose kernels write nothing but their output (and a fused epilogue's).
bool is_timed(const Node& node);

// What decides a kernel's speed, as a key for the cache.
std::string timing_key(const NodeContext& ctx, std::span<Backend* const> candidates, int threads);

struct TimedKernel {
  Backend* backend = nullptr;
  Kernel* kernel = nullptr;
  double seconds = 0;  // the fastest of its runs
};

// Runs each kernel once to warm it up, then in rounds (each kernel once per round, so that
// noise hits all alike) until at least 3 rounds and 20 ms, or 20 rounds; sets each seconds.
void time_kernels(std::span<TimedKernel> kernels);

// The index of the winner: the fastest, except that an earlier candidate keeps its place
// unless a later one is at least 3 % faster (measurement noise does not flip a choice).
size_t fastest(std::span<const TimedKernel> kernels);

// "highway 1.84 ms, onednn 2.10 ms": the figures behind a choice, for `graphrun inspect`.
std::string timing_report(std::span<const TimedKernel> kernels);

// The process-wide cache of choices: backend name and report.
struct TimedChoice {
  std::string backend;
  std::string report;
};
std::optional<TimedChoice> cached_choice(const std::string& key);
void remember_choice(const std::string& key, TimedChoice choice);
void forget_timed_choices();  // for tests

// The cache's entries, for a file that keeps them across runs (io/timing_cache.h), and choices
// read back from one: a choice made in this process keeps its place.
using TimedChoices = std::vector<std::pair<std::string, TimedChoice>>;
TimedChoices timed_choices();
void adopt_timed_choices(const TimedChoices& choices);

}  // namespace graphrun
