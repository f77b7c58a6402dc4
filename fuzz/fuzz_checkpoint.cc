// libFuzzer target: a checkpoint read from arbitrary bytes (train::parse_checkpoint: layout,
// metadata) and its weights applied to a small model's parameters (names, shapes, values).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/parameters.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    graphrun::train::Checkpoint c = graphrun::train::parse_checkpoint(bytes, "fuzz.safetensors", 0);
    graphrun::ParameterStore params;
    params.add("h.weight", graphrun::Shape{4, 3});
    params.add("h.bias", graphrun::Shape{3});
    params.add("out.weight", graphrun::Shape{3, 2});
    params.add("out.bias", graphrun::Shape{2});
    graphrun::io::Scaler scaler;
    graphrun::train::apply_weights(c.file, c.path, params, &scaler);
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
