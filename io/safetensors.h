// safetensors: the weights and checkpoint format shared with PyTorch, JAX and numpy tools.
//
// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data.
// The JSON object maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the start of the data) and may hold "__metadata__": {string: string}.
//
// Validation follows the reference Rust implementation: N <= 100 MB and inside the file, the
// header a JSON object (nesting depth bounded before any DOM is built), no duplicate keys,
// exactly the three fields per tensor, a known dtype, non-negative integer dims, the byte size
// (elements x dtype size, overflow checked) equal to end - begin, and the tensors' data
// contiguous from 0 and covering the data exactly. Every error is Error(BadInput) naming the
// file and the place (byte offset, tensor name, JSON field).
//
// graphrun tensors are f32 and rank <= Shape::kMaxRank: a file with other dtypes is parsed and
// validated (parse_safetensors_header) but read_safetensors refuses it, naming the tensor.
// Little-endian hosts only (static_assert in the .cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace graphrun::io {

inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;
inline constexpr int kSafetensorsMaxJsonDepth = 8;
inline constexpr uint64_t kSafetensorsMaxFileBytes = uint64_t{64} << 30;

// One tensor as the header describes it; offsets are relative to the start of the data.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ... (a known dtype)
  std::vector<uint64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;  // in data order (ties: header order)
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // byte offset of the data in the file (8 + N)
};

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file (data) order
  std::map<std::string, std::string> metadata;
};

// Bytes per element of a safetensors dtype name, or 0 when the name is not a known dtype.
uint64_t safetensors_dtype_size(const std::string& dtype);

// Parses and validates the whole layout (any dtype, any rank); copies no tensor data.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> bytes, const std::string& name_for_errors);

// Parses, validates and loads: every tensor must be F32 with rank <= Shape::kMaxRank.
SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, const std::string& name_for_errors);
SafetensorsFile read_safetensors(const std::string& path);

// Serialises in the given order (nothing is sorted), tensors as F32. The header is padded with
// spaces to a multiple of 8 bytes. Duplicate, empty or "__metadata__" names, a null pointer or
// invalid UTF-8 are Error(BadInput).
std::vector<std::byte> serialize_safetensors(const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                                             const std::map<std::string, std::string>& metadata);
// serialize_safetensors + write_file_atomically.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace graphrun::io
