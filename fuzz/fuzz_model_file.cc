// libFuzzer target: io::parse_model_file on arbitrary text (structure only: no plugin registry),
// then the graph it describes (shape checks, parameter bounds) without allocating parameters.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/model_file.h"
#include "train/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    graphrun::io::ModelFile m = graphrun::io::parse_model_file(text, "/fuzz/model.json");
    graphrun::train::build_network(graphrun::train::to_network_spec(m), graphrun::PluginRegistry::global());
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
