// Model files: the JSON that describes a network, its loss, optimizer, data and training
// settings (the format is documented in docs/model-format.md, schema docs/model.schema.json).
//
//   {"inputs": 784,
//    "layers": [{"units": 400, "activation": "sigmoid", "init": "normal"},
//               {"units": 10, "activation": "softmax", "bias": false}],
//    "optimizer": {"name": "sgd", "learning_rate": 0.01},
//    "training": {"epochs": 3, "batch_size": 32}}
//
// The network is that sequential form ("inputs" a count or a per-sample shape such as
// [1, 28, 28]; layers with an optional "op", default "dense") or the graph form
// ("graph": {"inputs": [{"name", "shape"}], "nodes": [{"name", "op", "inputs", ...}],
// "outputs": [...]}); both become the same list of LayerSpec, in a topological order.
//
// read_model_file validates everything it can without building a graph: every error is one
// Error(BadInput) line "<file>: <json.path>: expected ..., got ..." (e.g.
// "m.json: layers[2].units: expected an integer from 1 to 1000000, got -3"); a JSON syntax
// error gives line:column; unknown keys and duplicate keys are errors; nesting is bounded.
// With a plugin registry it also checks activation and optimizer names and their parameters.
// Data paths are resolved relative to the model file's folder (absolute paths are kept).
//
// This layer knows nothing of train/: it produces plain specs; train/model_file.h turns them
// into a train::NetworkSpec (built by train::build_network, which checks shapes) and a
// train::TrainConfig.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/initializer.h"

namespace graphrun {
class PluginRegistry;
}

namespace graphrun::io {

inline constexpr uint64_t kModelFileMaxBytes = uint64_t{16} << 20;
inline constexpr int kModelFileMaxDepth = 16;
inline constexpr int64_t kModelMaxUnits = 1'000'000;
inline constexpr int64_t kModelMaxLayers = 1000;               // layers or graph nodes
inline constexpr int64_t kModelMaxInputSize = 100'000'000;     // elements per sample of an input
inline constexpr int64_t kModelMaxKernel = 4096;               // kernel, stride, dilation, padding
inline constexpr int64_t kModelMaxParameters = 1'000'000'000;  // 4 GB of f32 weights

// The layer kinds of both forms ("op"); a sequential layer without "op" is "dense".
inline constexpr const char* kLayerOps[] = {"dense",      "conv2d",     "max_pool2d", "avg_pool2d", "global_avg_pool",
                                            "batch_norm", "layer_norm", "dropout",    "flatten",    "reshape",
                                            "activation", "add",        "concat"};

// One node of the network: a layer of the sequential form or a node of the graph form. Each op
// uses the fields its comment names; the others keep their defaults.
struct LayerSpec {
  std::string name;                 // unique; parameters "<name>.weight", ...; default "<op><i>" (sequential)
  std::string op = "dense";         // one of kLayerOps
  std::vector<std::string> inputs;  // node or graph-input names (sequential: the previous layer)
  std::string where;                // its JSON path for messages: "layers[2]", "graph.nodes[2]"
  int64_t units = 0;                // dense
  int64_t filters = 0;              // conv2d
  // conv2d and pooling: kernel_size / pool_size, strides, dilation, groups ([h, w] pairs).
  int32_t kernel[2] = {0, 0}, strides[2] = {1, 1}, dilation[2] = {1, 1};
  int32_t groups = 1;
  bool same_padding = false;      // "padding": "same" (padding computed at build time)
  int32_t pad[4] = {0, 0, 0, 0};  // explicit padding: top, left, bottom, right
  // dense, conv2d, activation
  std::string activation = "linear";  // "linear" (none) or an activation plugin's name
  std::vector<std::pair<std::string, double>> activation_params;
  Initializer init = Initializer::glorot_uniform();  // dense, conv2d
  bool use_bias = true;
  Initializer bias_init = Initializer::zeros();
  bool trainable = true;       // dense, conv2d, batch_norm, layer_norm
  double l1 = 0, l2 = 0;       // dense, conv2d: l1 sum|W| + l2 sum W^2 added to the loss (not biases)
  double momentum = 0.9;       // batch_norm (Keras meaning)
  double epsilon = 1e-5;       // batch_norm, layer_norm
  int32_t axis = 1;            // concat (1 = channels/features), layer_norm (-1 = last)
  double rate = 0;             // dropout, in [0, 1)
  std::vector<int64_t> shape;  // reshape: per-sample shape, one -1 allowed
};

// A named input of the network with its per-sample shape ([784], [1, 28, 28]).
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
};

