// Reverse-mode autodiff: extends a graph with its own backward pass.
#pragma once

#include <vector>

#include "core/graph.h"

namespace graphrun::ops {

// Appends to g the nodes computing d loss / d w for every w in wrt, and returns them in the
// same order. loss must be a scalar. Gradients of a value used twice are summed. Nodes that
// do not lead from a wrt node to the loss get no backward nodes (frozen layers cost nothing).
// A wrt node the loss does not depend on gets a zero constant.
std::vector<NodeId> gradients(Graph& g, NodeId loss, const std::vector<NodeId>& wrt);

}  // namespace graphrun::ops
