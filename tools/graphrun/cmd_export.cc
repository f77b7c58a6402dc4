// graphrun export: a model file and its trained weights as an ONNX model for inference (the
// fitted scaler as leading nodes, the softmax output, node names from the layer names).
#include <fmt/format.h>
#include <memory>

#include "io/atomic_file.h"
#include "onnx/export.h"
#include "tools/graphrun/onnx_commands.h"
#include "tools/graphrun/session.h"

namespace graphrun::tool {

namespace {

int run_export(const ExportArgs& a) {
  bool had_scaler = false;
  io::Scaler from_weights;
  std::unique_ptr<Session> s = open_with_weights(a.common, a.model, a.weights, &had_scaler, &from_weights);
  const io::Scaler scaler = scaler_for_inference(*s, had_scaler, std::move(from_weights));
  const std::string bytes =
      onnx_io::export_onnx(s->model.graph, s->params, s->model.features, s->model.output, &scaler, a.opset);
  io::write_file_atomically(a.out, std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  fmt::print("exported {} (opset {}, {} bytes) to {}\n", a.model, a.opset, bytes.size(), a.out);
  return 0;
}

}  // namespace

Command export_command() {
  auto a = std::make_shared<ExportArgs>();
  return {"export", "A model file and its weights as an ONNX model for inference",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--weights", a->weights, "Weights or checkpoint (safetensors)").required();
            o.add("--out", a->out, "ONNX file to write").required();
            o.add("--opset", a->opset, "ONNX opset").range(9, 17).show_default();
            add_common_options(o, a->common, false);
          },
          [a] { return run_export(*a); }};
}

}  // namespace graphrun::tool
