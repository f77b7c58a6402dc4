// The backend consistency harness: a row of the table (tests/backends/consistency_cases.cc) is
// one op on concrete input shapes; run_case() runs it on a backend and on the reference,
// forward and backward, and compares every output element; check_row_gradients() checks its
// gradient against central finite differences in double (the reference's f64 interpreter).
//
// A row's graph: inputs x0, x1, ... of the row's shapes, out = build(g, inputs), and for the
// backward pass loss = sum(out * r) (r random, so each element of out gets its own upstream
// gradient; a scalar out is the loss itself) with the gradients of the loss with respect to
// every differentiable input (ops::gradients: the op's own gradient nodes).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backends/reference/evaluate.h"
#include "core/program.h"
#include "ops/autodiff.h"
#include "ops/ops.h"

namespace graphrun::testing {

// How an input is filled: uniform in the row's domain, class indices in [0, classes), rows
// of positive values summing to one (soft labels), 0/1 (binary and multi-label targets), or
// per-sample weights in [0, 3) with every fourth one 0.
enum class Fill { kUniform, kClassIndex, kDistribution, kBinary, kWeight };

struct Operand {
  Shape shape;
  Fill fill = Fill::kUniform;
  int64_t classes = 0;         // kClassIndex only
  bool differentiable = true;  // whether the backward pass and the check take its gradient
};

using Inputs = std::vector<NodeId>;
using Build = std::function<NodeId(Graph&, const Inputs&)>;

struct Case {
  std::string op;    // the family the tests group rows by: the name's first word
  std::string name;  // the row, as failures print it
  std::vector<Operand> inputs;
  Build build;
  double atol = 1e-5, rtol = 1e-5;  // backend vs reference: |got - want| <= atol + rtol |want|
  double lo = -1.0, hi = 1.0;       // the input domain of kUniform operands
  int64_t batch = 1;                // for shapes with a batch dimension
  double fd_tolerance = 1e-6;       // autodiff vs finite differences, relative to max(1, |values|)
  bool training = false;            // compile (and evaluate) in training mode (CompileOptions)

