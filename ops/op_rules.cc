// The dispatch from op kind to gradient rule and FLOP count: one switch each, no default, so
// adding an op to core/op_list.inc without its rules fails to compile (-Werror=switch).
#include "ops/op_rules.h"

#include "core/error.h"
#include "graphrun/plugin.h"
#include "ops/ops.h"

namespace graphrun::ops {

void matmul_gradient(GradientBuilder&, NodeId, NodeId);
void add_gradient(GradientBuilder&, NodeId, NodeId);
void mul_gradient(GradientBuilder&, NodeId, NodeId);
void scale_gradient(GradientBuilder&, NodeId, NodeId);
void activation_gradient(GradientBuilder&, NodeId, NodeId);
void softmax_gradient(GradientBuilder&, NodeId, NodeId);
void softmax_cross_entropy_gradient(GradientBuilder&, NodeId, NodeId);
void mean_squared_error_gradient(GradientBuilder&, NodeId, NodeId);
void mean_absolute_error_gradient(GradientBuilder&, NodeId, NodeId);
void huber_gradient(GradientBuilder&, NodeId, NodeId);
void binary_cross_entropy_gradient(GradientBuilder&, NodeId, NodeId);
void reshape_gradient(GradientBuilder&, NodeId, NodeId);
void sum_rows_gradient(GradientBuilder&, NodeId, NodeId);
void sum_gradient(GradientBuilder&, NodeId, NodeId);
void mean_gradient(GradientBuilder&, NodeId, NodeId);
void conv2d_gradient(GradientBuilder&, NodeId, NodeId);
void add_channels_gradient(GradientBuilder&, NodeId, NodeId);
void max_pool2d_gradient(GradientBuilder&, NodeId, NodeId);
void avg_pool2d_gradient(GradientBuilder&, NodeId, NodeId);
void global_avg_pool_gradient(GradientBuilder&, NodeId, NodeId);
void batch_norm_gradient(GradientBuilder&, NodeId, NodeId);
void layer_norm_gradient(GradientBuilder&, NodeId, NodeId);
void dropout_gradient(GradientBuilder&, NodeId, NodeId);
void concat_gradient(GradientBuilder&, NodeId, NodeId);
double matmul_flops(const Graph&, NodeId, int64_t);
double conv2d_flops(const Graph&, NodeId, int64_t);
double pool_flops(const Graph&, NodeId, int64_t);

void GradientBuilder::contribute(NodeId id, NodeId grad) {
  if (parts_.size() < static_cast<size_t>(graph.size())) parts_.resize(static_cast<size_t>(graph.size()));
  parts_[static_cast<size_t>(id)].push_back(grad);
}

NodeId GradientBuilder::total(NodeId id) {
  if (static_cast<size_t>(id) >= parts_.size()) return kNoNode;
  std::vector<NodeId>& parts = parts_[static_cast<size_t>(id)];
  if (parts.empty()) return kNoNode;
  NodeId sum = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) sum = add(graph, sum, parts[i]);
  parts.assign(1, sum);
  return sum;
}

