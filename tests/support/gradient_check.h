// Central finite differences in double against the autodiff graph, evaluated by the f64
// reference interpreter.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/evaluate.h"
#include "ops/autodiff.h"
#include "ops/ops.h"

namespace graphrun::testing {

inline reference::DoubleTensor random_tensor(const Shape& s, std::mt19937_64& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> d(lo, hi);
  reference::DoubleTensor t{s, std::vector<double>(static_cast<size_t>(s.numel()))};
  for (double& v : t.values) v = d(rng);
  return t;
}

// Checks d loss / d w for every named input or parameter in wrt. `out` may be any shape: when
// it is not a scalar, the loss is sum(out * r) with r a random input, so every output element
// gets a different upstream gradient. values must hold every input and parameter. training:
// the mode the graph is evaluated in (batch norm's batch statistics, dropout's mask for seed 0,
// step 0).
inline void check_gradients(Graph& g, NodeId out, int64_t batch, std::map<std::string, reference::DoubleTensor> values,
                            const std::vector<std::string>& wrt, uint64_t seed = 1, double tolerance = 1e-6,
                            bool training = false) {
  std::mt19937_64 rng(seed);
  NodeId loss = out;
  if (g.shape(out).rank() != 0) {
    NodeId r = g.input("upstream_r", g.shape(out));
    values["upstream_r"] = random_tensor(g.shape(out).resolved(batch), rng);
    loss = ops::sum(g, ops::mul(g, out, r));
  }
  std::vector<NodeId> wrt_ids;
  for (const auto& name : wrt) wrt_ids.push_back(g.at(name));
  const std::vector<NodeId> grads = ops::gradients(g, loss, wrt_ids);
  const auto base = reference::evaluate_f64(g, batch, values, training);

  for (size_t w = 0; w < wrt.size(); ++w) {
    const auto& analytic = base[static_cast<size_t>(grads[w])].values;
    auto& x = values[wrt[w]].values;
    ASSERT_EQ(analytic.size(), x.size()) << wrt[w];
    // Every element of small tensors, an even sample of large ones.
    const size_t stride = std::max<size_t>(1, x.size() / 40);
    for (size_t i = 0; i < x.size(); i += stride) {
      const double h = 1e-6 * std::max(1.0, std::abs(x[i]));
      const double saved = x[i];
      x[i] = saved + h;
      const double up = reference::evaluate_f64(g, batch, values, training)[static_cast<size_t>(loss)].values[0];
      x[i] = saved - h;
      const double down = reference::evaluate_f64(g, batch, values, training)[static_cast<size_t>(loss)].values[0];
      x[i] = saved;
      const double numeric = (up - down) / (2 * h);
      const double scale = std::max({1.0, std::abs(numeric), std::abs(analytic[i])});
      EXPECT_LE(std::abs(numeric - analytic[i]) / scale, tolerance)
          << "d loss / d " << wrt[w] << "[" << i << "]: autodiff " << analytic[i] << ", finite differences " << numeric;
    }
  }
}

}  // namespace graphrun::testing
