// Tensor: an owned, 64-byte aligned, row-major f32 array with a concrete Shape.
//
// Tensors hold parameters, optimizer state and data outside a Program; inside a Program,
// values live in its arena and are seen through TensorView (pointer + shape, no ownership).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/shape.h"

namespace graphrun {

inline constexpr size_t kTensorAlignment = 64;

// A 64-byte aligned float allocation, zero-filled unless `zero` is false (the caller then
// writes every element before reading it). Allocations of several MiB (a data set, a large
// arena) are 2 MiB aligned and asked for transparent huge pages: one page fault per 2 MiB
// rather than per 4 KiB, and fewer TLB misses when a shuffled batch gathers its rows.
struct AlignedFree {
  void operator()(float* p) const;
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;
AlignedFloats allocate_aligned(size_t count, bool zero = true);

struct TensorView {
  float* data = nullptr;
  Shape shape;
  int64_t numel() const { return shape.numel(); }
  std::span<float> span() const { return {data, static_cast<size_t>(numel())}; }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(const Shape& shape);  // zero-filled
  Tensor(const Shape& shape, std::span<const float> values);
  // Uninitialised storage, for a producer that writes every element (a file reader).
  static Tensor for_overwrite(const Shape& shape);

  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return shape_.numel(); }
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), static_cast<size_t>(numel())}; }
  std::span<const float> span() const { return {data_.get(), static_cast<size_t>(numel())}; }
  float& operator[](int64_t i) { return data_[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return data_[static_cast<size_t>(i)]; }
  TensorView view() { return {data_.get(), shape_}; }
  // The same storage under another shape of as many elements (no copy).
  Tensor reshaped(const Shape& shape) &&;

 private:
  Shape shape_;
  AlignedFloats data_;
};

}  // namespace graphrun
