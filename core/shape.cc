#include "core/shape.h"

#include "core/error.h"

namespace graphrun {

Shape::Shape(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims) push_back(d);
}

void Shape::push_back(int64_t d) {
  if (rank_ >= kMaxRank) {
    throw Error(ErrorKind::Shape, "shape has more than " + std::to_string(kMaxRank) + " dimensions");
  }
  dims_[static_cast<size_t>(rank_++)] = d;
}

Shape Shape::resolved(int64_t batch) const {
  Shape s = *this;
  if (has_batch()) s.dims_[0] = batch;
  return s;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    GRAPHRUN_CHECK(dims_[static_cast<size_t>(i)] >= 0);
    n *= dims_[static_cast<size_t>(i)];
  }
  return n;
}

int64_t Shape::inner() const {
  int64_t n = 1;
  for (int i = 1; i < rank_; ++i) n *= dims_[static_cast<size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank_ != o.rank_) return false;
  for (int i = 0; i < rank_; ++i) {
    if (dims_[static_cast<size_t>(i)] != o.dims_[static_cast<size_t>(i)]) return false;
  }
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ",";
    int64_t d = dims_[static_cast<size_t>(i)];
    s += d == kBatch ? std::string("N") : std::to_string(d);
  }
  return s + "]";
}

}  // namespace graphrun
