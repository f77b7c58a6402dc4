// Model: a classifier or regressor graph with its named roles, and the sequential shorthand
// (a stack of dense layers) that builds one.
//
//   SequentialSpec spec;
//   spec.inputs = 784;
//   spec.layers = {dense_layer("hidden", 400, "sigmoid"), dense_layer("out", 10, "softmax")};
//   Model m = build_sequential(spec, PluginRegistry::global());
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/graph.h"
#include "core/initializer.h"
#include "core/plugin_host.h"

namespace graphrun::train {

enum class Loss { CrossEntropy, MeanSquaredError };
Loss parse_loss(std::string_view name, std::string_view context);  // "cross_entropy", "mse", and Keras's names
const char* to_string(Loss loss);

struct Model {
  Graph graph;
  NodeId features = kNoNode;       // input [N, D]
  NodeId labels = kNoNode;         // input [N] class indices (sparse) or [N, C] targets
  NodeId output = kNoNode;         // [N, C] what predict returns (probabilities for a classifier)
  NodeId loss = kNoNode;           // scalar
  Loss loss_kind = Loss::CrossEntropy;
  std::vector<NodeId> gradients;   // of the trainable parameters, once a Trainer added them
  bool sparse_labels = true;
  // Trainable parameters in graph order (frozen ones are left out).
  std::vector<NodeId> trainable() const { return graph.trainable_parameters(); }
};

struct DenseLayer {
  std::string name;                 // parameters are "<name>.weight" and "<name>.bias"
  int64_t units = 0;
  std::string activation = "linear";  // "linear" (none) or a plugin activation name
  std::vector<std::pair<std::string, double>> activation_params;
  Initializer init = Initializer::glorot_uniform();
  bool use_bias = true;
  Initializer bias_init = Initializer::zeros();
  bool trainable = true;
};

// A dense layer with the defaults above (Glorot-uniform weights, zero bias, trainable).
DenseLayer dense_layer(std::string name, int64_t units, std::string activation);

struct SequentialSpec {
  int64_t inputs = 0;  // features per sample
  std::vector<DenseLayer> layers;
  Loss loss = Loss::CrossEntropy;
  std::string context = "model";  // names the source in error messages (file name)
};

// Builds the graph. With cross-entropy the last layer's softmax is fused into the loss
// (softmax_cross_entropy on the logits; output = softmax(logits)); a last layer with another
// activation is an error for cross-entropy. Errors name spec.context and the layer index.
Model build_sequential(const SequentialSpec& spec, const PluginRegistry& plugins);

}  // namespace graphrun::train
