// train::build_network from model files of the graph form: a residual net matches the same
// net built by hand with ops::, a concat net and a two-input net train on tiny data, and each
// build-time error (shapes, kernel sizes, dense on an image) is one line naming the node.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/error.h"
#include "core/plugin_host.h"
#include "io/model_file.h"
#include "ops/conv.h"
#include "ops/layers.h"
#include "ops/ops.h"
#include "train/model_file.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

Model build(const std::string& text) {
  return build_network(to_network_spec(io::parse_model_file(text, "dir/g.json")), PluginRegistry::global());
}

std::string graph(const std::string& nodes, const std::string& inputs = R"([{"name": "x", "shape": [1, 4, 4]}])") {
  return R"({"graph": {"inputs": )" + inputs + R"(, "nodes": [)" + nodes + R"(], "outputs": ["out"]}})";
}

const char* kResidual = R"(
  {"name": "c1", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"},
  {"name": "c2", "op": "conv2d", "inputs": ["c1"], "filters": 2, "kernel_size": 3, "padding": "same", "bias": false},
  {"name": "bn", "op": "batch_norm", "inputs": ["c2"]},
  {"name": "skip", "op": "add", "inputs": ["bn", "c1"]},
  {"name": "flat", "op": "flatten", "inputs": ["skip"]},
  {"name": "out", "op": "dense", "inputs": ["flat"], "units": 3, "activation": "softmax"})";

const char* kConcat = R"(
  {"name": "a", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"},
  {"name": "b", "op": "conv2d", "inputs": ["x"], "filters": 3, "kernel_size": 1, "activation": "tanh"},
  {"name": "cat", "op": "concat", "inputs": ["a", "b"]},
  {"name": "pool", "op": "max_pool2d", "inputs": ["cat"], "pool_size": 2},
  {"name": "flat", "op": "flatten", "inputs": ["pool"]},
  {"name": "ln", "op": "layer_norm", "inputs": ["flat"]},
  {"name": "drop", "op": "dropout", "inputs": ["ln"], "rate": 0.1},
  {"name": "out", "op": "dense", "inputs": ["drop"], "units": 3, "activation": "softmax"})";

TEST(Network, ResidualNetMatchesTheHandBuiltGraph) {
  const Model m = build(graph(kResidual));

  Graph g;
  const PluginRegistry& plugins = PluginRegistry::global();
  NodeId features = g.input("features", {Shape::kBatch, 16});
  NodeId x = ops::reshape(g, features, {Shape::kBatch, 1, 4, 4}, "x");
  Node::Window win;
  win.kernel[0] = win.kernel[1] = 3;
  win = ops::same_padding(4, 4, win);
  const Initializer he{InitKind::HeUniform, 0, 0};
  NodeId c1 = ops::conv2d(g, x, g.parameter("c1.weight", {2, 1, 3, 3}, he), win, "c1.conv2d");
  c1 = ops::add_channels(g, c1, g.parameter("c1.bias", {2}, Initializer::zeros()), "c1.add_bias");
  c1 = ops::activation(g, c1, plugins.activation("relu").entry, {}, "c1.relu");
  NodeId c2 = ops::conv2d(g, c1, g.parameter("c2.weight", {2, 2, 3, 3}, he), win, "c2.conv2d");
  NodeId bn = ops::batch_norm(g, c2, "bn");
  NodeId skip = ops::add(g, bn, c1, "skip");
  NodeId flat = ops::flatten(g, skip, "flat");
  NodeId logits = ops::matmul(g, flat, g.parameter("out.weight", {32, 3}, Initializer::glorot_uniform()), false, false,
                              "out.matmul");
  logits = ops::add(g, logits, g.parameter("out.bias", {3}, Initializer::zeros()), "out.add_bias");
  NodeId probs = ops::softmax(g, logits, "out.softmax");
  NodeId labels = g.input("labels", {Shape::kBatch});
  NodeId loss = ops::softmax_cross_entropy(g, logits, labels, true, "loss");

  ASSERT_EQ(m.graph.size(), g.size());
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& a = m.graph.node(id);
    const Node& b = g.node(id);
    EXPECT_EQ(a.name, b.name) << "node " << id;
    EXPECT_EQ(a.op, b.op) << b.name;
    EXPECT_EQ(a.shape, b.shape) << b.name;
    EXPECT_EQ(a.inputs, b.inputs) << b.name;
    EXPECT_EQ(a.trainable, b.trainable) << b.name;
    EXPECT_EQ(a.init.kind, b.init.kind) << b.name;
    for (int k = 0; k < 4; ++k) EXPECT_EQ(a.window.pad[k], b.window.pad[k]) << b.name;
  }
  EXPECT_EQ(m.features, features);
  EXPECT_EQ(m.output, probs);
  EXPECT_EQ(m.labels, labels);
  EXPECT_EQ(m.loss, loss);
}

