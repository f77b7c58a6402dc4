// Batch norm, layer norm and concat on oneDNN 2.6 primitives (plain layouts, the arena's
// buffers as they are). Batch norm forward: inference with the running statistics as oneDNN's
// global statistics; training with the batch's, which the kernel then folds into the running
// statistics (oneDNN does not keep running averages). Layer norm forward over [rows, cols].
// Concat of [outer, d_i, inner] views along dim 1 (any axis and rank).
// The gradient ops decline: oneDNN's backward normalization reads the statistics its forward
// saved, which graphrun's gradient ops recompute from x instead (Highway runs them).
#pragma once

#include <memory>
#include <string>

#include "core/backend.h"

namespace graphrun::onednn {

// A kernel for BatchNorm, LayerNorm or Concat, or nullptr with *why_not set (their gradients,
// Slice and Dropout always decline).
std::unique_ptr<Kernel> prepare_layer_op(const NodeContext& c, std::string* why_not);

}  // namespace graphrun::onednn
