// io/model_file: the sequential form, defaults, path resolution, and one test per bad input,
// each checking that the message names the file, the JSON path and what was expected.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/plugin_host.h"
#include "io/model_file.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

const char* kGood = R"({
  "description": "test",
  "inputs": 784,
  "layers": [
    {"units": 400, "activation": "sigmoid", "init": "normal", "bias_init": {"kind": "normal", "std": 0.5}},
    {"name": "out", "units": 10, "activation": "softmax", "bias": false, "init": {"kind": "uniform", "low": -1, "high": 1}}
  ],
  "loss": "sparse_categorical_crossentropy",
  "optimizer": {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
  "data": {"train_images": "a/train.idx", "train_labels": "/abs/labels.idx", "scaling": "standardize"},
  "training": {"epochs": 3, "batch_size": 1, "shuffle": false, "seed": 18446744073709551615}
})";

PluginRegistry& plugins() {
  static PluginRegistry* r = [] {
    auto* p = new PluginRegistry;
    p->load_search_path();
    return p;
  }();
  return *r;
}

// The one-line BadInput message parsing `text` gives (plugins: check activation and optimizer names).
std::string error_of(const std::string& text, bool with_plugins = false) {
  return testing::expect_error([&] { parse_model_file(text, "dir/m.json", with_plugins ? &plugins() : nullptr); },
                               ErrorKind::BadInput, {});
}

#define EXPECT_ERROR(text, fragment)                                                                                \
  EXPECT_TRUE(testing::expect_error([&] { parse_model_file(text, "dir/m.json"); }, ErrorKind::BadInput, {fragment}) \
                  .starts_with("dir/m.json"))

std::string layer(const std::string& body) {
  return R"({"inputs": 4, "layers": [)" + body + R"(, {"units": 2, "activation": "softmax"}]})";
}

TEST(ModelFile, ParsesTheSequentialForm) {
  ModelFile m = parse_model_file(kGood, "dir/m.json", &plugins());
  EXPECT_EQ(m.inputs, 784);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].name, "dense0");
  EXPECT_EQ(m.layers[0].units, 400);
  EXPECT_EQ(m.layers[0].activation, "sigmoid");
  EXPECT_EQ(m.layers[0].init.kind, InitKind::Normal);
  EXPECT_EQ(m.layers[0].init.b, 1.0);
  EXPECT_TRUE(m.layers[0].use_bias);
  EXPECT_EQ(m.layers[0].bias_init.kind, InitKind::Normal);
  EXPECT_EQ(m.layers[0].bias_init.b, 0.5);
  EXPECT_EQ(m.layers[1].name, "out");
  EXPECT_FALSE(m.layers[1].use_bias);
  EXPECT_EQ(m.layers[1].init.kind, InitKind::Uniform);
  EXPECT_EQ(m.loss, "cross_entropy");
  EXPECT_EQ(m.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(m.learning_rate, 0.01);
  ASSERT_EQ(m.optimizer_params.size(), 1u);
  EXPECT_EQ(m.optimizer_params[0].first, "momentum");
  ASSERT_TRUE(m.data.has_value());
  EXPECT_EQ(m.data->train_images, "dir/a/train.idx");
  EXPECT_EQ(m.data->train_labels, "/abs/labels.idx");
  EXPECT_EQ(m.data->scaling, "standardize");
  EXPECT_EQ(m.epochs, 3);
  EXPECT_EQ(m.batch_size, 1);
  EXPECT_FALSE(m.shuffle);
  EXPECT_EQ(m.seed, UINT64_MAX);
  EXPECT_FALSE(m.graph_form);
  ASSERT_EQ(m.graph_inputs.size(), 1u);
  EXPECT_EQ(m.graph_inputs[0].shape, std::vector<int64_t>{784});
  EXPECT_EQ(m.layers[0].op, "dense");
  EXPECT_EQ(m.layers[0].inputs, std::vector<std::string>{"features"});
  EXPECT_EQ(m.layers[1].inputs, std::vector<std::string>{"dense0"});
  EXPECT_EQ(m.outputs, std::vector<std::string>{"out"});
}

TEST(ModelFile, HashIgnoresWhitespaceButNotLayers) {
  const std::string a = R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}]})";
  const std::string b =
      "{\n \"inputs\":4,\"layers\":[ {\"units\":2,\"activation\":\"softmax\"} ],\n"
      " \"training\": {\"epochs\": 9}}";
  const std::string c = R"({"inputs": 4, "layers": [{"units": 3, "activation": "softmax"}]})";
  EXPECT_EQ(parse_model_file(a, "m").model_hash, parse_model_file(b, "m").model_hash);
  EXPECT_NE(parse_model_file(a, "m").model_hash, parse_model_file(c, "m").model_hash);
}

TEST(ModelFile, MissingAndEmptyFiles) {
  try {
    read_model_file("/nonexistent/dir/x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.json: no such model file"), std::string::npos) << e.what();
  }
  EXPECT_ERROR("", "empty file");
  EXPECT_ERROR("  \n\t", "empty file");
}

TEST(ModelFile, SyntaxErrorsGiveLineAndColumn) {
  EXPECT_ERROR("{\n  \"inputs\": 4,\n  \"layers\": [,]\n}", "dir/m.json:3:");
  EXPECT_ERROR("{\"inputs\": 4,}", "invalid JSON");
  EXPECT_ERROR("{\"inputs\": 4", "invalid JSON");
  EXPECT_ERROR("[1, 2]", "expected a JSON object at the top level, got an array");
  std::string deep = R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax", "init": )";
  for (int i = 0; i < 40; ++i) deep += "[";
  EXPECT_ERROR(deep, "nesting deeper than");
  EXPECT_ERROR(R"({"inputs": 4, "inputs": 5, "layers": []})", "dir/m.json: (top level): duplicate key \"inputs\"");
  EXPECT_ERROR(
      R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "training": {"epochs": 1, "epochs": 2}})",
      "dir/m.json: training: duplicate key \"epochs\"");
  EXPECT_ERROR(layer(R"({"units": 3, "units": 2})"), "dir/m.json: layers[0]: duplicate key \"units\"");
}

