// libFuzzer target: io::parse_idx and io::parse_idx_labels (raw and gzip) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "io/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    graphrun::io::parse_idx(bytes, "fuzz.idx");
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  try {
    graphrun::io::parse_idx_labels(bytes, "fuzz.idx");
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
