// Per-op rules that are not shape checks: the gradient (as more graph) and the FLOP count.
// One table, filled by a switch over the op list in op_rules.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace graphrun::ops {

// Collects gradient contributions while autodiff walks the graph backwards.
class GradientBuilder {
 public:
  GradientBuilder(Graph& g, std::vector<bool> needs) : graph(g), needs_(std::move(needs)) {}
  Graph& graph;
  // Whether node id's gradient is wanted (it lies between a wrt node and the loss).
  bool needs(NodeId id) const { return needs_[static_cast<size_t>(id)]; }
  // Adds a contribution to id's gradient; contributions from several uses are summed.
  void contribute(NodeId id, NodeId grad);
  // The summed gradient of id (kNoNode if none); sums with add nodes on first call.
  NodeId total(NodeId id);

 private:
  std::vector<bool> needs_;
  std::vector<std::vector<NodeId>> parts_;
};

// Appends the vector-Jacobian product of node `id` given its output gradient `dy`.
void append_gradient(GradientBuilder& gb, NodeId id, NodeId dy);
// Floating-point operations of one run of the node at the given batch size.
double flops(const Graph& g, NodeId id, int64_t batch);

}  // namespace graphrun::ops
