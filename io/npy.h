// NumPy .npy files (format 1.0-3.0) of float32, C order: one tensor per file, what
// `graphrun run` accepts and writes beside safetensors.
//
// The reader checks the magic, the header length against the file, the header dict (descr
// '<f4', fortran_order False, shape of at most Shape::kMaxRank non-negative dims), and that the
// data is exactly the shape's size (overflow checked). Errors are Error(BadInput) naming the
// file and what was expected.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace graphrun::io {

Tensor parse_npy(std::span<const std::byte> bytes, const std::string& name_for_errors);
Tensor read_npy(const std::string& path);
std::vector<std::byte> serialize_npy(const Tensor& t);
void write_npy(const std::string& path, const Tensor& t);  // atomic

}  // namespace graphrun::io
