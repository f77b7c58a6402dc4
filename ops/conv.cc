// conv2d, its gradient ops and its bias (add_channels / sum_channels): shape rules, gradient
// rules and FLOP counts. The window checks shared with the pools are here too.
#include "ops/conv.h"

#include <algorithm>

#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"
#include "ops/window.h"

namespace graphrun::ops {

std::string node_label(const Graph& g, const char* op, const std::string& name) {
  return std::string(op) + " '" + (name.empty() ? std::string(op) + "_" + std::to_string(g.size()) : name) + "'";
}

Shape window_output_shape(const Graph& g, const char* op, const std::string& name, NodeId x, int64_t out_channels,
                          const Node::Window& w) {
  const std::string where = node_label(g, op, name);
  const Shape& sx = g.shape(x);
  if (sx.rank() != 4) shape_error(g, where, "needs an [N,C,H,W] input, got " + describe(g, x));
  for (int d = 0; d < 2; ++d) {
    const char* dim = d == 0 ? "height" : "width";
    if (w.stride[d] < 1)
      shape_error(g, where, std::string("stride ") + dim + " must be at least 1, got " + std::to_string(w.stride[d]));
    if (w.kernel[d] < 1)
      shape_error(g, where, std::string("kernel ") + dim + " must be at least 1, got " + std::to_string(w.kernel[d]));
    if (w.dilation[d] < 1) {
      shape_error(g, where,
                  std::string("dilation ") + dim + " must be at least 1, got " + std::to_string(w.dilation[d]));
    }
    if (w.pad[d] < 0 || w.pad[d + 2] < 0) shape_error(g, where, std::string("padding of the ") + dim + " is negative");
  }
  const int64_t oh = window_output_size(sx[2], w.kernel[0], w.stride[0], w.dilation[0], w.pad[0], w.pad[2]);
  const int64_t ow = window_output_size(sx[3], w.kernel[1], w.stride[1], w.dilation[1], w.pad[1], w.pad[3]);
  if (oh <= 0 || ow <= 0) {
    shape_error(g, where,
                "kernel " + std::to_string(w.kernel[0]) + "x" + std::to_string(w.kernel[1]) + " (dilation " +
                    std::to_string(w.dilation[0]) + "x" + std::to_string(w.dilation[1]) +
                    ") is larger than its padded input " + std::to_string(sx[2] + w.pad[0] + w.pad[2]) + "x" +
                    std::to_string(sx[3] + w.pad[1] + w.pad[3]) + " of " + describe(g, x));
  }
  return Shape{sx[0], out_channels, oh, ow};
}

Node::Window same_padding(int64_t in_h, int64_t in_w, Node::Window window) {
  const int64_t in[2] = {in_h, in_w};
  for (int d = 0; d < 2; ++d) {
    const int64_t stride = std::max<int32_t>(window.stride[d], 1);
    const int64_t out = (in[d] + stride - 1) / stride;
    const int64_t span = int64_t{window.dilation[d]} * (window.kernel[d] - 1) + 1;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + span - in[d]);
    window.pad[d] = static_cast<int32_t>(total / 2);
    window.pad[d + 2] = static_cast<int32_t>(total - total / 2);
  }
  return window;
}

NodeId conv2d(Graph& g, NodeId x, NodeId w, const Node::Window& window, std::string name) {
  const std::string where = node_label(g, "conv2d", name);
  const Shape& sx = g.shape(x);
  const Shape& sw = g.shape(w);
  if (sw.rank() != 4) shape_error(g, where, "needs a weight [O, C/groups, kh, kw], got " + describe(g, w));
  if (sx.rank() == 4) {
    const int64_t groups = window.groups;
    if (groups < 1) shape_error(g, where, "groups must be at least 1, got " + std::to_string(groups));
    if (sx[1] % groups != 0 || sw[0] % groups != 0) {
      shape_error(g, where,
                  "input channels " + std::to_string(sx[1]) + " and filters " + std::to_string(sw[0]) +
                      " must both be divisible by groups " + std::to_string(groups));
    }
    if (sw[1] != sx[1] / groups) {
      shape_error(g, where,
                  "weight " + describe(g, w) + " needs " + std::to_string(sx[1] / groups) +
                      " input channels per group for input " + describe(g, x));
    }
  }
  if (sw[2] != window.kernel[0] || sw[3] != window.kernel[1]) {
    shape_error(g, where,
                "weight " + describe(g, w) + " does not match kernel " + std::to_string(window.kernel[0]) + "x" +
                    std::to_string(window.kernel[1]));
  }
  const Shape out = window_output_shape(g, "conv2d", name, x, sw[0], window);
  NodeId id = append_op(g, OpKind::Conv2d, {x, w}, out, std::move(name));
  g.mutable_node(id).window = window;
  return id;
}

NodeId conv2d_grad_input(Graph& g, NodeId dy, NodeId w, const Shape& x_shape, const Node::Window& window,
                         std::string name) {
  NodeId id = append_op(g, OpKind::Conv2dGradInput, {dy, w}, x_shape, std::move(name));
  g.mutable_node(id).window = window;
  return id;
}

NodeId conv2d_grad_weight(Graph& g, NodeId x, NodeId dy, const Shape& w_shape, const Node::Window& window,
                          std::string name) {
  NodeId id = append_op(g, OpKind::Conv2dGradWeight, {x, dy}, w_shape, std::move(name));
  g.mutable_node(id).window = window;
  return id;
}

NodeId add_channels(Graph& g, NodeId x, NodeId b, std::string name) {
  const Shape& sx = g.shape(x);
  const Shape& sb = g.shape(b);
  if (sx.rank() < 2 || sb.rank() != 1 || sb[0] != sx[1]) {
    shape_error(g, node_label(g, "add_channels", name),
                "needs x [N,C,...] and a bias [C], got " + describe(g, x) + " and " + describe(g, b));
  }
  return append_op(g, OpKind::AddChannels, {x, b}, sx, std::move(name));
}

NodeId sum_channels(Graph& g, NodeId x, std::string name) {
  const Shape& sx = g.shape(x);
  if (sx.rank() < 2) shape_error(g, node_label(g, "sum_channels", name), "needs [N,C,...], got " + describe(g, x));
  return append_op(g, OpKind::SumChannels, {x}, Shape{sx[1]}, std::move(name));
}

void conv2d_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const Node& n = g.node(id);
  const NodeId x = n.inputs[0], w = n.inputs[1];
  const Node::Window window = n.window;
  if (gb.needs(x)) gb.contribute(x, conv2d_grad_input(g, dy, w, g.shape(x), window));
  if (gb.needs(w)) gb.contribute(w, conv2d_grad_weight(g, x, dy, g.shape(w), window));
}

void add_channels_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0], b = g.node(id).inputs[1];
  if (gb.needs(x)) gb.contribute(x, dy);
  if (gb.needs(b)) gb.contribute(b, sum_channels(g, dy));
}

// 2 flops per multiply-add: every output element of a conv (or every weight gradient element
// over batch x output plane, or every input gradient product) sums C/groups x kh x kw products.
double conv2d_flops(const Graph& g, NodeId id, int64_t batch) {
  const Node& n = g.node(id);
  const bool forward = n.op == OpKind::Conv2d;
  const Shape y =
      forward ? n.shape.resolved(batch) : g.shape(n.inputs[n.op == OpKind::Conv2dGradInput ? 0 : 1]).resolved(batch);
  const Shape w = n.op == OpKind::Conv2dGradWeight ? n.shape : g.shape(n.inputs[1]);
  return 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w[1] * w[2] * w[3]);
}

}  // namespace graphrun::ops