struct DataSpec {
  std::string format = "idx";  // "idx" or "csv"
  // idx: absolute paths (resolved against the model file's folder)
  std::string train_images, train_labels, test_images, test_labels;
  // csv
  std::string train_csv, test_csv;
  int label_column = 0;
  bool header = false;
  int skip_lines = 0;  // lines dropped before the header (a data set's own preamble)
  char delimiter = ',';
  std::vector<int> target_columns;          // float targets (regression, binary, multi-label losses)
  int weight_column = -1;                   // -1: none; else each row's sample weight (Keras's sample_weight)
  std::string train_targets, test_targets;  // targets in their own files, every column a target
  double test_split = 0;                    // > 0: this fraction of "train" is the test set (no "test")
  uint64_t split_seed = 0;
  std::vector<std::string> class_names;   // empty: "0", "1", ...
  std::string scaling = "minmax_global";  // none, minmax, minmax_global, standardize
  bool has_test() const { return !test_images.empty() || !test_csv.empty() || test_split > 0; }
};

struct ModelFile {
  std::string path;  // as given, for messages
  // The network. Sequential form: one input "features" and the layers in file order. Graph
  // form: the inputs, the nodes in a topological order (file order where free), the outputs.
  bool graph_form = false;
  int64_t inputs = 0;  // features per sample: the product of every input's shape, summed
  std::vector<InputSpec> graph_inputs;
  std::vector<LayerSpec> layers;
  std::vector<std::string> outputs;  // the loss applies to the first
  // canonical: "cross_entropy", "mse", "mae", "huber" or "binary_cross_entropy"
  std::string loss = "cross_entropy";
  double huber_delta = 1.0;
  double label_smoothing = 0.0;       // cross_entropy: {"name": "cross_entropy", "label_smoothing": s}
  std::vector<double> class_weights;  // cross_entropy: one per class, scales each sample's loss by its class's
                                      // (binary_cross_entropy with one output: [w0, w1])
  std::vector<double> pos_weight;     // binary_cross_entropy: one per label, or one for all
  std::string optimizer = "sgd";
  std::vector<std::pair<std::string, double>> optimizer_params;
  double learning_rate = -1;  // < 0: the optimizer's default
  std::optional<DataSpec> data;
  int64_t epochs = 1, batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  // The training-practice keys of "training" (validation_split, early_stopping,
  // learning_rate_schedule, init_from) as a JSON object's text, "{}" when none; validated by
  // train/model_file.h (to_train_config), which names "training.<key>" in its errors.
  std::string training_practice = "{}";
  // FNV-1a 64 of the canonical JSON (no whitespace, keys in file order) of the parts that
  // decide the parameters and their training: inputs, layers or graph, loss, optimizer. Checkpoints
  // record it so a resume with a different model is refused.
  uint64_t model_hash = 0;
};

// Reads and validates a model file (see the file comment). plugins: when non-null, activation
// and optimizer names and parameters are checked against it (the CLI passes the registry it
// loaded with --plugin-dir); when null only the structure is checked.
ModelFile read_model_file(const std::string& path, const PluginRegistry* plugins = nullptr);
// The same from text; `path` names it in messages and is the base for relative data paths.
ModelFile parse_model_file(const std::string& text, const std::string& path, const PluginRegistry* plugins = nullptr);

// The node that the loss applies to (the first output).
const LayerSpec& output_layer(const ModelFile& m);

}  // namespace graphrun::io
