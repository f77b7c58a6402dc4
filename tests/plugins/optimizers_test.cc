// Built-in optimizer plugins against PyTorch: 20-step trajectories on a fixed quadratic,
// golden values from scripts/gen_optimizer_golden.py (torch.optim in float32; Lion from its
// paper in numpy), matched to 1e-6 relative.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/plugin_host.h"
#include "tests/support/plugin_registry.h"

namespace graphrun {
namespace {

constexpr double kRelTol = 1e-6;

const PluginRegistry& registry() { return testing::loaded_plugins(); }

nlohmann::json golden() {
  std::ifstream in(std::string(GRAPHRUN_SOURCE_DIR) + "/tests/plugins/golden/optimizers.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

// Runs `steps` updates of `opt` on the quadratic; returns x after every step.
std::vector<std::vector<float>> trajectory(const graphrun_optimizer& opt, double lr, const std::vector<double>& hyper,
                                           const std::vector<float>& a, const std::vector<float>& b,
                                           std::vector<float> x, int steps, size_t split = 0) {
  const size_t n = x.size();
  std::vector<std::vector<float>> slots(opt.n_state_slots, std::vector<float>(n, 0.0f));
  std::vector<float> grad(n);
  std::vector<std::vector<float>> out;
  for (int t = 1; t <= steps; ++t) {
    for (size_t i = 0; i < n; ++i) grad[i] = a[i] * (x[i] - b[i]);
    // The host may split a tensor into ranges: run [0, split) and [split, n) separately.
    const size_t cuts[] = {0, split, n};
    for (int part = 0; part < 2; ++part) {
      const size_t lo = cuts[part], hi = cuts[part + 1];
      if (lo == hi) continue;
      std::vector<float*> state;
      for (auto& s : slots) state.push_back(s.data() + lo);
      opt.step(x.data() + lo, grad.data() + lo, state.data(), hi - lo, static_cast<uint64_t>(t), lr, hyper.data());
    }
    out.push_back(x);
  }
  return out;
}

TEST(Optimizers, MatchPyTorchTrajectories) {
  const nlohmann::json g = golden();
  const auto a = g["a"].get<std::vector<float>>();
  const auto b = g["b"].get<std::vector<float>>();
  const auto x0 = g["x0"].get<std::vector<float>>();
  const int steps = g["steps"].get<int>();
  std::map<std::string, int> cases_per_optimizer;
  std::map<std::string, double> worst;
  for (const auto& c : g["cases"]) {
    const std::string name = c["optimizer"];
    const std::string label = name + " " + c["hyper"].dump() + " lr " + c["lr"].dump();
    const graphrun_optimizer& opt = *registry().optimizer(name).entry;
    std::vector<std::pair<std::string, double>> given;
    for (const auto& [k, v] : c["hyper"].items()) given.emplace_back(k, v.get<double>());
    const std::vector<double> hyper = resolve_params(opt.hyper, opt.n_hyper, given, label);
    const auto want = c["trajectory"].get<std::vector<std::vector<double>>>();
    ASSERT_EQ(want.size(), static_cast<size_t>(steps)) << label;
    for (size_t split : {size_t{0}, size_t{4}}) {
      const auto got = trajectory(opt, c["lr"].get<double>(), hyper, a, b, x0, steps, split);
      for (int t = 0; t < steps; ++t) {
        for (size_t i = 0; i < x0.size(); ++i) {
          const double w = want[t][i], v = got[t][i];
          const double rel = std::fabs(v - w) / std::max(std::fabs(w), 1e-3);
          worst[name] = std::max(worst[name], rel);
          EXPECT_LE(rel, kRelTol) << label << " step " << t + 1 << " x[" << i << "]: got " << v << ", PyTorch " << w;
        }
      }
    }
    ++cases_per_optimizer[name];
  }
  for (const char* name : {"sgd", "adam", "adamw", "rmsprop", "adagrad", "lion"}) {
    EXPECT_GE(cases_per_optimizer[name], 2) << name;
    std::printf("  %-8s worst relative error vs PyTorch: %.3g\n", name, worst[name]);
  }
}

TEST(Optimizers, DeclaredDefaultsAndSlots) {
  struct Want {
    const char* name;
    double lr;
    std::map<std::string, double> hyper;
    std::vector<std::string> slots;
  };
  const Want wants[] = {
      {"sgd", 0.01, {{"momentum", 0}, {"dampening", 0}, {"nesterov", 0}, {"weight_decay", 0}}, {"momentum_buffer"}},
      {"adam",
       1e-3,
       {{"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0}, {"amsgrad", 0}},
       {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}},
      {"adamw",
       1e-3,
       {{"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", 0.01}, {"amsgrad", 0}},
       {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}},
      {"rmsprop",
       0.01,
       {{"alpha", 0.99}, {"eps", 1e-8}, {"momentum", 0}, {"centered", 0}, {"weight_decay", 0}},
       {"square_avg", "grad_avg", "momentum_buffer"}},
      {"adagrad",
       0.01,
       {{"lr_decay", 0}, {"weight_decay", 0}, {"initial_accumulator_value", 0}, {"eps", 1e-10}},
       {"sum"}},
      {"lion", 1e-4, {{"beta1", 0.9}, {"beta2", 0.99}, {"weight_decay", 0}}, {"exp_avg"}},
  };
  for (const Want& w : wants) {
    const graphrun_optimizer& o = *registry().optimizer(w.name).entry;
    EXPECT_EQ(o.default_lr, w.lr) << w.name;
    std::map<std::string, double> hyper;
    for (uint32_t i = 0; i < o.n_hyper; ++i) hyper[o.hyper[i].name] = o.hyper[i].default_value;
    EXPECT_EQ(hyper, w.hyper) << w.name;
    std::vector<std::string> slots(o.state_slot_names, o.state_slot_names + o.n_state_slots);
    EXPECT_EQ(slots, w.slots) << w.name;
  }
}

// step_outer (the batch-1 weight gradient a b^T folded into the update) must give exactly the
// floats step() gives on the stored gradient fl(a[r] * b[c]), whatever column block the host
// hands it. Every setting of sgd's hyperparameters, 5 steps, a 7 x 45 matrix split at column 32
// (the host's column grain) and an odd inner block.
TEST(Optimizers, OuterProductStepEqualsStoredGradientStep) {
  const LoadedOptimizer& loaded = registry().optimizer("sgd");
  ASSERT_NE(loaded.step_outer, nullptr) << "sgd should fold outer products into its step";
  const graphrun_optimizer& opt = *loaded.entry;
  const size_t rows = 7, cols = 45;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w0(rows * cols);
  for (float& v : w0) v = u(rng);
  const std::vector<std::vector<std::pair<std::string, double>>> settings = {
      {},
      {{"momentum", 0.9}},
      {{"momentum", 0.9}, {"nesterov", 1}},
      {{"momentum", 0.5}, {"dampening", 0.3}},
      {{"weight_decay", 0.01}},
      {{"momentum", 0.9}, {"weight_decay", 0.05}, {"nesterov", 1}}};
  const std::vector<std::pair<size_t, size_t>> blocks = {{0, 32}, {32, 45}};
  const std::vector<std::pair<size_t, size_t>> odd_blocks = {{0, 3}, {3, 40}, {40, 45}};
  for (const auto& given : settings) {
    const std::vector<double> hyper = resolve_params(opt.hyper, opt.n_hyper, given, "sgd");
    for (const auto* split : {&blocks, &odd_blocks}) {
      std::vector<float> stored = w0, fused = w0, buf_stored(rows * cols, 0.0f), buf_fused(rows * cols, 0.0f);
      for (uint64_t t = 1; t <= 5; ++t) {
        std::vector<float> a(rows), b(cols), grad(rows * cols);
        for (float& v : a) v = u(rng);
        for (float& v : b) v = u(rng);
        for (size_t r = 0; r < rows; ++r)
          for (size_t c = 0; c < cols; ++c) grad[r * cols + c] = a[r] * b[c];
        float* s1[] = {buf_stored.data()};
        opt.step(stored.data(), grad.data(), s1, rows * cols, t, 0.1, hyper.data());
        for (const auto& [c0, c1] : *split) {
          float* s2[] = {buf_fused.data() + c0};
          loaded.step_outer(fused.data() + c0, s2, cols, a.data(), rows, b.data() + c0, c1 - c0, t, 0.1, hyper.data());
        }
      }
      for (size_t i = 0; i < rows * cols; ++i) {
        ASSERT_EQ(fused[i], stored[i]) << "element " << i << " with " << given.size() << " hyperparameters set";
        ASSERT_EQ(buf_fused[i], buf_stored[i]) << "momentum buffer element " << i;
      }
      EXPECT_NE(fused, w0);
    }
  }
}

}  // namespace
}  // namespace graphrun
