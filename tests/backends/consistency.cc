// The harness behind the consistency table: see consistency.h.
#include "tests/backends/consistency.h"

#include <cmath>

#include "backends/registry.h"
#include "tests/support/gradient_check.h"

namespace graphrun::testing {
namespace {

struct RowGraph {
  std::unique_ptr<Graph> g = std::make_unique<Graph>();
  std::vector<NodeId> inputs, wrt;
  NodeId out = kNoNode;
};

RowGraph build_row(const Case& c) {
  RowGraph r;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    r.inputs.push_back(r.g->input(input_name(i), c.inputs[i].shape));
    if (c.inputs[i].differentiable) r.wrt.push_back(r.inputs.back());
  }
  r.out = c.build(*r.g, r.inputs);
  return r;
}

void feed(Program& p, const std::map<std::string, reference::DoubleTensor>& values) {
  for (NodeId id : p.graph().inputs()) {
    const auto& v = values.at(p.graph().node(id).name).values;
    std::span<float> dst = p.value(id).span();
    ASSERT_EQ(dst.size(), v.size()) << p.graph().node(id).name;
    for (size_t i = 0; i < v.size(); ++i) dst[i] = static_cast<float>(v[i]);
  }
}

// The row's parameters with their values from row_values.
ParameterStore parameters(const Graph& g, const std::map<std::string, reference::DoubleTensor>& values) {
  ParameterStore store = ParameterStore::initialize(g, 1);
  for (NodeId id : g.parameters()) {
    const auto& v = values.at(g.node(id).name).values;
    for (size_t i = 0; i < v.size(); ++i) store.at(g.node(id).name)[static_cast<int64_t>(i)] = static_cast<float>(v[i]);
  }
  return store;
}

void expect_close(const Case& c, const std::string& backend, const Run& run, NodeId id, const std::string& what) {
  TensorView a = run.program->value(id), b = run.reference->value(id);
  ASSERT_EQ(a.shape, b.shape) << c.name << " " << what;
  int64_t bad = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double w = b.data[i], d = std::abs(static_cast<double>(a.data[i]) - w);
    if (!(d <= c.atol + c.rtol * std::abs(w)) && ++bad <= 3) {
      ADD_FAILURE() << c.name << " " << what << " [" << i << "]: " << backend << " " << a.data[i] << ", reference " << w
                    << " (tolerance " << c.atol << " + " << c.rtol << " |reference|)";
    }
  }
  EXPECT_EQ(bad, 0) << c.name << " " << what << " on " << backend << ": elements out of tolerance";
}

}  // namespace

ThreadPool& consistency_pool() {
  static ThreadPool pool(2);
  return pool;
}

Run run_case(const Case& c, const std::string& backend) {
  RowGraph r = build_row(c);
  Graph& g = *r.g;
  Run run;
  run.out = r.out;
  std::vector<NodeId> outputs{r.out};
  if (!r.wrt.empty()) {
    NodeId loss = r.out;
    if (g.shape(r.out).rank() != 0) loss = ops::sum(g, ops::mul(g, r.out, g.input("upstream_r", g.shape(r.out))));
    run.grads = ops::gradients(g, loss, r.wrt);
    outputs.insert(outputs.end(), run.grads.begin(), run.grads.end());
  }
  const auto values = row_values(c, g);
  run.params = std::make_unique<ParameterStore>(parameters(g, values));
  run.reference_params = std::make_unique<ParameterStore>(parameters(g, values));
  run.program = compile_on(g, *run.params, backends::chain(backend), outputs, consistency_pool(), c.batch, c.training);
  run.reference = compile_on(g, *run.reference_params, {&backends::by_name("reference")}, outputs, consistency_pool(),
                             c.batch, c.training);
  feed(*run.program, values);
  feed(*run.reference, values);
  run.program->run();
  run.reference->run();
  expect_close(c, backend, run, r.out, "forward");
  for (size_t i = 0; i < run.grads.size(); ++i) {
    expect_close(c, backend, run, run.grads[i], "d " + g.node(r.wrt[i]).name);
  }
  for (NodeId id : g.parameters()) expect_close(c, backend, run, id, "parameter after the run");
  run.g = std::move(r.g);
  return run;
}

void check_row_gradients(const Case& c) {
  SCOPED_TRACE(c.name);
  RowGraph r = build_row(c);
  if (r.wrt.empty()) return;
  std::vector<std::string> wrt;
  for (NodeId id : r.wrt) wrt.push_back(r.g->node(id).name);
  check_gradients(*r.g, r.out, c.batch, row_values(c, *r.g), wrt, 1, c.fd_tolerance, c.training);
}

}  // namespace graphrun::testing
