// io/model_file: the graph form and the layer kinds of the sequential form: what is read, the
// topological order, and one test per structural error (each message names the file, the JSON
// path or node and what was expected).
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "io/model_file.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

#define EXPECT_ERROR(text, fragment)                                                                                \
  EXPECT_TRUE(testing::expect_error([&] { parse_model_file(text, "dir/g.json"); }, ErrorKind::BadInput, {fragment}) \
                  .starts_with("dir/g.json: "))

// A graph with input x [4] and the given nodes, whose output is "out".
std::string graph(const std::string& nodes, const std::string& inputs = R"([{"name": "x", "shape": [4]}])",
                  const std::string& outputs = R"(["out"])") {
  return R"({"graph": {"inputs": )" + inputs + R"(, "nodes": [)" + nodes + R"(], "outputs": )" + outputs + "}}";
}
const char* kOut = R"({"name": "out", "op": "dense", "inputs": ["a"], "units": 2, "activation": "softmax"})";

TEST(ModelGraph, ReadsNodesInTopologicalOrder) {
  // File order: out, b, a; every node comes after the nodes it reads.
  const ModelFile m =
      parse_model_file(graph(R"({"name": "out", "op": "dense", "inputs": ["cat"], "units": 2, "activation": "softmax"},
               {"name": "cat", "op": "concat", "inputs": ["a", "b"], "axis": -1},
               {"name": "b", "op": "dense", "inputs": ["a"], "units": 3, "bias": false},
               {"name": "a", "op": "dense", "inputs": ["x"], "units": 3, "activation": "relu"})"),
                       "g.json");
  EXPECT_TRUE(m.graph_form);
  EXPECT_EQ(m.inputs, 4);
  ASSERT_EQ(m.graph_inputs.size(), 1u);
  EXPECT_EQ(m.graph_inputs[0].name, "x");
  ASSERT_EQ(m.layers.size(), 4u);
  EXPECT_EQ(m.layers[0].name, "a");
  EXPECT_EQ(m.layers[1].name, "b");
  EXPECT_EQ(m.layers[2].name, "cat");
  EXPECT_EQ(m.layers[3].name, "out");
  EXPECT_EQ(m.layers[2].inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m.layers[2].axis, -1);
  EXPECT_EQ(m.layers[2].where, "graph.nodes[1]");
  EXPECT_FALSE(m.layers[1].use_bias);
  EXPECT_EQ(m.outputs, std::vector<std::string>{"out"});
  EXPECT_EQ(output_layer(m).name, "out");
}

TEST(ModelGraph, ReadsEveryLayerKind) {
  const ModelFile m = parse_model_file(R"({"inputs": [3, 8, 6], "layers": [
      {"op": "conv2d", "filters": 4, "kernel_size": [3, 1], "strides": 2, "padding": [1, 0, 2, 0],
       "dilation": [1, 2], "groups": 1, "activation": "relu"},
      {"op": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "groups": 4, "init": "glorot_uniform"},
      {"op": "max_pool2d", "pool_size": [2, 1]},
      {"op": "avg_pool2d", "pool_size": 2, "strides": 1, "padding": 1},
      {"op": "batch_norm", "momentum": 0.99, "epsilon": 0.001, "trainable": false},
      {"op": "layer_norm", "axis": 1},
      {"op": "global_avg_pool"},
      {"op": "flatten"},
      {"op": "reshape", "shape": [2, -1]},
      {"op": "activation", "activation": "tanh"},
      {"op": "flatten"},
      {"op": "dropout", "rate": 0},
      {"units": 2, "activation": "softmax"}]})",
                                       "g.json");
  ASSERT_EQ(m.layers.size(), 13u);
  EXPECT_EQ(m.graph_inputs[0].shape, (std::vector<int64_t>{3, 8, 6}));
  EXPECT_EQ(m.inputs, 144);
  const LayerSpec& c = m.layers[0];
  EXPECT_EQ(c.name, "conv2d0");
  EXPECT_EQ(c.filters, 4);
  EXPECT_EQ(c.kernel[0], 3);
  EXPECT_EQ(c.kernel[1], 1);
  EXPECT_EQ(c.strides[0], 2);
  EXPECT_EQ(c.strides[1], 2);
  EXPECT_EQ(c.dilation[1], 2);
  EXPECT_EQ(c.pad[0], 1);
  EXPECT_EQ(c.pad[2], 2);
  EXPECT_FALSE(c.same_padding);
  EXPECT_EQ(c.init.kind, InitKind::HeUniform) << "conv2d's default";
  EXPECT_TRUE(m.layers[1].same_padding);
  EXPECT_EQ(m.layers[1].groups, 4);
  EXPECT_EQ(m.layers[1].init.kind, InitKind::GlorotUniform);
  EXPECT_EQ(m.layers[2].strides[0], 2) << "a pool's strides default to its size";
  EXPECT_EQ(m.layers[2].strides[1], 1);
  EXPECT_EQ(m.layers[3].pad[1], 1);
  EXPECT_EQ(m.layers[3].pad[3], 1);
  EXPECT_DOUBLE_EQ(m.layers[4].momentum, 0.99);
  EXPECT_FALSE(m.layers[4].trainable);
  EXPECT_EQ(m.layers[5].axis, 1);
  EXPECT_EQ(m.layers[8].shape, (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(m.layers[9].activation, "tanh");
  EXPECT_EQ(m.layers[12].inputs, std::vector<std::string>{"dropout11"});
}

TEST(ModelGraph, HashCoversTheGraph) {
  const std::string a = graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3}, )" + std::string(kOut));
  const std::string b = graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 4}, )" + std::string(kOut));
  EXPECT_NE(parse_model_file(a, "m").model_hash, parse_model_file(b, "m").model_hash);
}

