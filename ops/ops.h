// The graph builders: one function per op. Each checks its inputs' shapes and attributes once,
// here, and appends a node; errors are graphrun::Error (Shape or BadInput) naming the op, the
// shapes and what was expected. Name arguments may be empty (an automatic name is used).
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"

struct graphrun_activation;

namespace graphrun::ops {

// op(a) x op(b): a [M,K] (or [K,M] with trans_a), b [K,N] (or [N,K] with trans_b) -> [M,N].
NodeId matmul(Graph& g, NodeId a, NodeId b, bool trans_a = false, bool trans_b = false, std::string name = {});
// a + b with b the same shape as a, or b [C] added to every row of a [..., C] (a bias).
NodeId add(Graph& g, NodeId a, NodeId b, std::string name = {});
NodeId mul(Graph& g, NodeId a, NodeId b, std::string name = {});
NodeId scale(Graph& g, NodeId x, float alpha, std::string name = {});
// f(x) for an activation plugin entry; params one per declared parameter (see resolve_params).
NodeId activation(Graph& g, NodeId x, const graphrun_activation* fn, std::vector<double> params, std::string name = {});
NodeId activation_grad(Graph& g, NodeId x, NodeId y, NodeId dy, const graphrun_activation* fn,
                       std::vector<double> params, std::string name = {});
NodeId softmax(Graph& g, NodeId x, std::string name = {});
NodeId softmax_grad(Graph& g, NodeId y, NodeId dy, std::string name = {});
// Mean over rows of -log softmax(logits)[label]. labels: [N] class indices (sparse) or [N,C].
NodeId softmax_cross_entropy(Graph& g, NodeId logits, NodeId labels, bool sparse_labels, std::string name = {});
NodeId softmax_cross_entropy_grad(Graph& g, NodeId logits, NodeId labels, NodeId dloss, bool sparse_labels,
                                  NodeId weights = kNoNode, std::string name = {});
NodeId mean_squared_error(Graph& g, NodeId pred, NodeId target, std::string name = {});
NodeId mean_squared_error_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, NodeId weights = kNoNode,
                               std::string name = {});
// Mean over all elements of |pred - target| (mae) and of the Huber loss with threshold delta:
// d^2/2 where |d| <= delta, delta (|d| - delta/2) beyond (d = pred - target).
NodeId mean_absolute_error(Graph& g, NodeId pred, NodeId target, std::string name = {});
NodeId mean_absolute_error_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, NodeId weights = kNoNode,
                                std::string name = {});
NodeId huber(Graph& g, NodeId pred, NodeId target, float delta = 1.0f, std::string name = {});
NodeId huber_grad(Graph& g, NodeId pred, NodeId target, NodeId dloss, float delta, NodeId weights = kNoNode,
                  std::string name = {});
// Mean over all elements of the cross-entropy between sigmoid(logits) and targets in [0, 1]
// (binary and multi-label), computed stably from the logits: max(z,0) - z y + log1p(exp(-|z|)).
// pos_weight (PyTorch's): the positive term's weight, one per label or one for all (each > 0):
// -p y log s - (1 - y) log(1 - s).
NodeId binary_cross_entropy(Graph& g, NodeId logits, NodeId targets, std::string name = {});
NodeId binary_cross_entropy(Graph& g, NodeId logits, NodeId targets, std::vector<float> pos_weight,
                            std::string name = {});
NodeId binary_cross_entropy_grad(Graph& g, NodeId logits, NodeId targets, NodeId dloss,
                                 std::vector<float> pos_weight = {}, NodeId weights = kNoNode, std::string name = {});
// Per-sample weights for a loss just built by one of the builders above, the weights node made
// before it (inputs precede their users): weights [N] (one per row of its first input, each
// >= 0) make it sum_i w_i loss_i / N, where loss_i is sample i's loss (its mean over its
// elements for mse, mae, huber, binary_cross_entropy): Keras's sample_weight, normalised by the
// batch size (not by the sum of the weights). The gradient nodes get the same weights (the
// *_grad builders' `weights`). Returns loss.
NodeId with_sample_weights(Graph& g, NodeId loss, NodeId weights);
NodeId reshape(Graph& g, NodeId x, const Shape& shape, std::string name = {});
NodeId flatten(Graph& g, NodeId x, std::string name = {});  // [N, ...] -> [N, inner]
NodeId sum_rows(Graph& g, NodeId x, std::string name = {});
NodeId sum(Graph& g, NodeId x, std::string name = {});
NodeId mean(Graph& g, NodeId x, std::string name = {});
// alpha * v broadcast to like's shape (v: [C] or a scalar); divide_by_count also divides by
// like's element count (the gradient of a mean, whose batch size is known only at run time).
NodeId broadcast_rows(Graph& g, NodeId v, NodeId like, float alpha, bool divide_by_count = false,
                      std::string name = {});

}  // namespace graphrun::ops
