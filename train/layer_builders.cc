#include "train/layer_builders.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "graphrun/plugin.h"
#include "io/checked_math.h"
#include "ops/ops.h"

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
    if (!l.activation_params.empty()) throw Error(ErrorKind::BadInput, "activation_params: 'linear' takes no parameters");
    return x;
  }
  const LoadedActivation& act = ctx.plugins.activation(l.activation);
  std::vector<double> params = resolve_params(act.entry->params, act.entry->n_params, l.activation_params, "activation_params");
  return ops::activation(ctx.graph, x, act.entry, std::move(params), l.name + "." + l.activation);
}

NodeId dense(LayerContext& ctx, const LayerSpec& l, NodeId x) {
  Graph& g = ctx.graph;
  if (g.shape(x).rank() != 2) {
    shape_error(fmt::format("dense: input {} per sample; expected a vector of features (add a \"flatten\" node or "
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

[[noreturn]] void not_built_in(const LayerSpec& l) {
  throw Error(ErrorKind::BadInput, fmt::format("op \"{}\" is not available in this build of graphrun", l.op));
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
    not_built_in(l);
  }
  if (has_activation && !skip_activation) y = activation(ctx, l, y);
  if (static_cast<uint64_t>(ctx.graph.shape(y).inner()) > kMaxSampleElements) {
    shape_error(fmt::format("gives {} per sample: expected at most {} elements", sample_shape(ctx.graph, y),
                            kMaxSampleElements));
  }
  return y;
}

}  // namespace graphrun::train
