#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace graphrun {

void AlignedFree::operator()(float* p) const { std::free(p); }

AlignedFloats allocate_aligned(size_t count) {
  // Round up to whole cache lines; aligned_alloc wants a multiple of the alignment.
  size_t bytes = (std::max<size_t>(count, 1) * sizeof(float) + kTensorAlignment - 1) /
                 kTensorAlignment * kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, bytes);
  if (!p) throw Error(ErrorKind::Runtime, "out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, bytes);
  return AlignedFloats(static_cast<float*>(p));
}

Tensor::Tensor(const Shape& shape) : shape_(shape), data_(allocate_aligned(static_cast<size_t>(shape.numel()))) {}

Tensor::Tensor(const Shape& shape, std::span<const float> values) : Tensor(shape) {
  if (static_cast<int64_t>(values.size()) != numel()) {
    throw Error(ErrorKind::Shape, "tensor of shape " + shape.str() + " needs " + std::to_string(numel()) +
                                      " values, got " + std::to_string(values.size()));
  }
  std::copy(values.begin(), values.end(), data_.get());
}

Tensor::Tensor(const Tensor& other) : Tensor(other.shape_, other.span()) {}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

}  // namespace graphrun
