// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//
// Layout: magic 00 00 <type> <ndim>, then ndim big-endian uint32 dimensions, then the
// elements, big-endian, row-major. A file starting with 1f 8b is gunzipped on the fly.
//
// Safety: the element count and byte size are overflow checked and capped
// (kIdxMaxDataBytes); a raw file must hold exactly the declared bytes; a gzip stream is
// inflated in chunks and only up to the declared size plus one byte, so a stream that
// inflates to more than declared (a gzip bomb) is stopped, as is one that ends early. Memory
// grows with the data actually inflated, never with a size read from the header alone.
// Errors: Error(BadInput) naming the file, the byte offset or the expected and actual byte
// counts; Error(Io) when the file cannot be read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graphrun::io {

inline constexpr uint64_t kIdxMaxDataBytes = uint64_t{4} << 30;

enum class IdxType : uint8_t { U8 = 0x08, I8 = 0x09, I16 = 0x0B, I32 = 0x0C, F32 = 0x0D, F64 = 0x0E };

// An IDX array converted to f32, shaped like its dimensions (rank 1..4).
struct IdxArray {
  IdxType type = IdxType::U8;
  Tensor values;
};

// Any element type; values converted to float (I32 beyond 2^24 and F64 lose precision).
IdxArray read_idx(const std::string& path);
IdxArray parse_idx(std::span<const std::byte> file_bytes, const std::string& name_for_errors);

// Images: a rank-3 array [N, rows, cols]; values unscaled (0..255 for U8).
Tensor read_idx_images(const std::string& path);
// Labels: a rank-1 array of an integer type (U8, I8, I16, I32), every value >= 0; exact.
std::vector<int32_t> read_idx_labels(const std::string& path);
std::vector<int32_t> parse_idx_labels(std::span<const std::byte> file_bytes, const std::string& name_for_errors);

}  // namespace graphrun::io
