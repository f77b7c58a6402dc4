// libFuzzer target: io::parse_safetensors on arbitrary bytes. Bad input must end in
// graphrun::Error(BadInput) and nothing else: no crash, no other exception, no huge allocation.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    graphrun::io::parse_safetensors_header(bytes, "fuzz.safetensors");
    graphrun::io::parse_safetensors(bytes, "fuzz.safetensors");
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
