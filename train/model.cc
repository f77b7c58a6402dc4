#include "train/model.h"

#include <fmt/format.h>
#include <map>

#include "core/error.h"
#include "graphrun/plugin.h"
#include "ops/layers.h"
#include "ops/ops.h"
#include "train/layer_builders.h"

namespace graphrun::train {

Loss parse_loss(std::string_view name, std::string_view context) {
  if (name == "cross_entropy" || name == "sparse_categorical_crossentropy" || name == "categorical_crossentropy") {
    return Loss::CrossEntropy;
  }
  if (name == "mse" || name == "mean_squared_error") return Loss::MeanSquaredError;
  if (name == "mae" || name == "mean_absolute_error") return Loss::MeanAbsoluteError;
  if (name == "huber") return Loss::Huber;
  if (name == "binary_cross_entropy" || name == "binary_crossentropy") return Loss::BinaryCrossEntropy;
  throw Error(ErrorKind::BadInput, std::string(context) + ": unknown loss '" + std::string(name) +
                                       "'; known: cross_entropy (sparse_categorical_crossentropy), mse, mae, huber, "
                                       "binary_cross_entropy");
}

const char* to_string(Loss loss) {
  switch (loss) {
    case Loss::CrossEntropy:
      return "cross_entropy";
    case Loss::MeanSquaredError:
      return "mse";
    case Loss::MeanAbsoluteError:
      return "mae";
    case Loss::Huber:
      return "huber";
    case Loss::BinaryCrossEntropy:
      return "binary_cross_entropy";
  }
  return "?";
}

DenseLayer dense_layer(std::string name, int64_t units, std::string activation) {
  DenseLayer layer;
  layer.name = std::move(name);
  layer.units = units;
  layer.activation = std::move(activation);
  return layer;
}

namespace {

// The network's inputs as views of the features row [N, D]: one input is the row itself,
// reshaped to its per-sample shape; several are consecutive column ranges of it.
void build_inputs(const NetworkSpec& spec, Model& m, std::map<std::string, NodeId>& values) {
  Graph& g = m.graph;
  int64_t total = 0;
  for (const io::InputSpec& in : spec.inputs) {
    int64_t n = 1;
    for (int64_t d : in.shape) n *= d;
    total += n;
  }
  const bool one_flat = spec.inputs.size() == 1 && spec.inputs[0].shape.size() == 1;
  m.features = g.input(one_flat ? spec.inputs[0].name : "features", {Shape::kBatch, total});
  int64_t offset = 0;
  for (const io::InputSpec& in : spec.inputs) {
    NodeId x = m.features;
    int64_t n = 1;
    for (int64_t d : in.shape) n *= d;
    if (spec.inputs.size() > 1) x = ops::slice(g, x, 1, offset, n, in.name + ".columns");
    offset += n;
    if (in.shape.size() > 1) {
      Shape s{Shape::kBatch};
      for (int64_t d : in.shape) s.push_back(d);
      x = ops::reshape(g, x, s, in.name == g.node(m.features).name ? in.name + ".reshape" : in.name);
    }
    values[in.name] = x;
  }
}

// The per-layer weight penalties (l1 sum |W| + l2 sum W^2 of "<layer>.weight"), summed; kNoNode
// without any. |W| is relu(W) + relu(-W): its gradient is sign(W) with no new op.
NodeId weight_penalty(const NetworkSpec& spec, Graph& g, const PluginRegistry& plugins) {
  NodeId total = kNoNode;
  for (const Layer& l : spec.nodes) {
    if (l.l1 == 0 && l.l2 == 0) continue;
    const NodeId w = g.find(l.name + ".weight");
    if (w == kNoNode) continue;  // the reader allows l1/l2 only on layers with weights
    auto add = [&](NodeId term) { total = total == kNoNode ? term : ops::add(g, total, term); };
    if (l.l2 > 0) add(ops::scale(g, ops::sum(g, ops::mul(g, w, w)), static_cast<float>(l.l2), l.name + ".l2"));
    if (l.l1 > 0) {
      const graphrun_activation* relu = plugins.activation("relu").entry;
      const NodeId abs =
          ops::add(g, ops::activation(g, w, relu, {}), ops::activation(g, ops::scale(g, w, -1.0f), relu, {}));
      add(ops::scale(g, ops::sum(g, abs), static_cast<float>(l.l1), l.name + ".l1"));
    }
  }
  return total;
}

}  // namespace

Model build_network(const NetworkSpec& spec, const PluginRegistry& plugins) {
  if (spec.inputs.empty()) throw Error(ErrorKind::BadInput, spec.context + ": a network needs an input");
  if (spec.nodes.empty() || spec.outputs.empty()) {
    throw Error(ErrorKind::BadInput, spec.context + ": a network needs at least one node and an output");
  }
  Model m;
  Graph& g = m.graph;
  m.loss_kind = spec.loss;
  std::map<std::string, NodeId> values;
  build_inputs(spec, m, values);
  LayerContext ctx{g, plugins};
  NodeId logits = kNoNode;
  for (const Layer& l : spec.nodes) {
    const std::string where = fmt::format("{}: {} (\"{}\")", spec.context, l.where.empty() ? "node" : l.where, l.name);
    std::vector<NodeId> ins;
    for (const std::string& name : l.inputs) {
      auto it = values.find(name);
      if (it == values.end()) throw Error(ErrorKind::BadInput, fmt::format("{}: unknown input \"{}\"", where, name));
      ins.push_back(it->second);
    }
    const bool output = l.name == spec.outputs[0];
    const bool fuse_softmax = output && spec.loss == Loss::CrossEntropy;
    const bool fuse_sigmoid = output && spec.loss == Loss::BinaryCrossEntropy;
    if (fuse_softmax && l.activation != "softmax" && l.activation != "linear") {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: activation: cross-entropy needs a softmax (or linear) output, got '{}'", where,
                              l.activation));
    }
    if (fuse_sigmoid && l.activation != "sigmoid" && l.activation != "linear") {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: activation: binary_cross_entropy needs a sigmoid (or linear) output, got '{}'",
                              where, l.activation));
    }
    try {
      NodeId y = build_layer(ctx, l, ins, fuse_softmax || fuse_sigmoid);
      if (fuse_softmax || fuse_sigmoid) {
        if (g.shape(y).rank() != 2) {
          throw Error(
              ErrorKind::Shape,
              fmt::format("gives {} per sample; expected a vector of class scores (flatten it)", sample_shape(g, y)));
        }
        logits = y;
        y = fuse_softmax ? ops::softmax(g, y, l.name + ".softmax")
                         : ops::activation(g, y, plugins.activation("sigmoid").entry, {}, l.name + ".sigmoid");
      }
      values[l.name] = y;
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
    }
  }
  m.output = values.at(spec.outputs[0]);
  if (g.shape(m.output).rank() != 2) {
    throw Error(ErrorKind::Shape, fmt::format("{}: output \"{}\" gives {} per sample; expected a vector", spec.context,
                                              spec.outputs[0], sample_shape(g, m.output)));
  }
  const int64_t classes = g.shape(m.output)[1];
  m.logits = logits;
  const NodeId penalty = weight_penalty(spec, g, plugins);
  // The loss node is "loss"; with penalties that is their sum with the data term.
  const std::string data_loss = penalty == kNoNode ? "loss" : "data_loss";
  // One mechanism for both: a sample's weight times its class's weight, fed per batch (an input
  // made before the loss node, which reads it).
  m.class_weights = spec.class_weights;
  if (spec.sample_weights || !m.class_weights.empty()) m.sample_weights = g.input("sample_weights", {Shape::kBatch});
  if (spec.loss == Loss::CrossEntropy) {
    // Label smoothing needs dense targets (1 - s) one-hot + s / C; class weights are sample weights.
    m.sparse_labels = spec.label_smoothing == 0;
    m.label_smoothing = spec.label_smoothing;
    if (!spec.class_weights.empty() && static_cast<int64_t>(spec.class_weights.size()) != classes) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: loss.class_weights: {} weights for {} classes", spec.context,
                                                   spec.class_weights.size(), classes));
    }
    m.labels = m.sparse_labels ? g.input("labels", {Shape::kBatch}) : g.input("labels", {Shape::kBatch, classes});
    m.loss = ops::softmax_cross_entropy(g, logits, m.labels, m.sparse_labels, data_loss);
  } else {
    if (!spec.class_weights.empty() &&
        (spec.loss != Loss::BinaryCrossEntropy || classes != 1 || spec.class_weights.size() != 2)) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: loss.class_weights: [w0, w1] is for binary_cross_entropy with "
                                                   "one output (cross_entropy: one per class)",
                                                   spec.context));
    }
    m.sparse_labels = false;
    m.labels = g.input("targets", {Shape::kBatch, classes});
    switch (spec.loss) {
      case Loss::CrossEntropy:
      case Loss::MeanSquaredError:
        m.loss = ops::mean_squared_error(g, m.output, m.labels, data_loss);
        break;
      case Loss::MeanAbsoluteError:
        m.loss = ops::mean_absolute_error(g, m.output, m.labels, data_loss);
        break;
      case Loss::Huber:
        m.loss = ops::huber(g, m.output, m.labels, spec.huber_delta, data_loss);
        break;
      case Loss::BinaryCrossEntropy:
        m.loss = spec.pos_weight.empty() ? ops::binary_cross_entropy(g, logits, m.labels, data_loss)
                                         : ops::binary_cross_entropy(g, logits, m.labels, spec.pos_weight, data_loss);
        break;
    }
  }
  if (m.sample_weights != kNoNode) ops::with_sample_weights(g, m.loss, m.sample_weights);
  if (penalty != kNoNode) m.loss = ops::add(g, m.loss, penalty, "loss");
  return m;
}

Model build_sequential(const SequentialSpec& spec, const PluginRegistry& plugins) {
  if (spec.inputs <= 0) throw Error(ErrorKind::BadInput, spec.context + ": inputs must be positive");
  if (spec.layers.empty()) throw Error(ErrorKind::BadInput, spec.context + ": a model needs at least one layer");
  NetworkSpec net;
  net.inputs = {{"features", {spec.inputs}}};
  static_cast<LossSpec&>(net) = spec;
  net.context = spec.context;
  std::string previous = "features";
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    Layer l = spec.layers[i];
    if (l.name.empty()) l.name = l.op + std::to_string(i);
    if (l.where.empty()) l.where = "layers[" + std::to_string(i) + "]";
    if (l.op == "dense" && l.units <= 0)
      throw Error(ErrorKind::BadInput, spec.context + ": " + l.where + ".units: expected a positive count");
    l.inputs = {previous};
    previous = l.name;
    net.nodes.push_back(std::move(l));
  }
  net.outputs = {previous};
  return build_network(net, plugins);
}

}  // namespace graphrun::train
