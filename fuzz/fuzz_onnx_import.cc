// libFuzzer target: onnx_io::import_onnx_bytes on arbitrary bytes (no model folder, so
// external data is refused; an empty plugin registry, so activation ops are refused by name),
// then the model-file writer on what imported.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/plugin_host.h"
#include "onnx/import.h"
#include "onnx/model_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static graphrun::PluginRegistry plugins;
  try {
    const graphrun::onnx_io::Imported m =
        graphrun::onnx_io::import_onnx_bytes(std::as_bytes(std::span(data, size)), "", plugins);
    graphrun::onnx_io::to_model_file(m, "fuzz.onnx");
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
