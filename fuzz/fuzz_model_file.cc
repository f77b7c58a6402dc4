// libFuzzer target: io::parse_model_file on arbitrary text (structure only: no plugin registry).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    graphrun::io::ModelFile m = graphrun::io::parse_model_file(text, "/fuzz/model.json");
    graphrun::io::parameter_count(m);
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
