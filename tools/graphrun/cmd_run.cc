// graphrun run: any model (an .onnx file or a model file with weights) on named tensors, every
// output written by name. The inputs are fed as they are (no scaler).
#include <fmt/format.h>
#include <filesystem>
#include <memory>

#include "backends/registry.h"
#include "core/error.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "onnx/import.h"
#include "onnx/run_graph.h"
#include "tools/graphrun/onnx_commands.h"
#include "tools/graphrun/session.h"
#include "train/checkpoint.h"

namespace graphrun::tool {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The graph to run, its inputs and outputs by name.
struct Runnable {
  std::unique_ptr<onnx_io::Imported> onnx;
  std::unique_ptr<Session> session;
  const Graph* graph = nullptr;
  ParameterStore* params = nullptr;
  std::vector<NodeId> inputs, outputs;
  std::vector<std::string> output_names;
};

Runnable open(const RunArgs& a) {
  Runnable r;
  const PluginRegistry& plugins = load_plugins(a.common);
  if (ends_with(a.model, ".onnx")) {
    require_file(a.model, "model");
    r.onnx = std::make_unique<onnx_io::Imported>(onnx_io::import_onnx(a.model, plugins));
    if (!a.weights.empty()) {
      require_file(a.weights, "--weights");
      train::load_weights(a.weights, r.onnx->params, nullptr);
    }
    r.graph = &r.onnx->graph;
    r.params = &r.onnx->params;
    r.inputs = r.onnx->inputs;
    r.outputs = r.onnx->outputs;
    r.output_names = r.onnx->output_names;
    return r;
  }
  if (a.weights.empty()) throw Error(ErrorKind::BadInput, "run: a model file needs --weights");
  bool had_scaler = false;
  io::Scaler scaler;
  r.session = open_with_weights(a.common, a.model, a.weights, &had_scaler, &scaler);
  r.graph = &r.session->model.graph;
  r.params = &r.session->params;
  r.inputs = {r.session->model.features};
  r.outputs = {r.session->model.output};
  r.output_names = {r.graph->node(r.session->model.output).name};
  return r;
}

int run_run(const RunArgs& a) {
  backends::check_name(a.common.backend);
  Runnable r = open(a);
  require_file(a.inputs, "--inputs");
  std::vector<Tensor> values(r.inputs.size());
  if (ends_with(a.inputs, ".npy")) {
    if (r.inputs.size() != 1) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("--inputs {}: the model takes {} inputs; give them in a .safetensors "
                              "file",
                              a.inputs, r.inputs.size()));
    }
    values[0] = io::read_npy(a.inputs);
  } else {
    io::SafetensorsFile f = io::read_safetensors(a.inputs);
    for (size_t i = 0; i < r.inputs.size(); ++i) {
      const std::string& name = r.graph->node(r.inputs[i]).name;
      auto it = std::find_if(f.tensors.begin(), f.tensors.end(), [&](const auto& t) { return t.first == name; });
      if (it == f.tensors.end())
        throw Error(ErrorKind::BadInput, fmt::format("--inputs {}: no tensor '{}' (a model input)", a.inputs, name));
      values[i] = std::move(it->second);
    }
  }
  ThreadPool pool(a.common.threads);
  const std::vector<Tensor> out =
      onnx_io::run_graph(*r.graph, *r.params, r.inputs, values, r.outputs, a.common.backend, &pool);
  if (ends_with(a.out, ".npy")) {
    if (out.size() != 1) {
      throw Error(
          ErrorKind::BadInput,
          fmt::format("--out {}: the model has {} outputs; write them to a .safetensors file", a.out, out.size()));
    }
    io::write_npy(a.out, out[0]);
  } else {
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (size_t i = 0; i < out.size(); ++i) tensors.emplace_back(r.output_names[i], &out[i]);
    io::write_safetensors(a.out, tensors, {});
  }
  for (size_t i = 0; i < out.size(); ++i) fmt::print("{} {}\n", r.output_names[i], out[i].shape().str());
  return 0;
}

}  // namespace

Command run_command() {
  auto a = std::make_shared<RunArgs>();
  return {"run", "Run a model (.onnx, or a model file with weights) on named tensors",
          [a](Options& o) {
            o.add("model", a->model, "ONNX model or model file").required();
            o.add("--weights", a->weights, "Weights (safetensors; optional for .onnx)");
            o.add("--inputs", a->inputs, "Input tensors by name (.safetensors), or one input (.npy)").required();
            o.add("--out", a->out, "Output tensors by name (.safetensors), or one output (.npy)").required();
            add_common_options(o, a->common, true);
          },
          [a] { return run_run(*a); }};
}

}  // namespace graphrun::tool
