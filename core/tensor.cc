#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "core/error.h"

namespace graphrun {

void AlignedFree::operator()(float* p) const { std::free(p); }

AlignedFloats allocate_aligned(size_t count, bool zero) {
  constexpr size_t kHugePage = size_t{2} << 20;
  // Round up to whole cache lines (or huge pages); aligned_alloc wants a multiple of the alignment.
  const size_t raw = std::max<size_t>(count, 1) * sizeof(float);
  const size_t align = raw >= 2 * kHugePage ? kHugePage : kTensorAlignment;
  const size_t bytes = (raw + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (!p) throw Error(ErrorKind::Runtime, "out of memory allocating " + std::to_string(bytes) + " bytes");
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
#endif
  if (zero) std::memset(p, 0, bytes);
  return AlignedFloats(static_cast<float*>(p));
}

Tensor::Tensor(const Shape& shape) : shape_(shape), data_(allocate_aligned(static_cast<size_t>(shape.numel()))) {}

Tensor Tensor::for_overwrite(const Shape& shape) {
  Tensor t;
  t.shape_ = shape;
  t.data_ = allocate_aligned(static_cast<size_t>(shape.numel()), false);
  return t;
}

Tensor::Tensor(const Shape& shape, std::span<const float> values) : Tensor(for_overwrite(shape)) {
  if (static_cast<int64_t>(values.size()) != numel()) {
    throw Error(ErrorKind::Shape, "tensor of shape " + shape.str() + " needs " + std::to_string(numel()) +
                                      " values, got " + std::to_string(values.size()));
  }
  std::copy(values.begin(), values.end(), data_.get());
}

Tensor Tensor::reshaped(const Shape& shape) && {
  if (shape.numel() != numel()) {
    throw Error(ErrorKind::Shape, "cannot reshape a tensor of shape " + shape_.str() + " to " + shape.str());
  }
  shape_ = shape;
  return std::move(*this);
}

Tensor::Tensor(const Tensor& other) : Tensor(other.shape_, other.span()) {}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) *this = Tensor(other);
  return *this;
}

}  // namespace graphrun
