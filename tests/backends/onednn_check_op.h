// Helpers for comparing the oneDNN backend with the reference backend on small graphs.
//
// check_op() builds `out = build(g, inputs)` on fresh inputs of the given shapes, appends
// loss = sum(out * r) for a random r and the gradients of the loss with respect to every
// input (or the first wrt_count inputs), compiles the graph once with the chain "onednn" (then Highway, then reference) and
// once with the reference alone, feeds both the same random inputs and compares the output
// and every gradient element by element.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "core/program.h"
#include "ops/autodiff.h"
#include "ops/ops.h"

namespace graphrun::testing {

// The edge sizes every dimension is swept over (vector widths 8 and 16, ±1, and MNIST's 784).
inline const std::vector<int64_t> kEdgeSizes = {1, 3, 17, 31, 33, 63, 65, 127, 129, 784};

inline std::unique_ptr<Program> compile_on(const Graph& g, ParameterStore& params, const std::string& backend,
                                           const std::vector<NodeId>& outputs, ThreadPool& pool, int64_t batch = 1) {
  CompileOptions opt{backends::chain(backend), {}, &pool, outputs};
  return Program::compile(g, params, batch, opt);
}

// Fills every input of p with uniform values in [lo, hi), the same for the same seed.
inline void fill_inputs(Program& p, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (NodeId id : p.graph().inputs()) {
    for (float& f : p.value(id).span()) f = u(rng);
  }
}

// |got - want| <= atol + rtol |want| for every element.
inline void expect_close(const Program& got, const Program& want, NodeId id, double atol, double rtol,
                         const std::string& what) {
  TensorView a = got.value(id), b = want.value(id);
  ASSERT_EQ(a.shape, b.shape) << what;
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double w = b.data[i], d = std::abs(static_cast<double>(a.data[i]) - w);
    if (!(d <= atol + rtol * std::abs(w))) {
      if (++bad <= 3) ADD_FAILURE() << what << " [" << i << "]: onednn " << a.data[i] << ", reference " << w;
    }
  }
  EXPECT_EQ(bad, 0) << what << ": elements out of tolerance";
}

struct OpCheck {
  std::unique_ptr<Graph> g;
  std::unique_ptr<Program> onednn, reference;
  NodeId out = kNoNode;
  std::vector<NodeId> grads;
  // The backend that ran each op node, by op name of the node (the last one of that op wins).
  std::string backend_of(NodeId id) const {
    for (const ScheduledNode& s : onednn->schedule())
      if (s.node == id) return s.backend;
    return "";
  }
  const ScheduledNode* scheduled(OpKind op) const {
    for (const ScheduledNode& s : onednn->schedule())
      if (g->node(s.node).op == op) return &s;
    return nullptr;
  }
};

using OpBuilder = std::function<NodeId(Graph&, const std::vector<NodeId>&)>;

inline OpCheck check_op(const std::string& what, const std::vector<Shape>& shapes, const OpBuilder& build,
                        double atol = 1e-5, double rtol = 1e-5, float lo = -1.0f, float hi = 1.0f,
                        size_t wrt_count = SIZE_MAX) {
  OpCheck c;
  c.g = std::make_unique<Graph>();
  Graph& g = *c.g;
  std::vector<NodeId> in;
  for (size_t i = 0; i < shapes.size(); ++i) in.push_back(g.input("in" + std::to_string(i), shapes[i]));
  c.out = build(g, in);
  std::vector<NodeId> outputs{c.out};
  if (wrt_count > 0) {
    NodeId r = g.input("upstream_r", g.shape(c.out));
    NodeId loss = ops::sum(g, ops::mul(g, c.out, r));
    c.grads = ops::gradients(g, loss, {in.begin(), in.begin() + static_cast<ptrdiff_t>(std::min(wrt_count, in.size()))});
    outputs.insert(outputs.end(), c.grads.begin(), c.grads.end());
  }
  ParameterStore params = ParameterStore::initialize(g, 1);
  static ThreadPool pool(2);
  c.onednn = compile_on(g, params, "onednn", outputs, pool);
  c.reference = compile_on(g, params, "reference", outputs, pool);
  fill_inputs(*c.onednn, 7, lo, hi);
  fill_inputs(*c.reference, 7, lo, hi);
  c.onednn->run();
  c.reference->run();
  expect_close(*c.onednn, *c.reference, c.out, atol, rtol, what + " forward");
  for (size_t i = 0; i < c.grads.size(); ++i) {
    expect_close(*c.onednn, *c.reference, c.grads[i], atol, rtol, what + " d_in" + std::to_string(i));
  }
  return c;
}

}  // namespace graphrun::testing
