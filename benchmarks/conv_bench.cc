// conv2d throughput, Highway against oneDNN (when built) side by side, on the Fashion-MNIST
// CNN's two convolutions (28x28x1 -> 32 filters 3x3 "same"; after a 2x2 pool, 14x14x32 -> 64 filters
// 3x3 "same") at batch 32 and 256, forward, input gradient and weight gradient, 1 and 2
// threads. Each benchmark runs a one-node Program compiled for one backend (oneDNN runs the
// primitive its backend prepared), with seeded inputs, after checking its result against the
// reference kernel. Counters: GFLOP/s (2 x multiply-adds per step, over wall time) and
// peak_pct, the share of this machine's FMA peak (~210 GFLOP/s per core with AVX-512;
// GRAPHRUN_PEAK_GFLOPS_PER_CORE overrides it).
//
//   conv_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/conv_kernels.h"
#include "backends/registry.h"
#include "core/plugin_host.h"
#include "core/program.h"
#include "ops/autodiff.h"
#include "ops/conv.h"
#include "ops/ops.h"

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
  const Shape xs{batch, s.channels, s.size, s.size}, ws{s.filters, s.channels, 3, 3},
      ys{batch, s.filters, s.size, s.size};
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
  const auto span_of = [&](NodeId id) {
    return std::vector<float>(p->value(id).span().begin(), p->value(id).span().end());
  };
  const std::vector<float>& want = reference_result(s, batch, pass, span_of(a), span_of(b), p->value(out).numel());
  const float* got = p->value(out).data;
  const double depth =
      pass == Pass::GradWeight ? static_cast<double>(batch * s.size * s.size) : 9.0 * s.channels * s.filters;
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
  state.counters["peak_pct"] =
      benchmark::Counter(100.0 * flops * static_cast<double>(state.iterations()) * 1e-9 / (peak_per_core() * threads),
                         benchmark::Counter::kIsRate);
}

// The layout experiment (docs/design.md, "Convolutions"): one thread, the whole batch, im2col
// + GEMM in each layout. NCHW is the Highway kernel itself (per sample: W [O, C*9] x
// col [C*9, H*W]); NHWC builds col [H*W, 9*C] (each kernel tap copies C contiguous channels of
// a pixel) and multiplies by W^T [9*C, O] into the sample's [H*W, O] output. Same GEMM code.
void im2col_nhwc(const float* x, int64_t c, int64_t size, float* col) {
  for (int64_t oh = 0; oh < size; ++oh)
    for (int64_t ow = 0; ow < size; ++ow)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          float* dst = col + ((oh * size + ow) * 9 + i * 3 + j) * c;
          const int64_t ih = oh + i - 1, iw = ow + j - 1;
          if (ih < 0 || ih >= size || iw < 0 || iw >= size) {
            std::fill(dst, dst + c, 0.0f);
          } else {
            std::copy(x + (ih * size + iw) * c, x + (ih * size + iw + 1) * c, dst);
          }
        }
}

void BM_Layout(benchmark::State& state, ConvShape s, int64_t batch, bool nhwc) {
  const ops::WindowGeometry g = ops::window_geometry(Shape{batch, s.channels, s.size, s.size},
                                                     Shape{batch, s.filters, s.size, s.size}, same3(s.size));
  const int64_t plane = s.size * s.size, k = 9 * s.channels;
  std::vector<float> x(static_cast<size_t>(batch * s.channels * plane)), w(static_cast<size_t>(s.filters * k));
  std::vector<float> y(static_cast<size_t>(batch * s.filters * plane)), col(static_cast<size_t>(plane * k));
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& f : x) f = u(rng);
  for (float& f : w) f = u(rng);
  highway::reserve_conv_scratch(g);
  highway::prepare_conv_thread();
  for (auto _ : state) {
    if (nhwc) {
      for (int64_t n = 0; n < batch; ++n) {
        im2col_nhwc(x.data() + n * s.channels * plane, s.channels, s.size, col.data());
        highway::gemm_serial(false, true, plane, s.filters, k, col.data(), k, w.data(), k,
                             y.data() + n * s.filters * plane, s.filters, false);
      }
    } else {
      highway::conv2d(g, x.data(), w.data(), y.data(), pool_of(1));
    }
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(batch * s.filters * plane * k) * static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate);
}

