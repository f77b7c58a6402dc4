#include "core/shape.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tensor.h"

namespace graphrun {
namespace {

TEST(Shape, BatchResolvesAndCounts) {
  Shape s{Shape::kBatch, 28, 28};
  EXPECT_TRUE(s.has_batch());
  EXPECT_EQ(s.str(), "[N,28,28]");
  EXPECT_EQ(s.inner(), 784);
  Shape r = s.resolved(32);
  EXPECT_FALSE(r.has_batch());
  EXPECT_EQ(r.numel(), 32 * 784);
  EXPECT_EQ(r.rows(), 32 * 28);
  EXPECT_EQ(r.cols(), 28);
}

TEST(Shape, ScalarHasOneElement) {
  Shape s;
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.str(), "[]");
}

TEST(Shape, TooManyDimensionsIsAnError) { EXPECT_THROW((Shape{1, 2, 3, 4, 5, 6, 7}), Error); }

TEST(Tensor, IsAlignedAndCopies) {
  Tensor t(Shape{3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % kTensorAlignment, 0u);
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t[i], 0.0f);
  t[7] = 2.5f;
  Tensor u = t;
  EXPECT_EQ(u[7], 2.5f);
  EXPECT_NE(u.data(), t.data());
  EXPECT_THROW(Tensor(Shape{2}, std::vector<float>{1, 2, 3}), Error);
}

TEST(Tensor, LargeTensorsAreZeroedAndHugePageAligned) {
  const int64_t n = (int64_t{5} << 20) / 4 + 3;  // 5 MiB and a tail: the huge-page path
  Tensor t(Shape{n});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % (uintptr_t{2} << 20), 0u);
  for (int64_t i : {int64_t{0}, n / 2, n - 1}) EXPECT_EQ(t[i], 0.0f);
  Tensor w = Tensor::for_overwrite(Shape{n});
  w[n - 1] = 4.0f;  // writable to the last element
  EXPECT_EQ(w[n - 1], 4.0f);
}

TEST(Tensor, ReshapedKeepsTheStorage) {
  Tensor t(Shape{2, 3, 4});
  t[23] = 1.5f;
  const float* data = t.data();
  Tensor flat = std::move(t).reshaped(Shape{2, 12});
  EXPECT_EQ(flat.shape(), (Shape{2, 12}));
  EXPECT_EQ(flat.data(), data);
  EXPECT_EQ(flat[23], 1.5f);
  EXPECT_THROW((void)std::move(flat).reshaped(Shape{5, 5}), Error);
}

}  // namespace
}  // namespace graphrun
