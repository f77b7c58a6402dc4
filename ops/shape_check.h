// Small helpers the op builders share for their one-time checks.
#pragma once

#include <string>

#include "core/error.h"
#include "core/graph.h"

namespace graphrun::ops {

[[noreturn]] inline void shape_error(const Graph& g, std::string_view op, const std::string& what) {
  (void)g;
  throw Error(ErrorKind::Shape, std::string(op) + ": " + what);
}

inline std::string describe(const Graph& g, NodeId id) { return "'" + g.node(id).name + "' " + g.shape(id).str(); }

// Appends an op node with the given inputs and shape.
inline NodeId append_op(Graph& g, OpKind op, std::vector<NodeId> inputs, const Shape& shape, std::string name) {
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.shape = shape;
  n.name = std::move(name);
  return g.add(std::move(n));
}

}  // namespace graphrun::ops

namespace graphrun::ops {

// "<op> '<name>'", with the automatic name the node will get when name is empty.
std::string node_label(const Graph& g, const char* op, const std::string& name);
// The [N, out_channels, OH, OW] output of a window over x [N,C,H,W], after checking the window
// (stride, kernel and dilation >= 1, padding >= 0, kernel within the padded input).
Shape window_output_shape(const Graph& g, const char* op, const std::string& name, NodeId x, int64_t out_channels,
                          const Node::Window& w);

}  // namespace graphrun::ops
