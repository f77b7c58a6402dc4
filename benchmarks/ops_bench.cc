// The non-GEMM kernels of a training step, each on its own:
//   act/<name>/{forward,backward}/n:<n>  every loaded activation plugin (PluginRegistry::global()),
//       run the way a Program runs it (core/activation_kernels.h: the host splits the range
//       over the pool), with its default parameters; n = 32 x 500 (a hidden layer at batch 32)
//       and 1M. Counters: elements/s and bytes/s (forward moves 8 bytes per element, backward 16).
//   softmax_ce/{forward,backward}/rows:<r>  the fused softmax-cross-entropy of the Highway
//       backend on [r, 10] logits with sparse labels. Counter: rows/s.
//   optimizer/<name>/n:1M  every loaded optimizer plugin's step kernel on one 1M-parameter tensor,
//       on one thread (the kernel itself; train::Optimizer splits it over the pool). Counter:
//       bytes/s, counting param and grad read, param written, each state slot read and written.
// Inputs are seeded; each benchmark checks its result against a double-precision reference
// (the plugin's own f64 kernel, the reference backend, or the update rule) before timing.
//
//   ops_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/kernels.h"
#include "core/activation_kernels.h"
#include "core/plugin_host.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace graphrun {
namespace {

// The fastest repetition next to the mean and median (--benchmark_repetitions): on a busy
// machine the minimum is the figure to compare.
double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2);
  return threads == 1 ? one : two;
}

std::vector<float> seeded(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = u(rng);
  return v;
}

std::vector<double> default_params(const graphrun_activation& fn) {
  std::vector<double> p;
  for (uint32_t i = 0; i < fn.n_params; ++i) p.push_back(fn.params[i].default_value);
  return p;
}

bool near(double got, double want) { return std::abs(got - want) <= 1e-4 * std::max(1.0, std::abs(want)); }

// The plugin's f32 result on 64 spread elements of one row against its own f64 kernel.
bool activation_matches(const graphrun_activation& fn, const double* params, const std::vector<float>& x,
                        const std::vector<float>& y, const std::vector<float>& dy, const std::vector<float>& dx,
                        int64_t cols, bool backward) {
  if (!fn.forward_f64 || !fn.backward_f64) return true;  // nothing to compare against
  const int64_t rows = static_cast<int64_t>(x.size()) / cols;
  for (int64_t r = 0; r < rows; r += std::max<int64_t>(1, rows / 4)) {
    std::vector<double> xd(x.begin() + r * cols, x.begin() + (r + 1) * cols), yd(static_cast<size_t>(cols));
    fn.forward_f64(xd.data(), yd.data(), 1, static_cast<size_t>(cols), params);
    std::vector<double> dyd(dy.begin() + r * cols, dy.begin() + (r + 1) * cols), dxd(static_cast<size_t>(cols));
    if (backward) fn.backward_f64(xd.data(), yd.data(), dyd.data(), dxd.data(), 1, static_cast<size_t>(cols), params);
    for (int64_t c = 0; c < cols; c += std::max<int64_t>(1, cols / 64)) {
      const size_t i = static_cast<size_t>(r * cols + c);
      if (!(backward ? near(dx[i], dxd[static_cast<size_t>(c)]) : near(y[i], yd[static_cast<size_t>(c)]))) return false;
    }
  }
  return true;
}

