// libFuzzer target: arbitrary bytes as a weights file applied to a small model's parameters
// (train::apply_weights: names, shapes, scaler, finite values) and as a checkpoint
// (train::parse_checkpoint: layout and metadata).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "core/parameters.h"
#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  // As a weights file: names, shapes, scaler and finiteness against the model's parameters.
  try {
    graphrun::io::SafetensorsFile f = graphrun::io::parse_safetensors(bytes, "fuzz.safetensors");
    graphrun::ParameterStore params;
    params.add("h.weight", graphrun::Shape{4, 3});
    params.add("h.bias", graphrun::Shape{3});
    params.add("out.weight", graphrun::Shape{3, 2});
    params.add("out.bias", graphrun::Shape{2});
    graphrun::io::Scaler scaler;
    graphrun::train::apply_weights(f, "fuzz.safetensors", params, &scaler);
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  // As a checkpoint: the metadata (model hash 0 is what the fuzzer has to find).
  try {
    graphrun::train::parse_checkpoint(bytes, "fuzz.safetensors", 0);
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
