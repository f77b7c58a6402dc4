// GEMM throughput: Highway (1 and 2 threads) against the scalar reference, on the shapes of an
// MLP training step (batch 32 and batch 1) and two larger ones. Inputs are seeded; each
// benchmark checks its result against the reference once before timing. Counter: GFLOP/s
// (2 M N K flops per call).
#include <benchmark/benchmark.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/kernels.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace graphrun {
namespace {

// C[M,N] = op(A) op(B); A is stored K x M when trans_a (lda = M, else K), B is stored N x K
// when trans_b (ldb = K, else N).
struct Problem {
  int64_t M, N, K;
  bool trans_a, trans_b;
  int64_t lda, ldb;
  // Tensors, as the framework allocates them: a large one on huge pages where the kernel
  // grants them (core/tensor.cc), which a wide layer's B (64 MiB) needs to stream fast.
  Tensor A, B, C;
  Problem(int64_t m, int64_t n, int64_t k, bool ta = false, bool tb = false)
      : M(m), N(n), K(k), trans_a(ta), trans_b(tb), lda(ta ? m : k), ldb(tb ? k : n) {
    A = Tensor(Shape{M, K});
    B = Tensor(Shape{K, N});
    C = Tensor(Shape{M, N});
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : A.span()) v = dist(rng);
    for (float& v : B.span()) v = dist(rng);
  }
};

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

void set_counters(benchmark::State& state, const Problem& p) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(p.M * p.N * p.K) * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

// Checks p.C against the reference: every row when M is small, else 16 spread rows (the
// reference needs seconds for all of 1024^3). Tolerance as in tests/backends (|a|, |b| <= 1).
bool matches_reference(const Problem& p) {
  const int64_t step = p.M <= 64 ? 1 : p.M / 16;
  std::vector<float> want(static_cast<size_t>(p.N));
  for (int64_t i = 0; i < p.M; i += step) {
    const float* a_row = p.trans_a ? p.A.data() + i : p.A.data() + i * p.lda;
    reference::gemm<float>(p.trans_a, p.trans_b, 1, p.N, p.K, a_row, p.lda, p.B.data(), p.ldb, want.data(), p.N, false);
    for (int64_t j = 0; j < p.N; ++j)
      if (!(std::abs(p.C[i * p.N + j] - want[j]) <= 1e-6 * static_cast<double>(p.K) + 1e-6)) return false;
  }
  return true;
}

void run_highway(Problem& p, ThreadPool& pool) {
  highway::gemm(p.trans_a, p.trans_b, p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, p.C.data(), p.N, false,
                pool);
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
    reference::gemm<float>(false, false, p.M, p.N, p.K, p.A.data(), p.K, p.B.data(), p.N, p.C.data(), p.N, false);
    benchmark::DoNotOptimize(p.C.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

// (M, N, K): the issue lists them as M x K x N (e.g. 32x784x400 is M=32, K=784, N=400).
const int64_t kShapes[][3] = {
    {32, 400, 784},  {32, 10, 400}, {32, 500, 784}, {32, 300, 500},     {32, 100, 300},
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
  // and dW = X^T dY (A transposed); the wide network's (batch 256) forward, dX and dW.
  const int64_t backward[][5] = {{32, 784, 500, 0, 1},    {784, 500, 32, 1, 0},    {256, 4096, 784, 0, 0},
                                 {256, 784, 4096, 0, 1},  {784, 4096, 256, 1, 0},  {256, 4096, 4096, 0, 0},
                                 {256, 4096, 4096, 0, 1}, {4096, 4096, 256, 1, 0}, {256, 10, 4096, 0, 0},
                                 {256, 4096, 10, 0, 1},   {4096, 10, 256, 1, 0}};
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

// The FMA-loop peak of this run, the denominator of "% of peak": 12 independent accumulators
// of the widest vectors (AVX-512, else AVX2), 2 flops per lane per FMA, on `threads` threads.
#if defined(__x86_64__)
// 12 independent FMA chains (more than latency x throughput: 4 x 2 on Zen 5), unrolled by hand.
#define GRAPHRUN_FMA12(fma, acc, a, b)                                                                            \
  acc##0 = fma(acc##0, a, b), acc##1 = fma(acc##1, a, b), acc##2 = fma(acc##2, a, b), acc##3 = fma(acc##3, a, b), \
  acc##4 = fma(acc##4, a, b), acc##5 = fma(acc##5, a, b), acc##6 = fma(acc##6, a, b), acc##7 = fma(acc##7, a, b), \
  acc##8 = fma(acc##8, a, b), acc##9 = fma(acc##9, a, b), acc##10 = fma(acc##10, a, b), acc##11 = fma(acc##11, a, b)
__attribute__((target("avx512f"))) float fma_avx512(int64_t n) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  // Distinct starting values, so the compiler cannot merge the chains.
  __m512 c0 = _mm512_set1_ps(0), c1 = _mm512_set1_ps(1), c2 = _mm512_set1_ps(2), c3 = _mm512_set1_ps(3),
         c4 = _mm512_set1_ps(4), c5 = _mm512_set1_ps(5), c6 = _mm512_set1_ps(6), c7 = _mm512_set1_ps(7),
         c8 = _mm512_set1_ps(8), c9 = _mm512_set1_ps(9), c10 = _mm512_set1_ps(10), c11 = _mm512_set1_ps(11);
  for (int64_t i = 0; i < n; ++i) GRAPHRUN_FMA12(_mm512_fmadd_ps, c, a, b);
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                 _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)),
                                               _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0];
}
__attribute__((target("avx2,fma"))) float fma_avx2(int64_t n) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  // Distinct starting values, so the compiler cannot merge the chains.
  __m256 c0 = _mm256_set1_ps(0), c1 = _mm256_set1_ps(1), c2 = _mm256_set1_ps(2), c3 = _mm256_set1_ps(3),
         c4 = _mm256_set1_ps(4), c5 = _mm256_set1_ps(5), c6 = _mm256_set1_ps(6), c7 = _mm256_set1_ps(7),
         c8 = _mm256_set1_ps(8), c9 = _mm256_set1_ps(9), c10 = _mm256_set1_ps(10), c11 = _mm256_set1_ps(11);
  for (int64_t i = 0; i < n; ++i) GRAPHRUN_FMA12(_mm256_fmadd_ps, c, a, b);
  const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                                 _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)),
                                               _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11))));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}
#undef GRAPHRUN_FMA12

void BM_FmaPeak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  ThreadPool& pool = pool_of(threads);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  constexpr int64_t kIters = 1 << 16;
  std::vector<float> sink(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool.run(threads,
             [&](int64_t t) { sink[static_cast<size_t>(t)] = avx512 ? fma_avx512(kIters) : fma_avx2(kIters); });
    benchmark::DoNotOptimize(sink.data());
  }
  const double flops_per_call = 2.0 * 12 * (avx512 ? 16 : 8) * kIters * threads;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_call * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.SetLabel(avx512 ? "avx512" : "avx2");
}
BENCHMARK(BM_FmaPeak)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime();
#endif

const bool registered = (register_all(), true);

}  // namespace
}  // namespace graphrun