TEST(ModelFile, WrongTypes) {
  EXPECT_ERROR(R"({"inputs": "784", "layers": []})",
               "inputs: expected an integer from 1 to 100000000, got string \"784\"");
  EXPECT_ERROR(R"({"inputs": 4, "layers": {}})", "layers: expected an array of 1 to 1000 layers, got an object");
  EXPECT_ERROR(R"({"inputs": 4, "layers": []})", "layers: expected an array of 1 to 1000 layers, got an array");
  EXPECT_ERROR(layer(R"({"units": 3.5})"), "layers[0].units: expected an integer from 1 to 1000000, got 3.5");
  EXPECT_ERROR(layer(R"({"units": 3, "bias": "yes"})"), "layers[0].bias: expected true or false, got string \"yes\"");
  EXPECT_ERROR(layer(R"({"units": 3, "init": 5})"), "layers[0].init: expected an initializer name");
  EXPECT_ERROR(layer(R"({"units": 3, "init": "gaussian"})"), "layers[0].init: expected one of zeros, constant, normal");
  EXPECT_ERROR(layer(R"({"units": 3, "init": {"kind": "normal", "std": -1}})"),
               "layers[0].init.std: expected a finite number >= 0");
  EXPECT_ERROR(layer(R"({"units": 3, "init": {"kind": "normal", "low": 1}})"), "layers[0].init.low: unknown key");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "training": {"epochs": -1}})",
               "training.epochs: expected an integer from 0 to 1000000, got -1");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "training": {"batch_size": 0}})",
               "training.batch_size: expected an integer from 1 to 1000000, got 0");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "training": {"seed": -1}})",
               "training.seed: expected an integer");
  EXPECT_ERROR(
      R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "optimizer": {"name": "sgd", "learning_rate": 0}})",
      "optimizer.learning_rate: expected a finite number > 0, got 0");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "optimizer": 3})",
               "optimizer: expected an optimizer name or an object");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "loss": "hinge"})",
               "loss: expected one of cross_entropy");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "data": {"format": "parquet"}})",
               "data.format: expected one of idx, csv");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "data": {"train_images": "x"}})",
               "data: expected \"train_labels\"");
  EXPECT_ERROR(
      R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "data": {"format": "csv", "train": "x", "scaling": "log"}})",
      "data.scaling: expected one of none, minmax, minmax_global, standardize");
}

TEST(ModelFile, UnitsRange) {
  EXPECT_ERROR(layer(R"({"units": -3})"), "layers[0].units: expected an integer from 1 to 1000000, got -3");
  EXPECT_ERROR(layer(R"({"units": 0})"), "layers[0].units: expected an integer from 1 to 1000000, got 0");
  EXPECT_ERROR(layer(R"({"units": 1000001})"), "got 1000001");
  EXPECT_ERROR(layer(R"({"units": 99999999999999999999999})"), "layers[0].units: expected an integer");
  EXPECT_ERROR(layer(R"({"activation": "relu"})"), "layers[0]: expected \"units\"");
}

TEST(ModelFile, UnknownKeys) {
  EXPECT_ERROR(layer(R"({"units": 3, "unit": 3})"), "layers[0].unit: unknown key; expected one of: name, op, units");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "trianing": {}})",
               "trianing: unknown key");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "training": {"epoch": 2}})",
               "training.epoch: unknown key");
}

TEST(ModelFile, ActivationsAgainstPlugins) {
  const std::string unknown = error_of(layer(R"({"units": 3, "activation": "sigmod"})"), true);
  EXPECT_NE(unknown.find("layers[0].activation: expected an activation, one of linear,"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("sigmoid"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("got string \"sigmod\""), std::string::npos) << unknown;

  const std::string alpha =
      error_of(layer(R"({"units": 3, "activation": "leaky_relu", "activation_params": {"alpha": "x"}})"));
  EXPECT_NE(alpha.find("layers[0].activation_params.alpha: expected a finite number, got string \"x\""),
            std::string::npos)
      << alpha;
  const std::string beta =
      error_of(layer(R"({"units": 3, "activation": "leaky_relu", "activation_params": {"beta": 1}})"), true);
  EXPECT_NE(beta.find("layers[0].activation_params: unknown parameter 'beta'"), std::string::npos) << beta;
  EXPECT_NO_THROW(parse_model_file(
      layer(R"({"units": 3, "activation": "leaky_relu", "activation_params": {"alpha": 0.3}})"), "m", &plugins()));
  EXPECT_ERROR(layer(R"({"units": 3, "activation": "linear", "activation_params": {"alpha": 1}})"),
               "takes no parameters");
  EXPECT_ERROR(R"({"inputs": 4, "layers": [{"units": 2, "activation": "sigmoid"}]})",
               "layers[0].activation: expected \"softmax\" on the last layer");

  const std::string opt =
      error_of(R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "optimizer": "sgdd"})", true);
  EXPECT_NE(opt.find("optimizer: expected an optimizer, one of"), std::string::npos) << opt;
  const std::string hyper = error_of(
      R"({"inputs": 4, "layers": [{"units": 2, "activation": "softmax"}], "optimizer": {"name": "sgd", "momentom": 1}})",
      true);
  EXPECT_NE(hyper.find("optimizer: unknown parameter 'momentom'"), std::string::npos) << hyper;
}

}  // namespace
}  // namespace graphrun::io
