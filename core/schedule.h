// Compile stage 1, the schedule: which nodes a Program runs and in what order.
//
// The nodes the requested outputs need, in index order (a valid topological order: a node is
// appended after its inputs). Inputs, parameters and constants are values, not steps; a
// reshape is a view of its input (it shares its storage root) and no step either, and so is a
// dropout that drops nothing in this mode (inference, or rate 0).
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace graphrun {

struct Schedule {
  std::vector<bool> needed;     // by node: an output needs its value
  std::vector<bool> is_output;  // by node: readable after run()
  std::vector<int32_t> step;    // by node: its position in `order`, -1 when it is no step
  std::vector<NodeId> root;     // by node: the node whose buffer holds its value
  std::vector<NodeId> order;    // the steps, in run order
  bool training = false;        // the mode it was made for (which nodes are views)
};

// Whether the node is a view of its first input in this mode (shares its storage, runs nothing).
bool is_view(const Node& node, bool training);

Schedule schedule_nodes(const Graph& g, const std::vector<NodeId>& outputs, bool training);

}  // namespace graphrun
