// conv2d throughput, Highway against oneDNN, side by side, on the Fashion-MNIST CNN's two
// convolutions (28x28x1 -> 32 filters 3x3 "same"; after a 2x2 pool, 14x14x32 -> 64 filters
// 3x3 "same") at batch 32 and 256, forward, input gradient and weight gradient, 1 and 2
// threads. Each benchmark runs a one-node Program compiled for one backend (oneDNN runs the
// primitive its backend prepared), with seeded inputs, after checking its result against the
// reference kernel. Counters: GFLOP/s (2 x multiply-adds per step, over wall time) and
// peak_pct, the share of this machine's FMA peak (~210 GFLOP/s per core with AVX-512;
// GRAPHRUN_PEAK_GFLOPS_PER_CORE overrides it).
//
//   conv_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/conv_kernels.h"
#include "backends/registry.h"
#include "core/program.h"
#include "ops/conv.h"

namespace graphrun {
namespace {

struct ConvShape {
  const char* name;
  int64_t channels, size, filters;  // x [N, channels, size, size], w [filters, channels, 3, 3]
};
constexpr ConvShape kShapes[] = {{"conv1", 1, 28, 32}, {"conv2", 32, 14, 64}};
enum class Pass { Forward, GradInput, GradWeight };
const char* pass_name(Pass p) { return p == Pass::Forward ? "fwd" : p == Pass::GradInput ? "bwd_data" : "bwd_weights"; }

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

double peak_per_core() {
  const char* env = std::getenv("GRAPHRUN_PEAK_GFLOPS_PER_CORE");
  return env ? std::atof(env) : 210.0;
}

Node::Window same3(int64_t size) {
  Node::Window w;
  w.kernel[0] = w.kernel[1] = 3;
  return ops::same_padding(size, size, w);
}

// The reference result of a pass (cached: the inputs are seeded, the same for every backend).
const std::vector<float>& reference_result(const ConvShape& s, int64_t batch, Pass pass, const std::vector<float>& a,
                                           const std::vector<float>& b, int64_t out_size) {
  static std::map<std::string, std::vector<float>> cache;
  const std::string key = std::string(s.name) + pass_name(pass) + std::to_string(batch);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const ops::WindowGeometry g = ops::window_geometry(Shape{batch, s.channels, s.size, s.size},
                                                     Shape{batch, s.filters, s.size, s.size}, same3(s.size));
  std::vector<float> out(static_cast<size_t>(out_size));
  if (pass == Pass::Forward) reference::conv2d(g, a.data(), b.data(), out.data());
  if (pass == Pass::GradInput) reference::conv2d_backward_input(g, a.data(), b.data(), out.data());
  if (pass == Pass::GradWeight) reference::conv2d_backward_weight(g, a.data(), b.data(), out.data());
  return cache[key] = std::move(out);
}

void BM_Conv(benchmark::State& state, std::string backend, ConvShape s, Pass pass, int64_t batch, int threads) {
  const Shape xs{batch, s.channels, s.size, s.size}, ws{s.filters, s.channels, 3, 3}, ys{batch, s.filters, s.size, s.size};
  const Node::Window win = same3(s.size);
  Graph g;
  NodeId a, b, out;
  if (pass == Pass::Forward) {
    a = g.input("x", xs), b = g.input("w", ws);
    out = ops::conv2d(g, a, b, win);
  } else if (pass == Pass::GradInput) {
    a = g.input("dy", ys), b = g.input("w", ws);
    out = ops::conv2d_grad_input(g, a, b, xs, win);
  } else {
    a = g.input("x", xs), b = g.input("dy", ys);
    out = ops::conv2d_grad_weight(g, a, b, ws, win);
  }
  ParameterStore params = ParameterStore::initialize(g, 1);
  auto p = Program::compile(g, params, batch, CompileOptions{backends::chain(backend), {}, &pool_of(threads), {out}});
  if (p->schedule().back().backend != backend) {
    state.SkipWithError(("the conv did not run on " + backend + ": " + p->schedule().back().declined).c_str());
    return;
  }
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (NodeId id : {a, b})
    for (float& f : p->value(id).span()) f = u(rng);
  p->run();
  const auto span_of = [&](NodeId id) { return std::vector<float>(p->value(id).span().begin(), p->value(id).span().end()); };
  const std::vector<float>& want = reference_result(s, batch, pass, span_of(a), span_of(b), p->value(out).numel());
  const float* got = p->value(out).data;
  const double depth = pass == Pass::GradWeight ? static_cast<double>(batch * s.size * s.size) : 9.0 * s.channels * s.filters;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= 1e-6 * depth + 1e-5)) {
      state.SkipWithError("result differs from the reference kernel");
      return;
    }
  }
  for (auto _ : state) {
    p->run();
    benchmark::DoNotOptimize(p->value(out).data);
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(batch * s.filters * s.size * s.size * s.channels * 9);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["peak_pct"] = benchmark::Counter(
      100.0 * flops * static_cast<double>(state.iterations()) * 1e-9 / (peak_per_core() * threads),
      benchmark::Counter::kIsRate);
}

int register_all() {
  for (const ConvShape& s : kShapes)
    for (Pass pass : {Pass::Forward, Pass::GradInput, Pass::GradWeight})
      for (int64_t batch : {32, 256})
        for (int threads : {1, 2})
          for (const char* backend : {"highway", "onednn"}) {
            if (s.channels == 1 && pass == Pass::GradInput) continue;  // the image needs no gradient
            const std::string name = std::string("BM_Conv/") + s.name + "/" + pass_name(pass) + "/batch:" +
                                     std::to_string(batch) + "/threads:" + std::to_string(threads) + "/" + backend;
            benchmark::RegisterBenchmark(name.c_str(), BM_Conv, backend, s, pass, batch, threads)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
          }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace graphrun
