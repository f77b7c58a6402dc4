// max_pool2d, avg_pool2d, global_avg_pool and their gradient ops: shape rules, gradient rules
// and FLOP counts.
#include "ops/conv.h"
#include "ops/op_rules.h"
#include "ops/shape_check.h"

namespace graphrun::ops {
namespace {

Shape pool_shape(const Graph& g, const char* op, const std::string& name, NodeId x, const Node::Window& w) {
  const std::string where = node_label(g, op, name);
  if (w.dilation[0] != 1 || w.dilation[1] != 1) shape_error(g, where, "pools take no dilation");
  if (w.groups != 1) shape_error(g, where, "pools take no groups");
  for (int d = 0; d < 4; ++d) {
    if (w.pad[d] >= w.kernel[d % 2] && w.kernel[d % 2] >= 1) {
      shape_error(g, where,
                  "padding " + std::to_string(w.pad[d]) + " must be smaller than the kernel " +
                      std::to_string(w.kernel[d % 2]) + " (a window of padding alone has no value)");
    }
  }
  const Shape& sx = g.shape(x);
  return window_output_shape(g, op, name, x, sx.rank() == 4 ? sx[1] : 0, w);
}

NodeId pool(Graph& g, OpKind op, std::vector<NodeId> inputs, const Shape& shape, const Node::Window& w,
            std::string name) {
  NodeId id = append_op(g, op, std::move(inputs), shape, std::move(name));
  g.mutable_node(id).window = w;
  return id;
}

}  // namespace

NodeId max_pool2d(Graph& g, NodeId x, const Node::Window& window, std::string name) {
  const Shape out = pool_shape(g, "max_pool2d", name, x, window);
  return pool(g, OpKind::MaxPool2d, {x}, out, window, std::move(name));
}

NodeId avg_pool2d(Graph& g, NodeId x, const Node::Window& window, std::string name) {
  const Shape out = pool_shape(g, "avg_pool2d", name, x, window);
  return pool(g, OpKind::AvgPool2d, {x}, out, window, std::move(name));
}

NodeId max_pool2d_grad(Graph& g, NodeId x, NodeId dy, const Node::Window& window, std::string name) {
  return pool(g, OpKind::MaxPool2dGrad, {x, dy}, g.shape(x), window, std::move(name));
}

NodeId avg_pool2d_grad(Graph& g, NodeId dy, const Shape& x_shape, const Node::Window& window, std::string name) {
  return pool(g, OpKind::AvgPool2dGrad, {dy}, x_shape, window, std::move(name));
}

NodeId global_avg_pool(Graph& g, NodeId x, std::string name) {
  const Shape& sx = g.shape(x);
  if (sx.rank() != 4) {
    shape_error(g, node_label(g, "global_avg_pool", name), "needs an [N,C,H,W] input, got " + describe(g, x));
  }
  return append_op(g, OpKind::GlobalAvgPool, {x}, Shape{sx[0], sx[1], 1, 1}, std::move(name));
}

NodeId global_avg_pool_grad(Graph& g, NodeId dy, const Shape& x_shape, std::string name) {
  return append_op(g, OpKind::GlobalAvgPoolGrad, {dy}, x_shape, std::move(name));
}

void max_pool2d_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0];
  const Node::Window w = g.node(id).window;
  if (gb.needs(x)) gb.contribute(x, max_pool2d_grad(g, x, dy, w));
}

void avg_pool2d_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0];
  const Node::Window w = g.node(id).window;
  if (gb.needs(x)) gb.contribute(x, avg_pool2d_grad(g, dy, g.shape(x), w));
}

void global_avg_pool_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, global_avg_pool_grad(g, dy, g.shape(x)));
}

// One comparison or add per window element read.
double pool_flops(const Graph& g, NodeId id, int64_t batch) {
  const Node& n = g.node(id);
  const bool forward = n.op == OpKind::MaxPool2d || n.op == OpKind::AvgPool2d;
  const Shape y = forward ? n.shape.resolved(batch) : g.shape(n.inputs.back()).resolved(batch);
  return static_cast<double>(y.numel()) * n.window.kernel[0] * n.window.kernel[1];
}

}  // namespace graphrun::ops
