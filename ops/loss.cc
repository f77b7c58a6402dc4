// Losses: fused softmax-cross-entropy (sparse or one-hot labels) and mean-squared error.
#include "ops/ops.h"
#include "ops/op_rules.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId softmax_cross_entropy(Graph& g, NodeId logits, NodeId labels, bool sparse_labels, std::string name) {
  const Shape& sl = g.shape(logits);
  const Shape& st = g.shape(labels);
  if (sl.rank() != 2) shape_error(g, "softmax_cross_entropy", "logits must be [N, C], got " + describe(g, logits));
  const bool ok = sparse_labels ? (st.rank() == 1 && st[0] == sl[0]) : st == sl;
  if (!ok) {
    shape_error(g, "softmax_cross_entropy",
                std::string("labels must be ") + (sparse_labels ? "[N] class indices" : "[N, C] like the logits") +
                    " for logits " + describe(g, logits) + ", got " + describe(g, labels));
  }
  NodeId id = append_op(g, OpKind::SoftmaxCrossEntropy, {logits, labels}, Shape{}, std::move(name));
  g.mutable_node(id).sparse_labels = sparse_labels;
  return id;
}

NodeId softmax_cross_entropy_grad(Graph& g, NodeId logits, NodeId labels, NodeId dloss, bool sparse_labels,
                                  std::string name) {
  NodeId id = append_op(g, OpKind::SoftmaxCrossEntropyGrad, {logits, labels, dloss}, g.shape(logits), std::move(name));
  g.mutable_node(id).sparse_labels = sparse_labels;
  return id;
}

NodeId mean_squared_error(Graph& g, NodeId pred, NodeId target, std::string name) {
  if (g.shape(pred) != g.shape(target)) {
    shape_error(g, "mean_squared_error", "needs equal shapes, got " + describe(g, pred) + " and " + describe(g, target));
  }
  return append_op(g, OpKind::MeanSquaredError, {pred, target}, Shape{}, std::move(name));
}

NodeId mean_squared_error_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, std::string name) {
  return append_op(g, OpKind::MeanSquaredErrorGrad, {pred, target, dloss}, g.shape(pred), std::move(name));
}

void softmax_cross_entropy_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const Node& n = g.node(id);
  const NodeId logits = n.inputs[0], labels = n.inputs[1];
  if (gb.needs(labels)) {
    throw Error(ErrorKind::BadInput, "softmax_cross_entropy: no gradient with respect to the labels");
  }
  if (gb.needs(logits)) gb.contribute(logits, softmax_cross_entropy_grad(g, logits, labels, dy, n.sparse_labels));
}

void mean_squared_error_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId pred = g.node(id).inputs[0], target = g.node(id).inputs[1];
  NodeId dpred = mean_squared_error_grad(g, pred, target, dy);
  if (gb.needs(pred)) gb.contribute(pred, dpred);
  if (gb.needs(target)) gb.contribute(target, scale(g, dpred, -1.0f));
}

}  // namespace graphrun::ops