TEST(ModelGraph, StructuralErrors) {
  EXPECT_ERROR(graph(R"({"name": "a", "op": "add", "inputs": ["x", "b"]},
                        {"name": "b", "op": "activation", "inputs": ["a"], "activation": "relu"}, )" +
                     std::string(kOut)),
               "graph.nodes[0]: node \"a\" is in a cycle (a -> b -> a); expected an acyclic graph");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["a"], "units": 3}, )" + std::string(kOut)),
               "node \"a\" is in a cycle (a -> a)");
  EXPECT_ERROR(
      graph(R"({"name": "a", "op": "dense", "inputs": ["y"], "units": 3}, )" + std::string(kOut)),
      "graph.nodes[0].inputs[0]: node \"a\": unknown input name \"y\"; expected a graph input or another node's name");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3},
                        {"name": "a", "op": "dense", "inputs": ["x"], "units": 3}, )" +
                     std::string(kOut)),
               "graph.nodes[1].name: duplicate name \"a\" (also graph.nodes[0])");
  EXPECT_ERROR(graph(R"({"name": "x", "op": "dense", "inputs": ["x"], "units": 3}, )" + std::string(kOut)),
               "graph.nodes[0].name: duplicate name \"x\" (also graph.inputs[0])");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3},
                        {"name": "lost", "op": "dense", "inputs": ["a"], "units": 3}, )" +
                     std::string(kOut)),
               "graph.nodes[1]: node \"lost\": no output depends on it");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3}, )" + std::string(kOut),
                     R"([{"name": "x", "shape": [4]}, {"name": "y", "shape": [2]}])"),
               "graph.inputs[1]: input \"y\": no output depends on it");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3}, )" + std::string(kOut),
                     R"([{"name": "x", "shape": [4]}])", R"(["logits"])"),
               "graph.outputs[0]: unknown node name \"logits\"");
  EXPECT_ERROR(graph(kOut, R"([{"name": "x", "shape": [4]}])", R"(["x"])"),
               "graph.outputs[0]: expected a node, got the graph input \"x\"");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "inputs": ["x"], "units": 3}, )" + std::string(kOut),
                     R"([{"name": "x", "shape": [4]}])", R"(["out", "out"])"),
               "graph.outputs[1]: \"out\" is already an output");
  EXPECT_ERROR(R"({"inputs": 4, "graph": {}})", "inputs: not allowed beside \"graph\"");
  EXPECT_ERROR(R"({"graph": {"inputs": [], "nodes": [], "outputs": []}})",
               "graph.inputs: expected an array of 1 to 16 inputs");
  EXPECT_ERROR(R"({"graph": {"inputs": [{"name": "x", "shape": [4]}], "outputs": ["a"]}})",
               "graph: expected \"nodes\"");
  EXPECT_ERROR(R"({"description": "none"})", "expected \"inputs\" and \"layers\" (the sequential form) or \"graph\"");
}

