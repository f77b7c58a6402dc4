#include "train/layer_builders.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>

#include "core/error.h"
#include "graphrun/plugin.h"
#include "io/checked_math.h"
#include "ops/conv.h"
#include "ops/layers.h"
#include "ops/ops.h"
#include "ops/window.h"

namespace graphrun::train {
namespace {

using io::LayerSpec;

// Per-sample values larger than this are refused before anything is sized from them.
constexpr uint64_t kMaxSampleElements = 1'000'000'000;

[[noreturn]] void shape_error(const std::string& what) { throw Error(ErrorKind::Shape, what); }

// A parameter of `dims`, its size checked (with the running total) before the graph holds it.
NodeId parameter(LayerContext& ctx, const std::string& name, std::initializer_list<int64_t> dims,
                 const Initializer& init, bool trainable) {
  std::vector<uint64_t> u(dims.begin(), dims.end());
  const auto n = io::checked_product(u, static_cast<uint64_t>(io::kModelMaxParameters));
  if (!n || ctx.parameters + static_cast<int64_t>(*n) > io::kModelMaxParameters) {
    throw Error(ErrorKind::BadInput, fmt::format("{} makes the network hold more than {} parameters, the limit", name,
                                                 io::kModelMaxParameters));
  }
  ctx.parameters += static_cast<int64_t>(*n);
  Shape s;
  for (int64_t d : dims) s.push_back(d);
  return ctx.graph.parameter(name, s, init, trainable);
}

NodeId activation(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  if (l.activation == "linear") {
    if (!l.activation_params.empty())
      throw Error(ErrorKind::BadInput, "activation_params: 'linear' takes no parameters");
    return x;
  }
  const LoadedActivation& act = ctx.plugins.activation(l.activation);
  std::vector<double> params =
      resolve_params(act.entry->params, act.entry->n_params, l.activation_params, "activation_params");
  return ops::activation(ctx.graph, x, act.entry, std::move(params), l.name + "." + l.activation);
}

NodeId dense(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  Graph& g = ctx.graph;
  if (g.shape(x).rank() != 2) {
    shape_error(
        fmt::format("dense: input {} per sample; expected a vector of features (add a \"flatten\" node or "
                    "layer before it)",
                    sample_shape(g, x)));
  }
  NodeId w = parameter(ctx, l.name + ".weight", {g.shape(x)[1], l.units}, l.init, l.trainable);
  NodeId y = ops::matmul(g, x, w, false, false, l.name + ".matmul");
  if (l.use_bias) {
    NodeId b = parameter(ctx, l.name + ".bias", {l.units}, l.bias_init, l.trainable);
    y = ops::add(g, y, b, l.name + ".add_bias");
  }
  return y;
}

NodeId add(LayerContext& ctx, const LayerSpec& l, std::span<const NodeId> in) {
  if (ctx.graph.shape(in[0]) != ctx.graph.shape(in[1])) {
    shape_error(fmt::format("add of {} and {}: expected two inputs of the same shape", sample_shape(ctx.graph, in[0]),
                            sample_shape(ctx.graph, in[1])));
  }
  return ops::add(ctx.graph, in[0], in[1], l.name);
}

// A per-sample shape with one -1 resolved against the input's element count.
NodeId reshape(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  const int64_t have = ctx.graph.shape(x).inner();
  int64_t known = 1;
  for (int64_t d : l.shape) known *= d == -1 ? 1 : d;  // each <= 1e8, at most 4: fits
  Shape s{Shape::kBatch};
  for (int64_t d : l.shape) s.push_back(d == -1 ? (known > 0 ? have / known : 0) : d);
  if (s.inner() != have) {
    shape_error(fmt::format("reshape of {} to [{}]: expected the same number of elements per sample ({})",
                            sample_shape(ctx.graph, x), fmt::join(l.shape, ","), have));
  }
  return ops::reshape(ctx.graph, x, s, l.name);
}

const Shape& image_input(const Graph& g, const LayerSpec& l, NodeId x) {
  if (g.shape(x).rank() != 4) {
    shape_error(
        fmt::format("{}: input {} per sample; expected [channels, height, width] (an input shape such as "
                    "[1, 28, 28], or a \"reshape\")",
                    l.op, sample_shape(g, x)));
  }
  return g.shape(x);
}

// The layer's window over input x: kernel (or pool size), strides, dilation, groups, padding.
Node::Window window(const LayerSpec& l, const Shape& x) {
  Node::Window w;
  for (int d = 0; d < 2; ++d) {
    w.kernel[d] = l.kernel[d];
    w.stride[d] = l.strides[d];
    w.dilation[d] = l.dilation[d];
  }
  std::copy(l.pad, l.pad + 4, w.pad);
  w.groups = l.groups;
  return l.same_padding ? ops::same_padding(x[2], x[3], w) : w;
}

NodeId conv2d(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  Graph& g = ctx.graph;
  const Shape& sx = image_input(g, l, x);
  const Node::Window w = window(l, sx);
  if (sx[1] % l.groups != 0) {
    shape_error(fmt::format("conv2d: input {} has {} channels; expected a multiple of groups ({})", sample_shape(g, x),
                            sx[1], l.groups));
  }
  // The output's size is checked before the op's shape rule multiplies it out.
  const uint64_t out[3] = {
      static_cast<uint64_t>(l.filters),
      static_cast<uint64_t>(std::max<int64_t>(
          0, ops::window_output_size(sx[2], w.kernel[0], w.stride[0], w.dilation[0], w.pad[0], w.pad[2]))),
      static_cast<uint64_t>(std::max<int64_t>(
          0, ops::window_output_size(sx[3], w.kernel[1], w.stride[1], w.dilation[1], w.pad[1], w.pad[3])))};
  if (!io::checked_product(out, kMaxSampleElements)) {
    shape_error(fmt::format("conv2d: the output holds more than {} elements per sample", kMaxSampleElements));
  }
  NodeId weight =
      parameter(ctx, l.name + ".weight", {l.filters, sx[1] / l.groups, l.kernel[0], l.kernel[1]}, l.init, l.trainable);
  NodeId y = ops::conv2d(g, x, weight, w, l.name + ".conv2d");
  if (l.use_bias) {
    NodeId b = parameter(ctx, l.name + ".bias", {l.filters}, l.bias_init, l.trainable);
    y = ops::add_channels(g, y, b, l.name + ".add_bias");
  }
  return y;
}

NodeId pool(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  const Node::Window w = window(l, image_input(ctx.graph, l, x));
  return l.op == "max_pool2d" ? ops::max_pool2d(ctx.graph, x, w, l.name) : ops::avg_pool2d(ctx.graph, x, w, l.name);
}

// An axis counting the batch dim (negative: from the end) as a non-negative one, or an error.
int32_t resolve_axis(const Graph& g, const LayerSpec& l, NodeId x) {
  const int rank = g.shape(x).rank();
  const int32_t axis = l.axis < 0 ? l.axis + rank : l.axis;
  if (axis < 1 || axis >= rank) {
    shape_error(fmt::format("{}: axis {} does not fit input {} per sample; expected 1 to {} (or -1 to -{})", l.op,
                            l.axis, sample_shape(g, x), rank - 1, rank - 1));
  }
  return axis;
}

NodeId batch_norm(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  if (ctx.graph.shape(x).rank() < 2) shape_error("batch_norm: expected an input with channels or features");
  ctx.parameters += 4 * ctx.graph.shape(x)[1];  // gamma, beta, running mean and variance: bounded by the input
  return ops::batch_norm(ctx.graph, x, l.name, static_cast<float>(l.momentum), static_cast<float>(l.epsilon),
                         l.trainable);
}

NodeId layer_norm(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  const int32_t axis = resolve_axis(ctx.graph, l, x);
  int64_t n = 1;
  for (int i = axis; i < ctx.graph.shape(x).rank(); ++i) n *= ctx.graph.shape(x)[i];
  ctx.parameters += 2 * n;  // gamma and beta: bounded by the input
  return ops::layer_norm(ctx.graph, x, l.name, axis, static_cast<float>(l.epsilon), l.trainable);
}

NodeId concat(LayerContext& ctx, const LayerSpec& l, std::span<const NodeId> in) {
  const Graph& g = ctx.graph;
  const int32_t axis = resolve_axis(g, l, in[0]);
  for (NodeId x : in.subspan(1)) {
    bool fits = g.shape(x).rank() == g.shape(in[0]).rank();
    for (int i = 1; fits && i < g.shape(x).rank(); ++i) fits = i == axis || g.shape(x)[i] == g.shape(in[0])[i];
    if (!fits) {
      shape_error(fmt::format("concat of {} and {} along axis {}: expected the same shape but along the axis",
                              sample_shape(g, in[0]), sample_shape(g, x), l.axis));
    }
  }
  return ops::concat(ctx.graph, std::vector<NodeId>(in.begin(), in.end()), axis, l.name);
}

}  // namespace

std::string sample_shape(const Graph& g, NodeId id) {
  const Shape& s = g.shape(id);
  return fmt::format("[{}]", fmt::join(s.begin() + 1, s.end(), ","));
}

NodeId build_layer(LayerContext& ctx, const LayerSpec& l, std::span<const NodeId> in, bool skip_activation) {
  NodeId y = kNoNode;
  bool has_activation = false;
  if (l.op == "dense") {
    y = dense(ctx, l, in[0]);
    has_activation = true;
  } else if (l.op == "conv2d") {
    y = conv2d(ctx, l, in[0]);
    has_activation = true;
  } else if (l.op == "max_pool2d" || l.op == "avg_pool2d") {
    y = pool(ctx, l, in[0]);
  } else if (l.op == "global_avg_pool") {
    image_input(ctx.graph, l, in[0]);
    y = ops::global_avg_pool(ctx.graph, in[0], l.name);
  } else if (l.op == "batch_norm") {
    y = batch_norm(ctx, l, in[0]);
  } else if (l.op == "layer_norm") {
    y = layer_norm(ctx, l, in[0]);
  } else if (l.op == "dropout") {
    y = ops::dropout(ctx.graph, in[0], static_cast<float>(l.rate), l.name);
  } else if (l.op == "concat") {
    y = concat(ctx, l, in);
  } else if (l.op == "flatten") {
    y = ops::flatten(ctx.graph, in[0], l.name);
  } else if (l.op == "reshape") {
    y = reshape(ctx, l, in[0]);
  } else if (l.op == "activation") {
    y = in[0];
    has_activation = true;
  } else if (l.op == "add") {
    y = add(ctx, l, in);
  } else {
    throw Error(ErrorKind::Internal, fmt::format("unknown op \"{}\"", l.op));  // the reader knows every kLayerOps
  }
  if (has_activation && !skip_activation) y = activation(ctx, l, y);
  if (static_cast<uint64_t>(ctx.graph.shape(y).inner()) > kMaxSampleElements) {
    shape_error(fmt::format("gives {} per sample: expected at most {} elements", sample_shape(ctx.graph, y),
                            kMaxSampleElements));
  }
  return y;
}

}  // namespace graphrun::train
