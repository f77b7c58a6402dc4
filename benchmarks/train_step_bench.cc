// One training step (Program::run + the optimizer step, what Trainer::train_epoch does per
// batch minus copying the batch in) of each seed model, and inference at batch 256, per
// backend and thread count. The models are built with train::build_sequential and trained
// through a train::Trainer, so the step is exactly the CLI's.
//
// The models and their seeded inputs are in seed_nets.h. Before timing, each benchmark checks the step's loss against
// the reference backend on the same batch and parameters. Counters: samples/s; GFLOP/s, the FLOPs of the scheduled
// nodes (ops::flops) plus 2 per trainable parameter for the SGD update, over wall time; arena_KiB, the Program's
// activation memory; maxrss_MiB, the process's peak resident set so far.
//
//   train_step_bench --benchmark_repetitions=5 --benchmark_min_time=0.2
//                    --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "benchmarks/seed_nets.h"
#include "core/plugin_host.h"
#include "core/program.h"
#include "ops/op_rules.h"
#include "train/model.h"
#include "train/trainer.h"

namespace graphrun {
namespace {

// The fastest repetition next to the mean and median (--benchmark_repetitions): on a busy
// machine the minimum is the figure to compare.
double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

using bench::fill_batch;
using bench::Net;
using bench::net_name;
using bench::spec_of;

double program_flops(const Program& p) {
  double f = 0;
  for (const ScheduledNode& s : p.schedule()) f += ops::flops(p.graph(), s.node, p.batch());
  return f;
}

double maxrss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

// The loss of one forward pass of the training graph on the reference backend.
float reference_loss(train::Model& m, ParameterStore& params, int64_t batch) {
  ThreadPool pool(1);
  auto p = Program::compile(m.graph, params, batch, CompileOptions{backends::chain("reference"), {}, &pool, {m.loss}});
  fill_batch(*p, m, batch);
  p->run();
  return p->value(m.loss).data[0];
}

// The model's FLOPs for one step, the same whether or not weight gradients were fused into
// the update (a fused gradient's multiplies happen inside the optimizer step).
double step_flops(const train::Model& m, const train::TrainingStep& step, int64_t batch) {
  double f = program_flops(*step.program);
  for (size_t i = 0; i < step.gradients.size(); ++i) {
    if (!step.gradients[i].data) f += ops::flops(m.graph, m.gradients[i], batch);
  }
  return f;
}

bool close(float got, float want) { return std::abs(got - want) <= 1e-4f * std::max(1.0f, std::abs(want)); }

void BM_TrainStep(benchmark::State& state, Net net, std::string backend, int64_t batch, int threads) {
  train::Model m = train::build_sequential(spec_of(net), PluginRegistry::global());
  ParameterStore params = ParameterStore::initialize(m.graph, 1);
  train::TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.backend = backend;
  cfg.threads = threads;
  cfg.learning_rate = 0.01;
  train::Trainer trainer(m, params, cfg, PluginRegistry::global());  // adds the gradients to m
  const float want = reference_loss(m, params, batch);
  train::TrainingStep& step = trainer.training_step(batch);
  Program& p = *step.program;
  fill_batch(p, m, batch);
  p.run();
  const float got = p.value(m.loss).data[0];
  if (!close(got, want)) {
    state.SkipWithError(
        ("loss " + std::to_string(got) + " differs from the reference's " + std::to_string(want)).c_str());
    return;
  }
  for (auto _ : state) {
    p.run();
    trainer.apply_gradients(step.gradients);
    benchmark::ClobberMemory();
  }
  if (!std::isfinite(p.value(m.loss).data[0])) state.SkipWithError("the loss diverged while timing");
  int64_t n_params = 0;
  for (NodeId id : m.trainable()) n_params += params.at(m.graph.node(id).name).numel();
  const double iters = static_cast<double>(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(iters * static_cast<double>(batch), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      (step_flops(m, step, batch) + 2.0 * static_cast<double>(n_params)) * iters * 1e-9, benchmark::Counter::kIsRate);
  state.counters["arena_KiB"] = static_cast<double>(p.arena_bytes()) / 1024.0;
  state.counters["maxrss_MiB"] = maxrss_mib();
}

void BM_Inference(benchmark::State& state, Net net, std::string backend, int64_t batch, int threads) {
  train::Model m = train::build_sequential(spec_of(net), PluginRegistry::global());
  ParameterStore params = ParameterStore::initialize(m.graph, 1);
  const float want = reference_loss(m, params, batch);
  ThreadPool pool(threads);
  // The loss too, to check the result; it costs 5 flops per logit.
  CompileOptions o{{}, {}, &pool, {m.output, m.loss}};
  backends::select(backend, o);
  auto p = Program::compile(m.graph, params, batch, o);
  fill_batch(*p, m, batch);
  p->run();
  const float got = p->value(m.loss).data[0];
  if (!close(got, want)) {
    state.SkipWithError(
        ("loss " + std::to_string(got) + " differs from the reference's " + std::to_string(want)).c_str());
    return;
  }
  for (auto _ : state) {
    p->run();
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["samples/s"] = benchmark::Counter(iters * static_cast<double>(batch), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(program_flops(*p) * iters * 1e-9, benchmark::Counter::kIsRate);
  state.counters["arena_KiB"] = static_cast<double>(p->arena_bytes()) / 1024.0;
  state.counters["maxrss_MiB"] = maxrss_mib();
}

// The built backends but the reference (the oracle each step is checked against, not a
// contender), and auto (each heavy node on the fastest of them) when there are two.
std::vector<std::string> contenders() {
  std::vector<std::string> out;
  for (const std::string& b : backends::names()) {
    if (b != "reference") out.push_back(b);
  }
  if (out.size() > 1) out.emplace_back(backends::kAuto);
  return out;
}

// train/sigmoid_784_400_10/batch:32/highway/threads:2, ...: the built backends side by side.
const int kRegistered = [] {
  for (Net net : {Net::Sigmoid, Net::Relu, Net::Wide}) {
    for (int64_t batch : {1, 32, 256}) {
      if (net == Net::Wide && batch != 256) continue;  // the wide network's workload is batch 256
      for (int threads : {1, 2}) {
        for (const std::string& backend : contenders()) {
          const std::string name = std::string("train/") + net_name(net) + "/batch:" + std::to_string(batch) + "/" +
                                   backend + "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_TrainStep, net, std::string(backend), batch, threads)
              ->UseRealTime()
              ->ComputeStatistics("min", min_of);
        }
      }
    }
    for (int threads : {1, 2}) {
      for (const std::string& backend : contenders()) {
        const std::string name =
            std::string("infer/") + net_name(net) + "/batch:256/" + backend + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_Inference, net, std::string(backend), int64_t{256}, threads)
            ->UseRealTime()
            ->ComputeStatistics("min", min_of);
      }
    }
  }
  return 0;
}();

}  // namespace
}  // namespace graphrun
