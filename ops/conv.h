// Builders of the image ops (NCHW): conv2d, its bias (add_channels), the pools, and their
// gradient ops. Each checks shapes and the window once; errors are Error(Shape) naming the op,
// the node and what was expected (a kernel larger than its padded input, stride 0, channels
// not divisible by groups, ...).
//
//   NodeId x = g.input("image", {Shape::kBatch, 1, 28, 28});
//   NodeId w = g.parameter("conv1.weight", {32, 1, 3, 3}, Initializer::glorot_uniform());
//   Node::Window win;
//   win.kernel[0] = win.kernel[1] = 3;
//   NodeId y = ops::conv2d(g, x, w, ops::same_padding(28, 28, win), "conv1");  // [N,32,28,28]
#pragma once

#include <string>

#include "core/graph.h"

namespace graphrun::ops {

// The window with pad[] set for "same" output size ceil(in / stride) (Keras "same", ONNX
// SAME_UPPER: an odd total puts the extra row/column at the bottom/right).
Node::Window same_padding(int64_t in_h, int64_t in_w, Node::Window window);

// x [N,C,H,W] * w [O, C/groups, kh, kw] -> [N,O,OH,OW]; window.kernel must equal w's kh, kw.
NodeId conv2d(Graph& g, NodeId x, NodeId w, const Node::Window& window, std::string name = {});
// d x from (dy, w), x_shape the convolution's input shape; d w from (x, dy).
NodeId conv2d_grad_input(Graph& g, NodeId dy, NodeId w, const Shape& x_shape, const Node::Window& window,
                         std::string name = {});
NodeId conv2d_grad_weight(Graph& g, NodeId x, NodeId dy, const Shape& w_shape, const Node::Window& window,
                          std::string name = {});
// x [N,C,...] + b [C] (b broadcast over every dim but 1: a convolution's bias).
NodeId add_channels(Graph& g, NodeId x, NodeId b, std::string name = {});
// [N,C,...] -> [C], the sum over every dim but 1 (add_channels' bias gradient).
NodeId sum_channels(Graph& g, NodeId x, std::string name = {});

// Pools: window.kernel, stride and pad (each pad smaller than the kernel); dilation and groups
// must be 1. max_pool2d ignores padding; avg_pool2d counts it in the divisor only with
// window.count_include_pad.
NodeId max_pool2d(Graph& g, NodeId x, const Node::Window& window, std::string name = {});
NodeId avg_pool2d(Graph& g, NodeId x, const Node::Window& window, std::string name = {});
NodeId max_pool2d_grad(Graph& g, NodeId x, NodeId dy, const Node::Window& window, std::string name = {});
NodeId avg_pool2d_grad(Graph& g, NodeId dy, const Shape& x_shape, const Node::Window& window, std::string name = {});
// [N,C,H,W] -> [N,C,1,1], the mean of each plane; its gradient spreads dy / (H W) back.
NodeId global_avg_pool(Graph& g, NodeId x, std::string name = {});
NodeId global_avg_pool_grad(Graph& g, NodeId dy, const Shape& x_shape, std::string name = {});

}  // namespace graphrun::ops
