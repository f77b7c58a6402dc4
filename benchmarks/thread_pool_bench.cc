// The thread pool's cost to start and join a job: ThreadPool::run of one empty task per thread
// on pools of 1..N threads (N: the CPUs this process may use), back to back as the kernels of
// a training step are, and of a job whose tasks each write one cache line (what a kernel's
// split costs beyond its work). The per-thread time is what core/partition.h's join cost
// (kJoinNs, kJoinPerThreadNs) is calibrated from (docs/performance.md, "Threads by cost").
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/cpu_info.h"
#include "core/thread_pool.h"

namespace graphrun {
namespace {

ThreadPool& pool_of(int threads) {
  static std::vector<std::unique_ptr<ThreadPool>> pools(65);
  if (!pools[static_cast<size_t>(threads)]) pools[static_cast<size_t>(threads)] = std::make_unique<ThreadPool>(threads);
  return *pools[static_cast<size_t>(threads)];
}

// One empty task per thread: the dispatch and the barrier alone.
void BM_Join(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool& pool = pool_of(threads);
  int64_t ran = 0;
  for (auto _ : state) {
    pool.run(threads, [&](int64_t t) {
      if (t == 0) ++ran;
    });
  }
  if (ran != static_cast<int64_t>(state.iterations())) state.SkipWithError("a job did not run task 0");
  state.counters["threads"] = threads;
}

// Each task writes its own cache line, which the next job's task on the same thread reads.
void BM_JoinTouchingALine(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool& pool = pool_of(threads);
  struct alignas(64) Line {
    int64_t v = 0;
  };
  std::vector<Line> lines(static_cast<size_t>(threads));
  for (auto _ : state) pool.run(threads, [&](int64_t t) { ++lines[static_cast<size_t>(t)].v; });
  int64_t total = 0;
  for (const Line& l : lines) total += l.v;
  if (total != static_cast<int64_t>(state.iterations()) * threads) state.SkipWithError("a task did not run");
}

void ThreadCounts(benchmark::internal::Benchmark* b) {
  const int cpus = std::min(64, usable_cpus());
  for (int t = 1; t <= cpus; t = t < 4 ? t + 1 : t * 2) b->Arg(t);
  if (cpus > 4 && (cpus & (cpus - 1)) != 0) b->Arg(cpus);
}

BENCHMARK(BM_Join)->Apply(ThreadCounts)->UseRealTime();
BENCHMARK(BM_JoinTouchingALine)->Apply(ThreadCounts)->UseRealTime();

}  // namespace
}  // namespace graphrun
