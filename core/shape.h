// Shape: the dimensions of an f32 tensor, row-major, rank 0..kMaxRank.
//
// A shape in a Graph may carry one symbolic batch dimension (kBatch, always the first); a
// Program resolves it to a concrete batch size. Shapes are small values with no heap storage,
// so copying them in a training step allocates nothing.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace graphrun {

class Shape {
 public:
  static constexpr int kMaxRank = 6;
  static constexpr int64_t kBatch = -1;  // the symbolic batch dimension

  Shape() = default;  // rank 0: a scalar
  Shape(std::initializer_list<int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  void push_back(int64_t d);

  bool has_batch() const { return rank_ > 0 && dims_[0] == kBatch; }
  // The same shape with the batch dimension made concrete.
  Shape resolved(int64_t batch) const;
  // Element count; the shape must be concrete (no kBatch).
  int64_t numel() const;
  // Element count per batch row (product of all but the first dimension).
  int64_t inner() const;
  // Rows and columns when the tensor is seen as a matrix: last dim is columns.
  int64_t rows() const { return rank_ == 0 ? 1 : numel() / dims_[static_cast<size_t>(rank_ - 1)]; }
  int64_t cols() const { return rank_ == 0 ? 1 : dims_[static_cast<size_t>(rank_ - 1)]; }

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  // "[N,784]" with N for the batch dimension.
  std::string str() const;

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace graphrun