void BM_Activation(benchmark::State& state, const graphrun_activation* fn, int64_t n, bool backward, int threads) {
  // Row-wise activations (softmax) see rows of 10 classes; elementwise ones one flat range.
  const int64_t cols = fn->kind == GRAPHRUN_ACTIVATION_ROWWISE ? 10 : n, rows = n / cols;
  const std::vector<double> params = default_params(*fn);
  std::vector<float> x = seeded(n, -4.0f, 4.0f, 1), dy = seeded(n, -1.0f, 1.0f, 2);
  std::vector<float> y(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
  ThreadPool& pool = pool_of(threads);
  activation_forward(*fn, params.data(), x.data(), y.data(), rows, cols, pool);
  activation_backward(*fn, params.data(), x.data(), y.data(), dy.data(), dx.data(), rows, cols, pool);
  if (!activation_matches(*fn, params.data(), x, y, dy, dx, cols, backward)) {
    state.SkipWithError("differs from the plugin's f64 kernel");
    return;
  }
  for (auto _ : state) {
    if (backward) {
      activation_backward(*fn, params.data(), x.data(), y.data(), dy.data(), dx.data(), rows, cols, pool);
    } else {
      activation_forward(*fn, params.data(), x.data(), y.data(), rows, cols, pool);
    }
    benchmark::ClobberMemory();
  }
  const double elems = static_cast<double>(n) * static_cast<double>(state.iterations());
  state.counters["elements/s"] = benchmark::Counter(elems, benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(elems * (backward ? 16.0 : 8.0), benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
}

void BM_SoftmaxCrossEntropy(benchmark::State& state, int64_t rows, bool backward) {
  constexpr int64_t kCols = 10;
  std::vector<float> logits = seeded(rows * kCols, -5.0f, 5.0f, 3), labels(static_cast<size_t>(rows));
  std::mt19937 rng(4);
  for (float& l : labels) l = static_cast<float>(rng() % kCols);
  std::vector<float> d(static_cast<size_t>(rows * kCols)), want_d(d.size());
  ThreadPool& pool = pool_of(1);
  const float loss = highway::softmax_cross_entropy(logits.data(), labels.data(), true, rows, kCols, pool);
  const float want = reference::softmax_cross_entropy<float>(logits.data(), labels.data(), true, rows, kCols);
  highway::softmax_cross_entropy_backward(logits.data(), labels.data(), true, rows, kCols, 1.0f, d.data(), pool);
  reference::softmax_cross_entropy_backward<float>(logits.data(), labels.data(), true, rows, kCols, 1.0f,
                                                   want_d.data());
  bool ok = near(loss, want);
  for (size_t i = 0; i < d.size(); ++i) ok = ok && std::abs(d[i] - want_d[i]) <= 1e-6f;
  if (!ok) {
    state.SkipWithError("differs from the reference backend");
    return;
  }
  for (auto _ : state) {
    if (backward) {
      highway::softmax_cross_entropy_backward(logits.data(), labels.data(), true, rows, kCols, 1.0f, d.data(), pool);
    } else {
      benchmark::DoNotOptimize(highway::softmax_cross_entropy(logits.data(), labels.data(), true, rows, kCols, pool));
    }
    benchmark::ClobberMemory();
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows) * static_cast<double>(state.iterations()),
                                                benchmark::Counter::kIsRate);
}

void BM_OptimizerStep(benchmark::State& state, const graphrun_optimizer* opt) {
  constexpr int64_t kN = 1 << 20;
  std::vector<double> hyper;
  for (uint32_t i = 0; i < opt->n_hyper; ++i) hyper.push_back(opt->hyper[i].default_value);
  std::vector<float> param = seeded(kN, -1.0f, 1.0f, 5), grad = seeded(kN, -1.0f, 1.0f, 6);
  std::vector<std::vector<float>> slots(opt->n_state_slots, std::vector<float>(static_cast<size_t>(kN), 0.0f));
  std::vector<float*> slot_ptrs;
  for (auto& s : slots) slot_ptrs.push_back(s.data());
  const double lr = opt->default_lr;
  const float p0 = param[12345];
  uint64_t step = 1;
  opt->step(param.data(), grad.data(), slot_ptrs.data(), static_cast<size_t>(kN), step++, lr, hyper.data());
  // Every optimizer's first step moves a parameter against its gradient, by at most a few lr.
  const double moved = static_cast<double>(param[12345]) - p0;
  if (!(std::isfinite(param[12345]) && moved * grad[12345] < 0 && std::abs(moved) <= 10 * lr + 1e-6)) {
    state.SkipWithError("the first step did not move a parameter against its gradient");
    return;
  }
  if (std::string(opt->name) == "sgd" && hyper[0] == 0.0 &&
      param[777] != std::fma(static_cast<float>(-lr), grad[777], seeded(kN, -1.0f, 1.0f, 5)[777])) {
    state.SkipWithError("sgd: param != param - lr * grad");
    return;
  }
  for (auto _ : state) {
    opt->step(param.data(), grad.data(), slot_ptrs.data(), static_cast<size_t>(kN), step++, lr, hyper.data());
    benchmark::ClobberMemory();
  }
  const double bytes = (3.0 + 2.0 * opt->n_state_slots) * 4.0 * kN;
  state.counters["bytes/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
  state.counters["params/s"] = benchmark::Counter(static_cast<double>(kN) * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  const PluginRegistry& plugins = PluginRegistry::global();
  for (const LoadedActivation* a : plugins.activations()) {
    for (int64_t n : {int64_t{32 * 500}, int64_t{1} << 20}) {
      for (bool backward : {false, true}) {
        for (int threads : {1, 2}) {
          const std::string name = std::string("act/") + a->entry->name + (backward ? "/backward" : "/forward") +
                                   "/n:" + std::to_string(n) + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Activation, a->entry, n, backward, threads)
              ->UseRealTime()
              ->ComputeStatistics("min", min_of);
        }
      }
    }
  }
  for (int64_t rows : {1, 32, 256}) {
    for (bool backward : {false, true}) {
      const std::string name =
          std::string("softmax_ce/") + (backward ? "backward" : "forward") + "/rows:" + std::to_string(rows);
      benchmark::RegisterBenchmark(name.c_str(), BM_SoftmaxCrossEntropy, rows, backward)
          ->ComputeStatistics("min", min_of);
    }
  }
  for (const LoadedOptimizer* o : plugins.optimizers()) {
    const std::string name = std::string("optimizer/") + o->entry->name + "/n:1M";
    benchmark::RegisterBenchmark(name.c_str(), BM_OptimizerStep, o->entry)->ComputeStatistics("min", min_of);
  }
  return 0;
}();

}  // namespace
}  // namespace graphrun
