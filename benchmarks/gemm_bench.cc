// GEMM throughput: Highway (1 and 2 threads) against the scalar reference, on the shapes of an
// MLP training step (batch 32 and batch 1) and two larger ones. Inputs are seeded; each
// benchmark checks its result against the reference once before timing. Counter: GFLOP/s
// (2 M N K flops per call).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/kernels.h"
#include "core/thread_pool.h"

namespace graphrun {
namespace {

// C[M,N] = op(A) op(B); A is stored K x M when trans_a (lda = M, else K), B is stored N x K
// when trans_b (ldb = K, else N).
struct Problem {
  int64_t M, N, K;
  bool trans_a, trans_b;
  int64_t lda, ldb;
  std::vector<float> A, B, C;
  Problem(int64_t m, int64_t n, int64_t k, bool ta = false, bool tb = false)
      : M(m), N(n), K(k), trans_a(ta), trans_b(tb), lda(ta ? m : k), ldb(tb ? k : n) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    A.resize(static_cast<size_t>(M * K));
    B.resize(static_cast<size_t>(K * N));
    C.assign(static_cast<size_t>(M * N), 0.0f);
    for (float& v : A) v = dist(rng);
    for (float& v : B) v = dist(rng);
  }
};

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

void set_counters(benchmark::State& state, const Problem& p) {
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(p.M * p.N * p.K) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

// Checks p.C against the reference: every row when M is small, else 16 spread rows (the
// reference needs seconds for all of 1024^3). Tolerance as in tests/backends (|a|, |b| <= 1).
bool matches_reference(const Problem& p) {
  const int64_t step = p.M <= 64 ? 1 : p.M / 16;
  std::vector<float> want(static_cast<size_t>(p.N));
  for (int64_t i = 0; i < p.M; i += step) {
    const float* a_row = p.trans_a ? p.A.data() + i : p.A.data() + i * p.lda;
    reference::gemm<float>(p.trans_a, p.trans_b, 1, p.N, p.K, a_row, p.lda, p.B.data(), p.ldb,
                           want.data(), p.N, false);
    for (int64_t j = 0; j < p.N; ++j)
      if (!(std::abs(p.C[i * p.N + j] - want[j]) <= 1e-6 * static_cast<double>(p.K) + 1e-6))
        return false;
  }
  return true;
}

void run_highway(Problem& p, ThreadPool& pool) {
  highway::gemm(p.trans_a, p.trans_b, p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb,
                p.C.data(), p.N, false, pool);
}

// Args: M, N, K, threads, trans_a, trans_b.
void BM_GemmHighway(benchmark::State& state) {
  const bool ta = state.range(4) != 0, tb = state.range(5) != 0;
  Problem p(state.range(0), state.range(1), state.range(2), ta, tb);
  ThreadPool& pool = pool_of(static_cast<int>(state.range(3)));
  run_highway(p, pool);
  if (!matches_reference(p)) {
    state.SkipWithError("Highway GEMM disagrees with the reference");
    return;
  }
  for (auto _ : state) {
    run_highway(p, pool);
    benchmark::DoNotOptimize(p.C.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
  state.SetLabel(highway::target_name());
}

void BM_GemmReference(benchmark::State& state) {
  Problem p(state.range(0), state.range(1), state.range(2));
  for (auto _ : state) {
    reference::gemm<float>(false, false, p.M, p.N, p.K, p.A.data(), p.K, p.B.data(), p.N,
                           p.C.data(), p.N, false);
    benchmark::DoNotOptimize(p.C.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

// (M, N, K): the issue lists them as M x K x N (e.g. 32x784x400 is M=32, K=784, N=400).
const int64_t kShapes[][3] = {
    {32, 400, 784}, {32, 10, 400},  {32, 500, 784}, {32, 300, 500}, {32, 100, 300},
    {256, 500, 784}, {1, 400, 785}, {1, 10, 400},   {1024, 1024, 1024},
};

void register_all() {
  for (const auto& s : kShapes) {
    for (int threads : {1, 2}) {
      benchmark::RegisterBenchmark("gemm/highway", BM_GemmHighway)
          ->Args({s[0], s[1], s[2], threads, 0, 0})
          ->ArgNames({"M", "N", "K", "threads", "ta", "tb"})
          ->UseRealTime()  // the counter must divide by wall time, not the caller's CPU time
          ->Unit(benchmark::kMicrosecond);
    }
    // The reference needs tens of seconds for 1024^3 (strided, double accumulation): skipped.
    if (s[0] * s[1] * s[2] > 100'000'000) continue;
    benchmark::RegisterBenchmark("gemm/reference", BM_GemmReference)
        ->Args({s[0], s[1], s[2]})
        ->ArgNames({"M", "N", "K"})
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  }
  // The backward GEMMs of a 784 -> 500 dense layer at batch 32: dX = dY W^T (B transposed)
  // and dW = X^T dY (A transposed).
  const int64_t backward[][5] = {{32, 784, 500, 0, 1}, {784, 500, 32, 1, 0}};
  for (const auto& s : backward) {
    for (int threads : {1, 2}) {
      benchmark::RegisterBenchmark("gemm/highway_transposed", BM_GemmHighway)
          ->Args({s[0], s[1], s[2], threads, s[3], s[4]})
          ->ArgNames({"M", "N", "K", "threads", "ta", "tb"})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace graphrun
