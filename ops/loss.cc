// Losses: fused softmax-cross-entropy (sparse or one-hot labels), mean-squared and mean-absolute
// error, Huber, and binary cross-entropy with its sigmoid fused (from logits). Each takes
// optional per-sample weights as a last input (with_sample_weights), which its gradient node
// shares.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

namespace {

// The weights of a loss node (kNoNode without), which its gradient node shares. They are
// constants of the loss: no gradient flows to them.
NodeId loss_weights(GradientBuilder& gb, NodeId loss) {
  const Node& l = gb.graph.node(loss);
  if (l.inputs.size() < 3) return kNoNode;
  if (gb.needs(l.inputs[2])) {
    throw Error(ErrorKind::BadInput, std::string(op_name(l.op)) + ": no gradient with respect to the sample weights");
  }
  return l.inputs[2];
}

// A gradient node: (pred, target, dloss) and the weights when given.
NodeId append_grad(Graph& g, OpKind op, NodeId pred, NodeId target, NodeId dloss, NodeId weights, std::string name) {
  std::vector<NodeId> inputs{pred, target, dloss};
  if (weights != kNoNode) inputs.push_back(weights);
  return append_op(g, op, std::move(inputs), g.shape(pred), std::move(name));
}

}  // namespace

NodeId with_sample_weights(Graph& g, NodeId loss, NodeId weights) {
  const Node& n = g.node(loss);
  if (!op_takes_row_weights(n.op) || n.inputs.size() != 2) {
    throw Error(ErrorKind::BadInput, std::string("with_sample_weights: '") + n.name +
                                         "' is not a loss without weights (" + op_name(n.op) + ")");
  }
  const Shape& sp = g.shape(n.inputs[0]);
  const Shape& sw = g.shape(weights);
  if (sp.rank() < 1 || sw.rank() != 1 || sw[0] != sp[0]) {
    shape_error(
        g, op_name(n.op),
        "sample weights must be [N], one per row of " + describe(g, n.inputs[0]) + ", got " + describe(g, weights));
  }
  if (weights > loss) {  // the graph's nodes stay in a topological order
    throw Error(ErrorKind::BadInput, std::string("with_sample_weights: the weights '") + g.node(weights).name +
                                         "' must be made before the loss '" + n.name + "'");
  }
  g.mutable_node(loss).inputs.push_back(weights);
  return loss;
}

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
                                  NodeId weights, std::string name) {
  const NodeId id = append_grad(g, OpKind::SoftmaxCrossEntropyGrad, logits, labels, dloss, weights, std::move(name));
  g.mutable_node(id).sparse_labels = sparse_labels;
  return id;
}

NodeId mean_squared_error(Graph& g, NodeId pred, NodeId target, std::string name) {
  if (g.shape(pred) != g.shape(target)) {
    shape_error(g, "mean_squared_error",
                "needs equal shapes, got " + describe(g, pred) + " and " + describe(g, target));
  }
  return append_op(g, OpKind::MeanSquaredError, {pred, target}, Shape{}, std::move(name));
}

NodeId mean_squared_error_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, NodeId weights, std::string name) {
  return append_grad(g, OpKind::MeanSquaredErrorGrad, pred, target, dloss, weights, std::move(name));
}

void softmax_cross_entropy_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const Node& n = g.node(id);
  const NodeId logits = n.inputs[0], labels = n.inputs[1];
  if (gb.needs(labels)) {
    throw Error(ErrorKind::BadInput, "softmax_cross_entropy: no gradient with respect to the labels");
  }
  if (gb.needs(logits)) {
    const bool sparse = n.sparse_labels;
    gb.contribute(logits, softmax_cross_entropy_grad(g, logits, labels, dy, sparse, loss_weights(gb, id)));
  }
}

void mean_squared_error_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId pred = g.node(id).inputs[0], target = g.node(id).inputs[1];
  const NodeId dpred = mean_squared_error_grad(g, pred, target, dy, loss_weights(gb, id));
  if (gb.needs(pred)) gb.contribute(pred, dpred);
  if (gb.needs(target)) gb.contribute(target, scale(g, dpred, -1.0f));
}

namespace {

// The elementwise losses compare two tensors of one shape: pred (or logits) and target.
void check_same_shape(Graph& g, const char* op, NodeId pred, NodeId target) {
  if (g.shape(pred) != g.shape(target)) {
    shape_error(g, op, "needs equal shapes, got " + describe(g, pred) + " and " + describe(g, target));
  }
}

// d loss / d pred for an elementwise loss whose gradient op is (pred, target, dloss[, weights]);
// the target's gradient is its negation (the loss depends on pred - target).
template <class MakeGrad>
void difference_loss_gradient(GradientBuilder& gb, NodeId id, NodeId dy, MakeGrad make_grad) {
  Graph& g = gb.graph;
  const NodeId pred = g.node(id).inputs[0], target = g.node(id).inputs[1];
  const NodeId dpred = make_grad(g, pred, target, dy, loss_weights(gb, id));
  if (gb.needs(pred)) gb.contribute(pred, dpred);
  if (gb.needs(target)) gb.contribute(target, scale(g, dpred, -1.0f));
}

}  // namespace

