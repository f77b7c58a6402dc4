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

TEST(Shape, TooManyDimensionsIsAnError) {
  EXPECT_THROW((Shape{1, 2, 3, 4, 5, 6, 7}), Error);
}

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

}  // namespace
}  // namespace graphrun
