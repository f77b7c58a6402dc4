// Per-node profile of one training step of a seed model (Program::run_timed) plus the optimizer
// step, averaged over many steps: where a step's time goes.
//
//   step_profile [sigmoid|relu] [batch] [threads] [backend] [steps]
//   step_profile sigmoid 1 1 highway 5000
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmarks/seed_nets.h"
#include "core/plugin_host.h"
#include "core/program.h"
#include "train/model.h"
#include "train/trainer.h"

using namespace graphrun;

int main(int argc, char** argv) {
  const std::string net = argc > 1 ? argv[1] : "sigmoid";
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 1;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  const std::string backend = argc > 4 ? argv[4] : "highway";
  const int steps = argc > 5 ? std::atoi(argv[5]) : 5000;
  const train::SequentialSpec spec = bench::spec_of(net == "sigmoid" ? bench::Net::Sigmoid : bench::Net::Relu);
  train::Model m = train::build_sequential(spec, PluginRegistry::global());
  ParameterStore params = ParameterStore::initialize(m.graph, 1);
  train::TrainConfig cfg;
  cfg.batch_size = batch;
  cfg.backend = backend;
  cfg.threads = threads;
  train::Trainer trainer(m, params, cfg, PluginRegistry::global());
  train::TrainingStep& step = trainer.training_step(batch);
  Program& p = *step.program;
  bench::fill_batch(p, m, batch);
  std::vector<double> node_s(p.schedule().size(), 0.0);
  double opt_s = 0;
  for (int i = 0; i < steps / 10; ++i) {  // warm-up
    p.run();
    trainer.apply_gradients(step.gradients);
  }
  std::fill(node_s.begin(), node_s.end(), 0.0);
  for (int i = 0; i < steps; ++i) {
    p.run_timed(node_s);
    const auto t0 = std::chrono::steady_clock::now();
    trainer.apply_gradients(step.gradients);
    opt_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double total = opt_s;
  for (double s : node_s) total += s;
  std::printf("%s batch %lld, %d threads, %s: %.1f us per step\n", net.c_str(), static_cast<long long>(batch), threads,
              backend.c_str(), total / steps * 1e6);
  for (size_t i = 0; i < node_s.size(); ++i) {
    const Node& n = p.graph().node(p.schedule()[i].node);
    std::printf("  %8.2f us %5.1f %%  %-10s %s\n", node_s[i] / steps * 1e6, 100 * node_s[i] / total, op_name(n.op),
                n.name.c_str());
  }
  std::printf("  %8.2f us %5.1f %%  optimizer  %s over all parameters%s\n", opt_s / steps * 1e6, 100 * opt_s / total,
              trainer.optimizer().name(), step.fused ? ", making the fused weight gradients" : "");
}
