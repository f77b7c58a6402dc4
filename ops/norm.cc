// batch_norm and layer_norm: shape rules and gradient rules.
//
// Each has two gradient ops that recompute the statistics from x (cheaper than keeping them:
// one pass over x per op, no extra buffer): *_grad -> dx, and *_grad_params -> [2, P] holding
// d gamma (row 0) and d beta (row 1), which the rule slices apart.
#include "ops/layers.h"
#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {
namespace {

// The axis counted from the front; error unless it lies in [1, rank).
int32_t normalise_axis(const Graph& g, std::string_view op, NodeId x, int32_t axis) {
  const int rank = g.shape(x).rank();
  const int32_t a = axis < 0 ? axis + rank : axis;
  if (a < 1 || a >= rank) {
    shape_error(g, op,
                "axis " + std::to_string(axis) + " is outside [1, " + std::to_string(rank) + ") for " + describe(g, x));
  }
  return a;
}

void check_vector(const Graph& g, std::string_view op, std::string_view role, NodeId v, const Shape& want) {
  if (g.shape(v) != want) {
    shape_error(g, op, std::string(role) + " must be " + want.str() + ", got " + describe(g, v));
  }
}

Shape trailing(const Shape& s, int32_t axis) {
  Shape out;
  for (int i = axis; i < s.rank(); ++i) out.push_back(s[i]);
  return out;
}

// Rows 0 and 1 of a [2, ...] params gradient, each reshaped to `shape`. `shape` is a copy: the
// caller's is a node's, and appending the slice may move the graph's nodes.
NodeId param_row(Graph& g, NodeId both, int64_t row, Shape shape) {
  return reshape(g, slice(g, both, 0, row, 1), shape);
}

}  // namespace

NodeId batch_norm(Graph& g, NodeId x, NodeId gamma, NodeId beta, NodeId running_mean, NodeId running_var,
                  float momentum, float epsilon, std::string name) {
  const Shape& sx = g.shape(x);
  if (sx.rank() < 2) shape_error(g, "batch_norm", "needs x [N, C, ...], got " + describe(g, x));
  const Shape c{sx[1]};
  check_vector(g, "batch_norm", "gamma", gamma, c);
  check_vector(g, "batch_norm", "beta", beta, c);
  check_vector(g, "batch_norm", "running_mean", running_mean, c);
  check_vector(g, "batch_norm", "running_var", running_var, c);
  for (NodeId state : {running_mean, running_var}) {
    // A training program writes them: they must be state, which lives in the ParameterStore.
    const Node& n = g.node(state);
    if (n.op != OpKind::Parameter || n.trainable) {
      throw Error(ErrorKind::BadInput,
                  "batch_norm: the running statistics must be non-trainable parameters, got '" + n.name + "'");
    }
  }
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    throw Error(ErrorKind::BadInput, "batch_norm: momentum must be in [0, 1], got " + std::to_string(momentum));
  }
  if (!(epsilon > 0.0f)) {
    throw Error(ErrorKind::BadInput, "batch_norm: epsilon must be positive, got " + std::to_string(epsilon));
  }
  NodeId id = append_op(g, OpKind::BatchNorm, {x, gamma, beta, running_mean, running_var}, sx, std::move(name));
  g.mutable_node(id).momentum = momentum;
  g.mutable_node(id).epsilon = epsilon;
  return id;
}

NodeId batch_norm(Graph& g, NodeId x, const std::string& name, float momentum, float epsilon, bool trainable) {
  if (name.empty()) throw Error(ErrorKind::BadInput, "batch_norm: the layer needs a name (its parameters' prefix)");
  if (g.shape(x).rank() < 2) shape_error(g, "batch_norm", "needs x [N, C, ...], got " + describe(g, x));
  const Shape c{g.shape(x)[1]};
  NodeId gamma = g.parameter(name + ".gamma", c, Initializer::constant(1.0), trainable);
  NodeId beta = g.parameter(name + ".beta", c, Initializer::zeros(), trainable);
  NodeId mean = g.parameter(name + ".running_mean", c, Initializer::zeros(), false);
  NodeId var = g.parameter(name + ".running_var", c, Initializer::constant(1.0), false);
  return batch_norm(g, x, gamma, beta, mean, var, momentum, epsilon, name);
}

NodeId batch_norm_grad(Graph& g, NodeId forward, NodeId dy, std::string name) {
  const Node& f = g.node(forward);
  const std::vector<NodeId> in = f.inputs;
  NodeId id = append_op(g, OpKind::BatchNormGrad, {in[0], in[1], in[3], in[4], dy}, g.shape(in[0]), std::move(name));
  g.mutable_node(id).epsilon = g.node(forward).epsilon;
  return id;
}