// 48 samples of 16 features, 3 classes: class k lights rows k of a 4x4 image.
io::Dataset tiny_images(int64_t n, int64_t extra_features = 0) {
  io::Dataset d;
  const int64_t f = 16 + extra_features;
  d.features = Tensor(Shape{n, f});
  d.num_classes = 3;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> noise(0.0f, 0.3f);
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i % 3);
    d.labels.push_back(k);
    for (int64_t j = 0; j < f; ++j) d.features.data()[i * f + j] = noise(rng) + (j / 4 == k ? 0.7f : 0.0f);
  }
  return d;
}

// Trains `epochs` epochs; returns the first and last epoch's loss.
std::pair<double, double> train_tiny(Model& m, const io::Dataset& data, int64_t epochs) {
  ParameterStore params = ParameterStore::initialize(m.graph, 3);
  TrainConfig cfg;
  cfg.epochs = epochs;
  cfg.batch_size = 8;
  cfg.optimizer = "adam";
  cfg.learning_rate = 0.01;
  cfg.threads = 1;
  Trainer t(m, params, cfg, PluginRegistry::global());
  const double first = t.train_epoch(data).loss;
  double last = first;
  for (int64_t e = 1; e < epochs; ++e) last = t.train_epoch(data).loss;
  EXPECT_TRUE(std::isfinite(first));
  const Evaluation ev = t.evaluate(data);
  EXPECT_GT(ev.accuracy, 0.9) << "the tiny problem is easy";
  return {first, last};
}

TEST(Network, ResidualNetTrainsOnTinyData) {
  Model m = build(graph(kResidual));
  const auto [first, last] = train_tiny(m, tiny_images(48), 30);
  EXPECT_LT(last, 0.5 * first);
}

TEST(Network, ConcatNetBuildsAndTrains) {
  Model m = build(graph(kConcat));
  const NodeId cat = m.graph.find("cat");
  ASSERT_NE(cat, kNoNode);
  EXPECT_EQ(m.graph.node(cat).op, OpKind::Concat);
  EXPECT_EQ(m.graph.shape(cat), (Shape{Shape::kBatch, 5, 4, 4}));
  EXPECT_EQ(m.graph.shape(m.graph.find("pool")), (Shape{Shape::kBatch, 5, 2, 2}));
  EXPECT_NE(m.graph.find("ln.gamma"), kNoNode);
  const auto [first, last] = train_tiny(m, tiny_images(48), 30);
  EXPECT_LT(last, 0.5 * first);
}

TEST(Network, TwoInputsAreColumnRangesOfTheFeatures) {
  Model m = build(R"({"graph": {"inputs": [{"name": "x", "shape": [1, 4, 4]}, {"name": "extra", "shape": [2]}],
    "nodes": [{"name": "flat", "op": "flatten", "inputs": ["x"]},
              {"name": "cat", "op": "concat", "inputs": ["flat", "extra"]},
              {"name": "out", "op": "dense", "inputs": ["cat"], "units": 3, "activation": "softmax"}],
    "outputs": ["out"]}})");
  EXPECT_EQ(m.graph.shape(m.features), (Shape{Shape::kBatch, 18}));
  EXPECT_EQ(m.graph.shape(m.graph.find("cat")), (Shape{Shape::kBatch, 18}));
  const auto [first, last] = train_tiny(m, tiny_images(48, 2), 30);
  EXPECT_LT(last, 0.5 * first);
}

std::string build_error(const std::string& text) {
  try {
    build(text);
  } catch (const Error& e) {
    EXPECT_TRUE(e.is_bad_input()) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return {};
}

#define EXPECT_BUILD_ERROR(text, where, fragment)                                                 \
  do {                                                                                            \
    const std::string msg_ = build_error(text);                                                   \
    EXPECT_TRUE(msg_.starts_with(std::string("dir/g.json: ") + where)) << msg_;                   \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << msg_; \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;                                        \
  } while (0)

const char* kHead = R"(, {"name": "f", "op": "flatten", "inputs": ["y"]},
  {"name": "out", "op": "dense", "inputs": ["f"], "units": 2, "activation": "softmax"})";

