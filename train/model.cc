#include "train/model.h"

#include "core/error.h"
#include "graphrun/plugin.h"
#include "ops/ops.h"

namespace graphrun::train {

Loss parse_loss(std::string_view name, std::string_view context) {
  if (name == "cross_entropy" || name == "sparse_categorical_crossentropy" || name == "categorical_crossentropy") {
    return Loss::CrossEntropy;
  }
  if (name == "mse" || name == "mean_squared_error") return Loss::MeanSquaredError;
  throw Error(ErrorKind::BadInput, std::string(context) + ": unknown loss '" + std::string(name) +
                                       "'; known: cross_entropy (sparse_categorical_crossentropy), mse");
}

const char* to_string(Loss loss) {
  switch (loss) {
    case Loss::CrossEntropy: return "cross_entropy";
    case Loss::MeanSquaredError: return "mse";
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

Model build_sequential(const SequentialSpec& spec, const PluginRegistry& plugins) {
  if (spec.inputs <= 0) throw Error(ErrorKind::BadInput, spec.context + ": inputs must be positive");
  if (spec.layers.empty()) throw Error(ErrorKind::BadInput, spec.context + ": a model needs at least one layer");
  Model m;
  Graph& g = m.graph;
  m.loss_kind = spec.loss;
  m.features = g.input("features", {Shape::kBatch, spec.inputs});
  NodeId x = m.features;
  NodeId logits = kNoNode;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const DenseLayer& layer = spec.layers[i];
    const std::string where = spec.context + ": layers[" + std::to_string(i) + "]";
    if (layer.units <= 0) throw Error(ErrorKind::BadInput, where + ".units: expected a positive count");
    const std::string name = layer.name.empty() ? "dense" + std::to_string(i) : layer.name;
    NodeId w = g.parameter(name + ".weight", {g.shape(x)[1], layer.units}, layer.init, layer.trainable);
    NodeId y = ops::matmul(g, x, w, false, false, name + ".matmul");
    if (layer.use_bias) {
      NodeId b = g.parameter(name + ".bias", {layer.units}, layer.bias_init, layer.trainable);
      y = ops::add(g, y, b, name + ".add_bias");
    }
    const bool last = i + 1 == spec.layers.size();
    if (last && spec.loss == Loss::CrossEntropy) {
      if (layer.activation != "softmax" && layer.activation != "linear") {
        throw Error(ErrorKind::BadInput, where + ".activation: cross-entropy needs a softmax (or linear) last layer, got '" +
                                             layer.activation + "'");
      }
      logits = y;
      x = ops::softmax(g, y, name + ".softmax");
      break;
    }
    if (layer.activation != "linear") {
      const LoadedActivation& act = [&]() -> const LoadedActivation& {
        try {
          return plugins.activation(layer.activation);
        } catch (const Error& e) {
          throw Error(e.kind(), where + ".activation: " + e.what());
        }
      }();
      std::vector<double> params =
          resolve_params(act.entry->params, act.entry->n_params, layer.activation_params, where + ".activation_params");
      y = ops::activation(g, y, act.entry, std::move(params), name + "." + layer.activation);
    } else if (!layer.activation_params.empty()) {
      throw Error(ErrorKind::BadInput, where + ".activation_params: 'linear' takes no parameters");
    }
    x = y;
  }
  m.output = x;
  const int64_t classes = g.shape(x)[1];
  if (spec.loss == Loss::CrossEntropy) {
    m.sparse_labels = true;
    m.labels = g.input("labels", {Shape::kBatch});
    m.loss = ops::softmax_cross_entropy(g, logits, m.labels, true, "loss");
  } else {
    m.sparse_labels = false;
    m.labels = g.input("targets", {Shape::kBatch, classes});
    m.loss = ops::mean_squared_error(g, x, m.labels, "loss");
  }
  return m;
}

}  // namespace graphrun::train