NodeId batch_norm_grad_params(Graph& g, NodeId forward, NodeId dy, std::string name) {
  const std::vector<NodeId> in = g.node(forward).inputs;
  NodeId id = append_op(g, OpKind::BatchNormGradParams, {in[0], in[3], in[4], dy}, Shape{2, g.shape(in[0])[1]},
                        std::move(name));
  g.mutable_node(id).epsilon = g.node(forward).epsilon;
  return id;
}

NodeId layer_norm(Graph& g, NodeId x, NodeId gamma, NodeId beta, int32_t axis, float epsilon, std::string name) {
  const int32_t a = normalise_axis(g, "layer_norm", x, axis);
  const Shape p = trailing(g.shape(x), a);
  check_vector(g, "layer_norm", "gamma", gamma, p);
  check_vector(g, "layer_norm", "beta", beta, p);
  if (!(epsilon > 0.0f)) {
    throw Error(ErrorKind::BadInput, "layer_norm: epsilon must be positive, got " + std::to_string(epsilon));
  }
  NodeId id = append_op(g, OpKind::LayerNorm, {x, gamma, beta}, g.shape(x), std::move(name));
  g.mutable_node(id).axis = a;
  g.mutable_node(id).epsilon = epsilon;
  return id;
}

NodeId layer_norm(Graph& g, NodeId x, const std::string& name, int32_t axis, float epsilon, bool trainable) {
  if (name.empty()) throw Error(ErrorKind::BadInput, "layer_norm: the layer needs a name (its parameters' prefix)");
  const Shape p = trailing(g.shape(x), normalise_axis(g, "layer_norm", x, axis));
  NodeId gamma = g.parameter(name + ".gamma", p, Initializer::constant(1.0), trainable);
  NodeId beta = g.parameter(name + ".beta", p, Initializer::zeros(), trainable);
  return layer_norm(g, x, gamma, beta, axis, epsilon, name);
}

NodeId layer_norm_grad(Graph& g, NodeId forward, NodeId dy, std::string name) {
  const Node& f = g.node(forward);
  const NodeId x = f.inputs[0], gamma = f.inputs[1];
  const int32_t axis = f.axis;
  const float epsilon = f.epsilon;
  NodeId id = append_op(g, OpKind::LayerNormGrad, {x, gamma, dy}, g.shape(x), std::move(name));
  g.mutable_node(id).axis = axis;
  g.mutable_node(id).epsilon = epsilon;
  return id;
}

NodeId layer_norm_grad_params(Graph& g, NodeId forward, NodeId dy, std::string name) {
  const Node& f = g.node(forward);
  const NodeId x = f.inputs[0];
  const int32_t axis = f.axis;
  const float epsilon = f.epsilon;
  int64_t inner = 1;
  for (int i = axis; i < g.shape(x).rank(); ++i) inner *= g.shape(x)[i];
  NodeId id = append_op(g, OpKind::LayerNormGradParams, {x, dy}, Shape{2, inner}, std::move(name));
  g.mutable_node(id).axis = axis;
  g.mutable_node(id).epsilon = epsilon;
  return id;
}

void batch_norm_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const std::vector<NodeId> in = g.node(id).inputs;  // x, gamma, beta, running_mean, running_var
  if (gb.needs(in[0])) gb.contribute(in[0], batch_norm_grad(g, id, dy));
  if (gb.needs(in[1]) || gb.needs(in[2])) {
    const NodeId both = batch_norm_grad_params(g, id, dy);
    if (gb.needs(in[1])) gb.contribute(in[1], param_row(g, both, 0, g.shape(in[1])));
    if (gb.needs(in[2])) gb.contribute(in[2], param_row(g, both, 1, g.shape(in[2])));
  }
  // The running statistics are state, not functions of the loss's inputs: no gradient.
}

void layer_norm_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const std::vector<NodeId> in = g.node(id).inputs;  // x, gamma, beta
  if (gb.needs(in[0])) gb.contribute(in[0], layer_norm_grad(g, id, dy));
  if (gb.needs(in[1]) || gb.needs(in[2])) {
    const NodeId both = layer_norm_grad_params(g, id, dy);
    if (gb.needs(in[1])) gb.contribute(in[1], param_row(g, both, 0, g.shape(in[1])));
    if (gb.needs(in[2])) gb.contribute(in[2], param_row(g, both, 1, g.shape(in[2])));
  }
}

}  // namespace graphrun::ops
