// Model: a classifier or regressor graph with its named roles, and the builders that make one:
// build_network from a list of nodes (a model file's graph form, or its layers), and
// build_sequential for a stack of layers.
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
#include "io/model_file.h"

namespace graphrun::train {

// cross_entropy: softmax output, class-index labels. mse, mae, huber: float targets, any
// output activation (regression). binary_cross_entropy: sigmoid output fused into the loss,
// 0/1 targets, one column (binary) or several (multi-label).
enum class Loss { CrossEntropy, MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossEntropy };
// "cross_entropy", "mse", "mae", "huber", "binary_cross_entropy" and Keras's names.
Loss parse_loss(std::string_view name, std::string_view context);
const char* to_string(Loss loss);
// What the outputs mean, for metrics and predict: classes, real values, or label probabilities.
inline bool is_regression(Loss loss) {
  return loss == Loss::MeanSquaredError || loss == Loss::MeanAbsoluteError || loss == Loss::Huber;
}

struct Model {
  Graph graph;
  NodeId features = kNoNode;  // input [N, D]: every network input of a sample, flattened
  NodeId labels = kNoNode;    // input [N] class indices (sparse) or [N, C] targets
  NodeId output = kNoNode;    // [N, C] what predict returns (probabilities for a classifier)
  NodeId loss = kNoNode;      // scalar
  Loss loss_kind = Loss::CrossEntropy;
  NodeId logits = kNoNode;        // the output before its fused softmax / sigmoid (kNoNode otherwise)
  std::vector<NodeId> gradients;  // of the trainable parameters, once a Trainer added them
  // input [N]: each sample's weight for the loss (kNoNode: every sample weighs 1). The trainer
  // fills it with the sample's weight (io::Dataset::weights) times its class's (class_weights).
  NodeId sample_weights = kNoNode;
  bool sparse_labels = true;
  float label_smoothing = 0.0f;      // cross_entropy with dense labels [N, C]: (1 - s) one-hot + s / C
  std::vector<float> class_weights;  // cross_entropy: a sample's weight times w[label]
  // Trainable parameters in graph order (frozen ones are left out).
  std::vector<NodeId> trainable() const { return graph.trainable_parameters(); }
};

// A layer or graph node: its op ("dense" by default), attributes and, in a graph, input names.
using Layer = io::LayerSpec;
using DenseLayer = Layer;

// A dense layer with the defaults above (Glorot-uniform weights, zero bias, trainable).
DenseLayer dense_layer(std::string name, int64_t units, std::string activation);

// The loss and its options, shared by both forms of a network.
struct LossSpec {
  Loss loss = Loss::CrossEntropy;
  float huber_delta = 1.0f;
  float label_smoothing = 0.0f;      // cross_entropy: targets (1 - s) one-hot + s / C
  std::vector<float> class_weights;  // cross_entropy: a sample's loss times its class's weight
  std::vector<float> pos_weight;     // binary_cross_entropy: the positive term's weight, per label or one
  bool sample_weights = false;       // the loss takes per-sample weights (io::Dataset::weights)
};

struct SequentialSpec : LossSpec {
  int64_t inputs = 0;             // features per sample
  std::vector<Layer> layers;      // each reads the previous one
  std::string context = "model";  // names the source in error messages (file name)
};

// A network: named inputs with per-sample shapes, nodes in a topological order (each names its
// inputs), and outputs. The model's features row holds the inputs one after another, each
// reshaped to its shape in the graph (an image [1, 28, 28] is 784 features).
struct NetworkSpec : LossSpec {
  std::vector<io::InputSpec> inputs;
  std::vector<Layer> nodes;
  std::vector<std::string> outputs;  // the loss applies to the first
  std::string context = "model";     // names the source in error messages (file name)
};

// Builds the graph: parameters "<node>.weight", "<node>.bias", "<node>.gamma", ... With
// cross-entropy the output node's softmax is fused into the loss (softmax_cross_entropy on the
// logits; output = softmax(logits)); an output with another activation is an error. With
// binary_cross_entropy the sigmoid is fused the same way (output = sigmoid(logits)). Errors
// (shapes that do not fit, a kernel larger than its padded input, too many parameters) are one
// line: "<context>: <node's JSON path> (\"<name>\"): <op>: ... expected ...".
Model build_network(const NetworkSpec& spec, const PluginRegistry& plugins);

// build_network for a stack: layer i reads layer i - 1; unnamed layers are "<op><i>".
Model build_sequential(const SequentialSpec& spec, const PluginRegistry& plugins);

}  // namespace graphrun::train
