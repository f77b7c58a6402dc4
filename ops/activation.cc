// activation (a plugin function, elementwise or row-wise) and softmax, with their gradients.
#include "graphrun/plugin.h"
#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId activation(Graph& g, NodeId x, const graphrun_activation* fn, std::vector<double> params, std::string name) {
  GRAPHRUN_CHECK(fn != nullptr);
  if (params.size() != fn->n_params) {
    throw Error(ErrorKind::BadInput, std::string("activation '") + fn->name + "' takes " +
                                         std::to_string(fn->n_params) + " parameters, got " +
                                         std::to_string(params.size()));
  }
  if (fn->kind == GRAPHRUN_ACTIVATION_ROWWISE && g.shape(x).rank() == 0) {
    shape_error(g, fn->name, "a row-wise activation needs at least one dimension, got " + describe(g, x));
  }
  NodeId id = append_op(g, OpKind::Activation, {x}, g.shape(x), std::move(name));
  g.mutable_node(id).activation = fn;
  g.mutable_node(id).activation_params = std::move(params);
  return id;
}

NodeId activation_grad(Graph& g, NodeId x, NodeId y, NodeId dy, const graphrun_activation* fn,
                       std::vector<double> params, std::string name) {
  NodeId id = append_op(g, OpKind::ActivationGrad, {x, y, dy}, g.shape(x), std::move(name));
  g.mutable_node(id).activation = fn;
  g.mutable_node(id).activation_params = std::move(params);
  return id;
}

NodeId softmax(Graph& g, NodeId x, std::string name) {
  if (g.shape(x).rank() == 0) shape_error(g, "softmax", "needs at least one dimension, got " + describe(g, x));
  return append_op(g, OpKind::Softmax, {x}, g.shape(x), std::move(name));
}

NodeId softmax_grad(Graph& g, NodeId y, NodeId dy, std::string name) {
  return append_op(g, OpKind::SoftmaxGrad, {y, dy}, g.shape(y), std::move(name));
}

void activation_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const Node& n = g.node(id);
  const NodeId x = n.inputs[0];
  if (gb.needs(x)) gb.contribute(x, activation_grad(g, x, id, dy, n.activation, n.activation_params));
}

void softmax_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, softmax_grad(g, id, dy));
}

}  // namespace graphrun::ops