NodeId mean_absolute_error(Graph& g, NodeId pred, NodeId target, std::string name) {
  check_same_shape(g, "mean_absolute_error", pred, target);
  return append_op(g, OpKind::MeanAbsoluteError, {pred, target}, Shape{}, std::move(name));
}

NodeId mean_absolute_error_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, NodeId weights, std::string name) {
  return append_grad(g, OpKind::MeanAbsoluteErrorGrad, pred, target, dloss, weights, std::move(name));
}

NodeId huber(Graph& g, NodeId pred, NodeId target, float delta, std::string name) {
  check_same_shape(g, "huber", pred, target);
  if (!(delta > 0.0f) || !std::isfinite(delta)) {
    shape_error(g, "huber", "delta must be a finite number > 0, got " + std::to_string(delta));
  }
  NodeId id = append_op(g, OpKind::Huber, {pred, target}, Shape{}, std::move(name));
  g.mutable_node(id).alpha = delta;
  return id;
}

NodeId huber_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, float delta, NodeId weights, std::string name) {
  const NodeId id = append_grad(g, OpKind::HuberGrad, pred, target, dloss, weights, std::move(name));
  g.mutable_node(id).alpha = delta;
  return id;
}

NodeId binary_cross_entropy(Graph& g, NodeId logits, NodeId targets, std::string name) {
  check_same_shape(g, "binary_cross_entropy", logits, targets);
  return append_op(g, OpKind::BinaryCrossEntropy, {logits, targets}, Shape{}, std::move(name));
}

NodeId binary_cross_entropy(Graph& g, NodeId logits, NodeId targets, std::vector<float> pos_weight, std::string name) {
  const Shape& sl = g.shape(logits);  // [N, labels...]; N may be the symbolic batch
  int64_t labels = 1;
  for (int i = 1; i < sl.rank(); ++i) labels *= sl[i];
  if (pos_weight.size() == 1) pos_weight.assign(static_cast<size_t>(labels), pos_weight[0]);
  if (static_cast<int64_t>(pos_weight.size()) != labels) {
    shape_error(g, "binary_cross_entropy",
                "pos_weight needs one weight per label (" + std::to_string(labels) + ") or one for all, got " +
                    std::to_string(pos_weight.size()));
  }
  for (float p : pos_weight) {
    if (!(p > 0.0f) || !std::isfinite(p)) {
      shape_error(g, "binary_cross_entropy", "pos_weight must be finite numbers > 0, got " + std::to_string(p));
    }
  }
  const NodeId id = binary_cross_entropy(g, logits, targets, std::move(name));
  g.mutable_node(id).pos_weight = std::move(pos_weight);
  return id;
}

NodeId binary_cross_entropy_grad(Graph& g, NodeId logits, NodeId targets, NodeId dloss, std::vector<float> pos_weight,
                                 NodeId weights, std::string name) {
  const NodeId id = append_grad(g, OpKind::BinaryCrossEntropyGrad, logits, targets, dloss, weights, std::move(name));
  g.mutable_node(id).pos_weight = std::move(pos_weight);
  return id;
}

void mean_absolute_error_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  difference_loss_gradient(gb, id, dy, [](Graph& g, NodeId p, NodeId t, NodeId d, NodeId w) {
    return mean_absolute_error_grad(g, p, t, d, w);
  });
}

void huber_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const float delta = gb.graph.node(id).alpha;
  difference_loss_gradient(gb, id, dy, [delta](Graph& g, NodeId p, NodeId t, NodeId d, NodeId w) {
    return huber_grad(g, p, t, d, delta, w);
  });
}

void binary_cross_entropy_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId logits = g.node(id).inputs[0], targets = g.node(id).inputs[1];
  if (gb.needs(targets)) {
    throw Error(ErrorKind::BadInput, "binary_cross_entropy: no gradient with respect to the targets");
  }
  if (gb.needs(logits)) {
    std::vector<float> pos_weight = g.node(id).pos_weight;
    gb.contribute(logits,
                  binary_cross_entropy_grad(g, logits, targets, dy, std::move(pos_weight), loss_weights(gb, id)));
  }
}

}  // namespace graphrun::ops