  Case& tolerance(double abs, double rel) {
    atol = abs, rtol = rel;
    return *this;
  }
  Case& domain(double low, double high) {
    lo = low, hi = high;
    return *this;
  }
  Case& with_batch(int64_t b) {
    batch = b;
    return *this;
  }
  Case& fd(double tol) {
    fd_tolerance = tol;
    return *this;
  }
  Case& in_training() {
    training = true;
    return *this;
  }
};

// Rows are added with t.add(name, inputs, BUILD(expression over g and x)).
struct Table {
  std::vector<Case> rows;
  Case& add(std::string name, std::vector<Operand> inputs, Build build) {
    Case c;
    c.op = name.substr(0, name.find(' '));
    c.name = std::move(name);
    c.inputs = std::move(inputs);
    c.build = std::move(build);
    rows.push_back(std::move(c));
    return rows.back();
  }
};
#define BUILD(expr) [=](Graph& g, const ::graphrun::testing::Inputs& x) -> NodeId { return expr; }

inline Operand in(Shape s) { return {std::move(s)}; }
inline Operand class_indices(int64_t rows, int64_t classes) { return {Shape{rows}, Fill::kClassIndex, classes, false}; }
inline Operand soft_labels(Shape s) { return {std::move(s), Fill::kDistribution, 0, false}; }
inline Operand binary_labels(Shape s) { return {std::move(s), Fill::kBinary, 0, false}; }
inline Operand sample_weights(int64_t rows) { return {Shape{rows}, Fill::kWeight, 0, false}; }

// The table (consistency_cases.cc). Built once; rows of plugin activations need the built plugins.
const std::vector<Case>& consistency_cases();
// The image ops' rows (consistency_image_cases.cc).
void image_rows(Table& t);
// The rows of batch norm, layer norm, dropout, concat and slice (consistency_layers.cc).
void layers_rows(Table& t);

// Rows small enough for finite differences (each checked element evaluates the graph twice).
inline bool finite_difference_row(const Case& c) {
  int64_t n = 0;
  for (const Operand& o : c.inputs) n += o.shape.resolved(c.batch).numel();
  return n <= 4096;
}

inline std::string input_name(size_t i) {
  std::string name = "x";  // (not "x" + to_string: GCC 12 warns falsely, -Wrestrict)
  return name += std::to_string(i);
}

// The row's input values in double: the same for every backend and for the gradient check.
// Parameters the row's builder made (a batch norm's state, a layer's gamma) get values in
// [0.5, 1.5): positive, as a variance must be.
inline std::map<std::string, reference::DoubleTensor> row_values(const Case& c, const Graph& g, uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::map<std::string, reference::DoubleTensor> values;
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Operand& o = c.inputs[i];
    const Shape s = o.shape.resolved(c.batch);
    std::vector<double> v(static_cast<size_t>(s.numel()));
    switch (o.fill) {
      case Fill::kUniform:
        for (double& e : v) e = uniform(c.lo, c.hi);
        break;
      case Fill::kClassIndex:
        for (double& e : v) e = static_cast<double>(std::uniform_int_distribution<int64_t>(0, o.classes - 1)(rng));
        break;
      case Fill::kDistribution: {
        const size_t cols = static_cast<size_t>(s[s.rank() - 1]);
        for (size_t r = 0; r < v.size(); r += cols) {
          double sum = 0;
          for (size_t j = 0; j < cols; ++j) sum += v[r + j] = uniform(0.01, 1.0);
          for (size_t j = 0; j < cols; ++j) v[r + j] /= sum;
        }
        break;
      }
      case Fill::kBinary:
        for (double& e : v) e = static_cast<double>(std::uniform_int_distribution<int>(0, 1)(rng));
        break;
      case Fill::kWeight:
        for (size_t j = 0; j < v.size(); ++j) v[j] = j % 4 == 3 ? 0.0 : uniform(0.0, 3.0);
        break;
    }
    values[input_name(i)] = {s, std::move(v)};
  }
  for (NodeId id : g.parameters()) {
    std::vector<double> v(static_cast<size_t>(g.shape(id).numel()));
    for (double& e : v) e = uniform(0.5, 1.5);
    values[g.node(id).name] = {g.shape(id), std::move(v)};
  }
  if (NodeId r = g.find("upstream_r"); r != kNoNode) {
    const Shape s = g.shape(r).resolved(c.batch);
    std::vector<double> v(static_cast<size_t>(s.numel()));
    for (double& e : v) e = uniform(-1.0, 1.0);
    values["upstream_r"] = {s, std::move(v)};
  }
  return values;
}

inline std::unique_ptr<Program> compile_on(const Graph& g, ParameterStore& params, const std::vector<Backend*>& chain,
                                           const std::vector<NodeId>& outputs, ThreadPool& pool, int64_t batch = 1,
                                           bool training = false) {
  CompileOptions opt{chain, {}, &pool, outputs};
  opt.training = training;
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

// One row compiled and run on a backend (its chain: it first, then Highway, then the
// reference) and on the reference alone.
struct Run {
  std::unique_ptr<Graph> g;
  std::unique_ptr<ParameterStore> params, reference_params;  // each program's (a training run updates state)
  std::unique_ptr<Program> program, reference;
  NodeId out = kNoNode;
  std::vector<NodeId> grads;
  // The schedule entry of the first node with that op, or nullptr.
  const ScheduledNode* scheduled(OpKind op) const {
    for (const ScheduledNode& s : program->schedule())
      if (g->node(s.node).op == op) return &s;
    return nullptr;
  }
};

ThreadPool& consistency_pool();  // two threads, shared by every row

// Runs the row on `backend` and on the reference and expects every output and gradient
// element within the row's tolerance.
Run run_case(const Case& c, const std::string& backend);

// d loss / d x for every differentiable input against central finite differences in double.
void check_row_gradients(const Case& c);

}  // namespace graphrun::testing