TEST(ModelGraph, NodeErrors) {
  EXPECT_ERROR(graph(R"({"op": "dense", "inputs": ["x"], "units": 3})"), "graph.nodes[0]: expected \"name\"");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "dense", "units": 3})"), "graph.nodes[0]: expected \"inputs\"");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "add", "inputs": ["x"]})"),
               "graph.nodes[0].inputs: expected an array of 2 names for \"add\", got an array");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "concat", "inputs": ["x"]})"),
               "graph.nodes[0].inputs: expected an array of 2 or more names");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "conv3d", "inputs": ["x"]})"),
               "graph.nodes[0].op: expected one of dense, conv2d");
  EXPECT_ERROR(graph(R"({"name": "a", "op": "flatten", "inputs": ["x"], "units": 3})"),
               "graph.nodes[0].units: unknown key; expected one of: name, op, inputs");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"op": "add"}, {"units": 2, "activation": "softmax"}]})",
               "layers[0].op: \"add\" joins two branches: use the graph form");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"name": "features", "units": 2, "activation": "softmax"}]})",
               "layers[0].name: duplicate layer name \"features\" (also the input)");
}

TEST(ModelGraph, AttributeRanges) {
  const auto seq = [](const std::string& layer) {
    return R"({"inputs": [1, 8, 8], "layers": [)" + layer +
           R"(, {"op": "flatten"}, {"units": 2, "activation": "softmax"}]})";
  };
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2, "kernel_size": 3, "strides": 0})"),
               "layers[0].strides: expected an integer from 1 to 4096, got 0");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2, "kernel_size": [3, 0]})"),
               "layers[0].kernel_size[1]: expected an integer from 1 to 4096, got 0");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2, "kernel_size": [3, 3, 3]})"),
               "layers[0].kernel_size: expected an integer from 1 to 4096 or a pair [h, w] of them");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "kernel_size": 3})"), "layers[0]: expected \"filters\"");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2})"), "layers[0]: expected \"kernel_size\"");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 6, "kernel_size": 3, "groups": 4})"),
               "layers[0].groups: expected a divisor of filters (6), got 4");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2, "kernel_size": 3, "padding": "full"})"),
               "layers[0].padding: expected one of valid, same");
  EXPECT_ERROR(seq(R"({"op": "conv2d", "filters": 2, "kernel_size": 3, "padding": [1, 2, 3]})"),
               "layers[0].padding: expected an integer from 0 to 4096 or a pair");
  EXPECT_ERROR(seq(R"({"op": "max_pool2d", "pool_size": 2, "strides": [1, 0]})"),
               "layers[0].strides[1]: expected an integer from 1 to 4096, got 0");
  EXPECT_ERROR(seq(R"({"op": "dropout", "rate": 1})"), "layers[0].rate: expected a number >= 0 and < 1, got 1");
  EXPECT_ERROR(seq(R"({"op": "dropout", "rate": -0.1})"), "layers[0].rate: expected a number >= 0 and < 1, got -0.1");
  EXPECT_ERROR(seq(R"({"op": "dropout"})"), "layers[0]: expected \"rate\"");
  EXPECT_ERROR(seq(R"({"op": "batch_norm", "momentum": 1.5})"), "layers[0].momentum: expected a number from 0 to 1");
  EXPECT_ERROR(seq(R"({"op": "batch_norm", "epsilon": 0})"), "layers[0].epsilon: expected a number > 0, got 0");
  EXPECT_ERROR(seq(R"({"op": "layer_norm", "axis": 0})"), "layers[0].axis: expected an axis from 1 to 4 or -4 to -1");
  EXPECT_ERROR(seq(R"({"op": "reshape", "shape": [-1, -1]})"), "layers[0].shape: expected at most one -1");
  EXPECT_ERROR(seq(R"({"op": "reshape", "shape": [0, 4]})"), "layers[0].shape[0]: expected a positive dimension or -1");
  EXPECT_ERROR(seq(R"({"op": "activation"})"), "layers[0]: expected \"activation\"");
  EXPECT_ERROR(R"({"inputs": [1, 0], "layers": [{"units": 2, "activation": "softmax"}]})",
               "inputs[1]: expected an integer from 1 to 100000000, got 0");
  EXPECT_ERROR(R"({"inputs": [1, 2, 3, 4, 5], "layers": [{"units": 2, "activation": "softmax"}]})",
               "inputs: expected a per-sample shape of 1 to 4 dimensions");
  EXPECT_ERROR(R"({"inputs": [10000, 10000, 10000], "layers": [{"units": 2, "activation": "softmax"}]})",
               "inputs: expected at most 100000000 elements per sample");
  EXPECT_ERROR(graph(R"({"name": "out", "op": "dense", "inputs": ["x"], "units": 2, "activation": "relu"})",
                     R"([{"name": "x", "shape": [4]}])"),
               "graph.nodes[0].activation: expected \"softmax\" on the output node with the cross_entropy loss");
}

}  // namespace
}  // namespace graphrun::io