TEST(Network, BuildErrorsNameTheNode) {
  EXPECT_BUILD_ERROR(
      graph(R"({"name": "a", "op": "conv2d", "inputs": ["x"], "filters": 32, "kernel_size": 3, "padding": "same"},
      {"name": "b", "op": "conv2d", "inputs": ["x"], "filters": 64, "kernel_size": 3, "padding": "same"},
      {"name": "y", "op": "add", "inputs": ["a", "b"]})" +
                std::string(kHead),
            R"([{"name": "x", "shape": [1, 14, 14]}])"),
      "graph.nodes[2] (\"y\"): ", "add of [32,14,14] and [64,14,14]: expected two inputs of the same shape");
  EXPECT_BUILD_ERROR(
      graph(R"({"name": "y", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 5})" + std::string(kHead)),
      "graph.nodes[0] (\"y\"): ", "kernel 5x5 (dilation 1x1) is larger than its padded input 4x4");
  EXPECT_BUILD_ERROR(graph(R"({"name": "y", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 3,
                               "dilation": 3, "padding": 1})" +
                           std::string(kHead)),
                     "graph.nodes[0] (\"y\"): ", "kernel 3x3 (dilation 3x3) is larger than its padded input 6x6");
  EXPECT_BUILD_ERROR(
      graph(R"({"name": "y", "op": "max_pool2d", "inputs": ["x"], "pool_size": 5})" + std::string(kHead)),
      "graph.nodes[0] (\"y\"): ", "larger than its padded input");
  EXPECT_BUILD_ERROR(
      R"({"inputs": [1, 4, 4], "layers": [{"units": 2, "activation": "softmax"}]})",
      "layers[0] (\"dense0\"): ", "dense: input [1,4,4] per sample; expected a vector of features (add a \"flatten\"");
  EXPECT_BUILD_ERROR(
      R"({"inputs": 16, "layers": [{"op": "conv2d", "filters": 2, "kernel_size": 3}, {"units": 2, "activation": "softmax"}]})",
      "layers[0] (\"conv2d0\"): ", "conv2d: input [16] per sample; expected [channels, height, width]");
  EXPECT_BUILD_ERROR(
      R"({"inputs": [2, 4, 4], "layers": [{"op": "conv2d", "filters": 2, "kernel_size": 1, "groups": 2},
                         {"op": "conv2d", "filters": 3, "kernel_size": 1, "groups": 3}, {"op": "flatten"}, {"units": 2, "activation": "softmax"}]})",
      "layers[1] (\"conv2d1\"): ", "conv2d: input [2,4,4] has 2 channels; expected a multiple of groups (3)");
  EXPECT_BUILD_ERROR(
      R"({"inputs": 12, "layers": [{"op": "reshape", "shape": [5, -1]}, {"op": "flatten"}, {"units": 2, "activation": "softmax"}]})",
      "layers[0] (\"reshape0\"): ", "reshape of [12] to [5,-1]: expected the same number of elements per sample (12)");
  EXPECT_BUILD_ERROR(graph(R"({"name": "a", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 3},
      {"name": "y", "op": "concat", "inputs": ["a", "x"]})" +
                           std::string(kHead)),
                     "graph.nodes[1] (\"y\"): ",
                     "concat of [2,2,2] and [1,4,4] along axis 1: expected the same shape but along the axis");
  EXPECT_BUILD_ERROR(
      graph(
          R"({"name": "out", "op": "conv2d", "inputs": ["x"], "filters": 2, "kernel_size": 3, "activation": "softmax"})"),
      "graph.nodes[0] (\"out\"): ", "gives [2,2,2] per sample; expected a vector of class scores");
  EXPECT_BUILD_ERROR(R"({"inputs": 100000000, "layers": [{"units": 1000000}, {"units": 2, "activation": "softmax"}]})",
                     "layers[0] (\"dense0\"): ", "more than 1000000000 parameters");
  EXPECT_BUILD_ERROR(
      graph(R"({"name": "y", "op": "layer_norm", "inputs": ["x"], "axis": 4})" + std::string(kHead)),
      "graph.nodes[0] (\"y\"): ", "layer_norm: axis 4 does not fit input [1,4,4] per sample; expected 1 to 3");
}

}  // namespace
}  // namespace graphrun::train