void append_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const OpKind op = gb.graph.node(id).op;
  switch (op) {
    case OpKind::Input:
    case OpKind::Parameter:
    case OpKind::Constant:
      return;  // leaves
    case OpKind::MatMul:
      return matmul_gradient(gb, id, dy);
    case OpKind::Add:
      return add_gradient(gb, id, dy);
    case OpKind::Mul:
      return mul_gradient(gb, id, dy);
    case OpKind::Scale:
      return scale_gradient(gb, id, dy);
    case OpKind::Activation:
      return activation_gradient(gb, id, dy);
    case OpKind::Softmax:
      return softmax_gradient(gb, id, dy);
    case OpKind::SoftmaxCrossEntropy:
      return softmax_cross_entropy_gradient(gb, id, dy);
    case OpKind::MeanSquaredError:
      return mean_squared_error_gradient(gb, id, dy);
    case OpKind::MeanAbsoluteError:
      return mean_absolute_error_gradient(gb, id, dy);
    case OpKind::Huber:
      return huber_gradient(gb, id, dy);
    case OpKind::BinaryCrossEntropy:
      return binary_cross_entropy_gradient(gb, id, dy);
    case OpKind::Reshape:
      return reshape_gradient(gb, id, dy);
    case OpKind::SumRows:
      return sum_rows_gradient(gb, id, dy);
    case OpKind::Sum:
      return sum_gradient(gb, id, dy);
    case OpKind::Mean:
      return mean_gradient(gb, id, dy);
    case OpKind::Conv2d:
      return conv2d_gradient(gb, id, dy);
    case OpKind::AddChannels:
      return add_channels_gradient(gb, id, dy);
    case OpKind::MaxPool2d:
      return max_pool2d_gradient(gb, id, dy);
    case OpKind::AvgPool2d:
      return avg_pool2d_gradient(gb, id, dy);
    case OpKind::GlobalAvgPool:
      return global_avg_pool_gradient(gb, id, dy);
    case OpKind::BatchNorm:
      return batch_norm_gradient(gb, id, dy);
    case OpKind::LayerNorm:
      return layer_norm_gradient(gb, id, dy);
    case OpKind::Dropout:
      return dropout_gradient(gb, id, dy);
    case OpKind::Concat:
      return concat_gradient(gb, id, dy);
    // Gradient ops have no gradient of their own: graphrun differentiates once.
    case OpKind::ActivationGrad:
    case OpKind::SoftmaxGrad:
    case OpKind::SoftmaxCrossEntropyGrad:
    case OpKind::MeanSquaredErrorGrad:
    case OpKind::MeanAbsoluteErrorGrad:
    case OpKind::HuberGrad:
    case OpKind::BinaryCrossEntropyGrad:
    case OpKind::BroadcastRows:
    case OpKind::Conv2dGradInput:
    case OpKind::Conv2dGradWeight:
    case OpKind::SumChannels:
    case OpKind::MaxPool2dGrad:
    case OpKind::AvgPool2dGrad:
    case OpKind::GlobalAvgPoolGrad:
      break;
    case OpKind::BatchNormGrad:
    case OpKind::BatchNormGradParams:
    case OpKind::LayerNormGrad:
    case OpKind::LayerNormGradParams:
    case OpKind::Slice:
      break;  // concat's gradient; a pad would be its own
  }
  throw Error(ErrorKind::BadInput,
              std::string("op '") + op_name(op) + "' (node '" + gb.graph.node(id).name + "') has no gradient rule");
}

double flops(const Graph& g, NodeId id, int64_t batch) {
  const Node& n = g.node(id);
  const double out = static_cast<double>(n.shape.resolved(batch).numel());
  const double in = n.inputs.empty() ? 0.0 : static_cast<double>(g.shape(n.inputs[0]).resolved(batch).numel());
  switch (n.op) {
    case OpKind::Input:
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Reshape:
      return 0.0;
    case OpKind::MatMul:
      return matmul_flops(g, id, batch);
    case OpKind::Add:
    case OpKind::Mul:
    case OpKind::Scale:
    case OpKind::BroadcastRows:
      return out;
    case OpKind::Activation:
    case OpKind::Softmax:
      return 4.0 * out;  // a transcendental counted as a few flops
    case OpKind::ActivationGrad:
    case OpKind::SoftmaxGrad:
      return 4.0 * out;
    case OpKind::SoftmaxCrossEntropy:
    case OpKind::SoftmaxCrossEntropyGrad:
      return 5.0 * in;
    case OpKind::MeanSquaredError:
    case OpKind::MeanSquaredErrorGrad:
    case OpKind::MeanAbsoluteError:
    case OpKind::MeanAbsoluteErrorGrad:
    case OpKind::Huber:
    case OpKind::HuberGrad:
      return 3.0 * in;
    case OpKind::BinaryCrossEntropy:
    case OpKind::BinaryCrossEntropyGrad:
      return 8.0 * in;  // exp and log1p counted as a few flops
    case OpKind::SumRows:
    case OpKind::Sum:
    case OpKind::Mean:
      return in;
    case OpKind::Conv2d:
    case OpKind::Conv2dGradInput:
    case OpKind::Conv2dGradWeight:
      return conv2d_flops(g, id, batch);
    case OpKind::AddChannels:
    case OpKind::GlobalAvgPoolGrad:
      return out;
    case OpKind::SumChannels:
    case OpKind::GlobalAvgPool:
      return in;
    case OpKind::MaxPool2d:
    case OpKind::MaxPool2dGrad:
    case OpKind::AvgPool2d:
    case OpKind::AvgPool2dGrad:
      return pool_flops(g, id, batch);
    // Normalisation: statistics (3 per element), normalise and scale (4); the gradients read
    // x and dy for the sums (5) and combine them (5).
    case OpKind::BatchNorm:
    case OpKind::LayerNorm:
      return 7.0 * out;
    case OpKind::BatchNormGrad:
    case OpKind::LayerNormGrad:
      return 10.0 * out;
    case OpKind::BatchNormGradParams:
    case OpKind::LayerNormGradParams:
      return 5.0 * in;
    case OpKind::Dropout:
      return 2.0 * out;  // a hash and a multiply (0 when it is a view)
    case OpKind::Concat:
    case OpKind::Slice:
      return 0.0;  // copies
  }
  return 0.0;
}

}  // namespace graphrun::ops
