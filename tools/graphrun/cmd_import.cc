// graphrun import: an ONNX model as a graphrun model file (graph form) and its weights.
#include <fmt/format.h>
#include <filesystem>
#include <memory>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "onnx/import.h"
#include "onnx/model_json.h"
#include "tools/graphrun/onnx_commands.h"
#include "tools/graphrun/session.h"

namespace graphrun::tool {

namespace {

int run_import(const ImportArgs& a) {
  require_file(a.model, "model");
  const PluginRegistry& plugins = load_plugins(a.common);
  const onnx_io::Imported m = onnx_io::import_onnx(a.model, plugins);
  const onnx_io::ModelFileText text = onnx_io::to_model_file(m, a.model);  // everything checked before writing
  std::filesystem::create_directories(a.out_dir);
  const std::string model_path = (std::filesystem::path(a.out_dir) / "model.json").string();
  const std::string weights_path = (std::filesystem::path(a.out_dir) / "weights.safetensors").string();
  std::vector<std::pair<std::string, const Tensor*>> tensors;
  for (const auto& [name, t] : text.weights) tensors.emplace_back(name, &t);
  io::write_safetensors(weights_path, tensors, {{"source", std::filesystem::path(a.model).filename().string()}});
  io::write_file_atomically(model_path, std::as_bytes(std::span<const char>(text.json.data(), text.json.size())));
  fmt::print("imported {} (opset {}, {} nodes, {} weight tensors) to {} and {}\n", a.model, m.opset, m.graph.size(),
             text.weights.size(), model_path, weights_path);
  return 0;
}

}  // namespace

Command import_command() {
  auto a = std::make_shared<ImportArgs>();
  return {"import", "An ONNX model as a model file (graph form) and weights",
          [a](Options& o) {
            o.add("model", a->model, "ONNX model (.onnx)").required();
            o.add("--out", a->out_dir, "Folder for model.json and weights.safetensors").required();
            add_common_options(o, a->common, false);
          },
          [a] { return run_import(*a); }};
}

}  // namespace graphrun::tool
