// GEMM throughput, Highway against oneDNN, side by side: each benchmark runs a one-node
// Program (op(a)[M,K] matmul op(b)[K,N]) compiled for one backend, so both pay the same
// per-step cost and oneDNN runs the primitive its backend prepared. Shapes: the MLP's layers at
// batch 1, 32, 256 and 1024, a large square one, and the wide network's layers with both
// gradients (dX = dZ W^T: "_tb", dW = X^T dZ: "_ta"); 1 and 2 threads. Inputs are seeded; each
// benchmark checks its result against the reference GEMM (16 spread rows) before timing.
// Counter: GFLOP/s (2 M N K flops per step), over wall time since the work runs on pool or
// OpenMP threads.
//
//   onednn_vs_highway_bench --benchmark_repetitions=3 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/kernels.h"
#include "backends/registry.h"
#include "core/program.h"
#include "ops/ops.h"

namespace graphrun {
namespace {

struct Shape3 {
  int64_t m, k, n;
  bool trans_a = false, trans_b = false;  // a stored K x M, b stored N x K
};
// The seed models' layers at M (batch) 1, 32, 256 and 1024, 1024^3, and the wide network's
// forward shapes (models/fashion_wide.json, batch 256).
constexpr Shape3 kShapes[] = {{1, 784, 500},      {1, 500, 300},    {1, 300, 100},     {32, 784, 500},
                              {32, 500, 300},     {32, 300, 100},   {256, 784, 500},   {256, 500, 300},
                              {256, 300, 100},    {1024, 784, 500}, {1024, 500, 300},  {1024, 300, 100},
                              {1024, 1024, 1024}, {256, 784, 4096}, {256, 4096, 4096}, {256, 4096, 10}};
constexpr int64_t kWideBatch = 256;

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

// Every 16th row (at least one) of the Program's result against the reference GEMM.
bool matches_reference(const Program& p, NodeId a, NodeId b, NodeId c, const Shape3& s) {
  const float *A = p.value(a).data, *B = p.value(b).data, *C = p.value(c).data;
  std::vector<float> want(static_cast<size_t>(s.n));
  for (int64_t i = 0; i < s.m; i += std::max<int64_t>(1, s.m / 16)) {
    reference::gemm<float>(s.trans_a, s.trans_b, 1, s.n, s.k, s.trans_a ? A + i : A + i * s.k, s.trans_a ? s.m : s.k, B,
                           s.trans_b ? s.k : s.n, want.data(), s.n, false);
    for (int64_t j = 0; j < s.n; ++j) {
      if (!(std::abs(C[i * s.n + j] - want[static_cast<size_t>(j)]) <= 1e-6 * static_cast<double>(s.k) + 1e-6))
        return false;
    }
  }
  return true;
}

void BM_Gemm(benchmark::State& state, std::string backend, Shape3 s, int threads) {
  Graph g;
  const NodeId a = g.input("a", s.trans_a ? Shape{s.k, s.m} : Shape{s.m, s.k});
  const NodeId b = g.input("b", s.trans_b ? Shape{s.n, s.k} : Shape{s.k, s.n});
  const NodeId c = ops::matmul(g, a, b, s.trans_a, s.trans_b);
  ParameterStore params = ParameterStore::initialize(g, 1);
  // Compiling on this thread also sets oneDNN's OpenMP thread count for it.
  CompileOptions opt{backends::chain(backend), {}, &pool_of(threads), {c}};
  auto p = Program::compile(g, params, 1, opt);
  if (p->schedule().size() != 1 || p->schedule()[0].backend != backend) {
    state.SkipWithError(("matmul did not run on " + backend + ": " + p->schedule()[0].declined).c_str());
    return;
  }
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (NodeId id : {a, b})
    for (float& f : p->value(id).span()) f = u(rng);
  p->run();
  if (!matches_reference(*p, a, b, c, s)) {
    state.SkipWithError("result differs from the reference GEMM");
    return;
  }
  for (auto _ : state) {
    p->run();
    benchmark::DoNotOptimize(p->value(c).data);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k) * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}

// gemm/M32_K784_N500/highway/threads:1, ... : the two backends of a shape next to each other.
const int kRegistered = [] {
  std::vector<Shape3> shapes(std::begin(kShapes), std::end(kShapes));
  // Each wide layer's gradients: dX = dZ W^T (M x N times N x K) and dW = X^T dZ (K x M times M x N).
  for (const Shape3& f : kShapes) {
    if (f.m != kWideBatch || std::max(f.k, f.n) < 4096) continue;
    shapes.push_back({f.m, f.n, f.k, false, true});
    shapes.push_back({f.k, f.m, f.n, true, false});
  }
  for (const Shape3& s : shapes) {
    for (int threads : {1, 2}) {
      for (const char* backend : {"highway", "onednn"}) {
        const std::string name = "gemm/M" + std::to_string(s.m) + "_K" + std::to_string(s.k) + "_N" +
                                 std::to_string(s.n) + (s.trans_a ? "_ta" : "") + (s.trans_b ? "_tb" : "") + "/" +
                                 backend + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, std::string(backend), s, threads)->UseRealTime();
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace graphrun