// The Fashion-MNIST CNN of issue 17 (conv 32 3x3 same, relu, max pool 2; conv 64 3x3 same,
// relu, max pool 2; dense 128 relu; dense 10; softmax cross-entropy; no dropout), one training
// step (forward, loss, every gradient; the optimizer step excluded) or inference (forward to
// the logits). Counters: ms per step, and epoch_s = 60000 / batch steps (Fashion-MNIST's
// training set) of this step.
struct CnnGraph {
  Graph g;
  NodeId x, labels, logits, loss;
  std::vector<NodeId> grads;
  CnnGraph() {
    const graphrun_activation* relu = PluginRegistry::global().activation("relu").entry;
    x = g.input("x", {Shape::kBatch, 1, 28, 28});
    labels = g.input("labels", {Shape::kBatch});
    Node::Window pool;
    pool.kernel[0] = pool.kernel[1] = pool.stride[0] = pool.stride[1] = 2;
    std::vector<NodeId> params;
    auto conv = [&](NodeId in, int64_t c, int64_t o, int64_t size, const char* name) {
      NodeId w = g.parameter(std::string(name) + ".weight", {o, c, 3, 3}, Initializer::uniform(-0.1, 0.1));
      NodeId b = g.parameter(std::string(name) + ".bias", {o}, Initializer::zeros());
      params.insert(params.end(), {w, b});
      NodeId y = ops::add_channels(g, ops::conv2d(g, in, w, same3(size)), b);
      return ops::max_pool2d(g, ops::activation(g, y, relu, {}), pool);
    };
    auto dense = [&](NodeId in, int64_t k, int64_t n, const char* name) {
      NodeId w = g.parameter(std::string(name) + ".w", {k, n}, Initializer::glorot_uniform());
      NodeId b = g.parameter(std::string(name) + ".b", {n}, Initializer::zeros());
      params.insert(params.end(), {w, b});
      return ops::add(g, ops::matmul(g, in, w), b);
    };
    NodeId h = conv(conv(x, 1, 32, 28, "conv1"), 32, 64, 14, "conv2");
    h = ops::activation(g, dense(ops::flatten(g, h), 64 * 7 * 7, 128, "dense1"), relu, {});
    logits = dense(h, 128, 10, "dense2");
    loss = ops::softmax_cross_entropy(g, logits, labels, true);
    grads = ops::gradients(g, loss, params);
  }
};

void BM_CnnStep(benchmark::State& state, std::string backend, int64_t batch, int threads, bool training) {
  static CnnGraph net;
  static ParameterStore params = ParameterStore::initialize(net.g, 1);
  std::vector<NodeId> outputs{training ? net.loss : net.logits};
  if (training) outputs.insert(outputs.end(), net.grads.begin(), net.grads.end());
  auto p =
      Program::compile(net.g, params, batch, CompileOptions{backends::chain(backend), {}, &pool_of(threads), outputs});
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& f : p->value(net.x).span()) f = u(rng);
  if (training)
    for (float& f : p->value(net.labels).span()) f = static_cast<float>(rng() % 10);
  p->run();
  if (training &&
      !(std::isfinite(p->value(net.loss).data[0]) && std::abs(p->value(net.loss).data[0] - std::log(10.0f)) < 0.5f)) {
    state.SkipWithError("the initial loss is not near log(10)");
    return;
  }
  for (auto _ : state) {
    p->run();
    benchmark::ClobberMemory();
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(batch * state.iterations()), benchmark::Counter::kIsRate);
  // time / (iterations x batch / 60000) = the time of one step x the steps of an epoch.
  state.counters["epoch_s"] = benchmark::Counter(static_cast<double>(state.iterations() * batch) / 60000.0,
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

int register_all() {
  for (const ConvShape& s : kShapes)
    for (int64_t batch : {32, 256})
      for (bool nhwc : {false, true}) {
        const std::string name =
            std::string("BM_Layout/") + s.name + "/batch:" + std::to_string(batch) + (nhwc ? "/nhwc" : "/nchw");
        benchmark::RegisterBenchmark(name.c_str(), BM_Layout, s, batch, nhwc)->Unit(benchmark::kMicrosecond);
      }
  for (const std::string& backend : backends::names())
    for (int threads : {1, 2}) {
      if (backend == "reference") continue;  // the oracle results are checked against, not a contender
      const std::string suffix = "/threads:" + std::to_string(threads) + "/" + backend;
      benchmark::RegisterBenchmark(("BM_CnnStep/train/batch:32" + suffix).c_str(), BM_CnnStep, backend, 32, threads,
                                   true)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(("BM_CnnStep/infer/batch:256" + suffix).c_str(), BM_CnnStep, backend, 256, threads,
                                   false)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  for (const ConvShape& s : kShapes)
    for (Pass pass : {Pass::Forward, Pass::GradInput, Pass::GradWeight})
      for (int64_t batch : {32, 256})
        for (int threads : {1, 2})
          for (const std::string& backend : backends::names()) {
            if (backend == "reference") continue;
            if (s.channels == 1 && pass == Pass::GradInput) continue;  // the image needs no gradient
            const std::string name = std::string("BM_Conv/") + s.name + "/" + pass_name(pass) +
                                     "/batch:" + std::to_string(batch) + "/threads:" + std::to_string(threads) + "/" +
                                     backend;
            benchmark::RegisterBenchmark(name.c_str(), BM_Conv, backend, s, pass, batch, threads)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
          }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace graphrun
