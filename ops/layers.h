// Builders of the normalisation, dropout and joining layers (ops/norm.cc, ops/dropout.cc,
// ops/concat.cc). Same contract as ops/ops.h: shapes and attributes are checked here, once;
// errors are graphrun::Error (Shape or BadInput) naming the op, the shapes and what was expected.
//
// `axis` counts the batch dimension (1 = channels of [N,C,H,W], features of [N,F]); a negative
// axis counts from the end (-1: the last dimension).
//
// Modes (CompileOptions::training): batch_norm and dropout behave differently in training and
// in inference programs; the other ops here are the same in both.
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"

namespace graphrun::ops {

// Batch normalisation per channel (dim 1): x [N, C, ...] (rank >= 2), gamma, beta,
// running_mean, running_var [C] (the last two: non-trainable parameters, the layer's state).
// Training: y = gamma (x - mean) / sqrt(var + epsilon) + beta with the batch's mean and
// (biased) variance over all dims but 1, and the running statistics become
// momentum * running + (1 - momentum) * batch (the variance unbiased, as PyTorch keeps it).
// Inference: the running statistics in place of the batch's.
NodeId batch_norm(Graph& g, NodeId x, NodeId gamma, NodeId beta, NodeId running_mean, NodeId running_var,
                  float momentum = 0.9f, float epsilon = 1e-5f, std::string name = {});
// The same with its four parameters created: <name>.gamma (ones), <name>.beta (zeros),
// <name>.running_mean (zeros), <name>.running_var (ones); gamma and beta are trainable unless
// `trainable` is false. name must not be empty.
NodeId batch_norm(Graph& g, NodeId x, const std::string& name, float momentum = 0.9f, float epsilon = 1e-5f,
                  bool trainable = true);
// Its gradients (nodes the gradient rule appends; exposed for tests).
NodeId batch_norm_grad(Graph& g, NodeId forward, NodeId dy, std::string name = {});
NodeId batch_norm_grad_params(Graph& g, NodeId forward, NodeId dy, std::string name = {});

// Layer normalisation over dims [axis, rank) of x (axis >= 1 after counting from the end):
// y = gamma (x - mean) / sqrt(var + epsilon) + beta, gamma and beta of shape x.shape[axis:].
// The same in both modes.
NodeId layer_norm(Graph& g, NodeId x, NodeId gamma, NodeId beta, int32_t axis = -1, float epsilon = 1e-5f,
                  std::string name = {});
// With <name>.gamma (ones) and <name>.beta (zeros) created.
NodeId layer_norm(Graph& g, NodeId x, const std::string& name, int32_t axis = -1, float epsilon = 1e-5f,
                  bool trainable = true);
NodeId layer_norm_grad(Graph& g, NodeId forward, NodeId dy, std::string name = {});
NodeId layer_norm_grad_params(Graph& g, NodeId forward, NodeId dy, std::string name = {});

// Inverted dropout, rate in [0, 1): training keeps each element with probability 1 - rate and
// scales it by 1 / (1 - rate); inference passes x through. The mask is keyed by (run seed,
// step, stream, element index), core/run_state.h; stream 0 takes a hash of the node's name.
NodeId dropout(Graph& g, NodeId x, float rate, std::string name = {}, uint64_t stream = 0);

// The inputs joined along axis (>= 1 for batched inputs; 0 allowed for unbatched ones): all
// dims but axis equal.
NodeId concat(Graph& g, const std::vector<NodeId>& inputs, int32_t axis = 1, std::string name = {});
// x[..., offset : offset + size, ...] along axis. Concat's gradient; slice itself has none.
NodeId slice(Graph& g, NodeId x, int32_t axis, int64_t offset, int64_t size, std::string name = {});

}  // namespace graphrun::ops
