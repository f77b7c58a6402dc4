#include "io/checked_math.h"

#include <gtest/gtest.h>

#include <vector>

namespace graphrun::io {
namespace {

constexpr uint64_t k2_32 = uint64_t{1} << 32;
constexpr uint64_t kMaxI64 = (uint64_t{1} << 63) - 1;
constexpr uint64_t kMax = UINT64_MAX;

TEST(CheckedMath, MulAtTheEdges) {
  EXPECT_EQ(checked_mul(0, kMax), 0u);
  EXPECT_EQ(checked_mul(kMax, 0), 0u);
  EXPECT_EQ(checked_mul(kMax, 1), kMax);
  EXPECT_EQ(checked_mul(k2_32 - 1, k2_32 + 1), kMax);  // (2^32-1)(2^32+1) = 2^64-1
  EXPECT_FALSE(checked_mul(k2_32, k2_32));             // 2^64
  EXPECT_EQ(checked_mul(k2_32, k2_32 - 1), kMax - k2_32 + 1);
  EXPECT_EQ(checked_mul(kMaxI64, 2), kMax - 1);
  EXPECT_FALSE(checked_mul(kMaxI64, 3));
  EXPECT_FALSE(checked_mul(kMax, 2));
  static_assert(checked_mul(3, 4) == 12u);
}

TEST(CheckedMath, AddAtTheEdges) {
  EXPECT_EQ(checked_add(0, 0), 0u);
  EXPECT_EQ(checked_add(kMax, 0), kMax);
  EXPECT_FALSE(checked_add(kMax, 1));
  EXPECT_EQ(checked_add(kMaxI64, kMaxI64 + 1), kMax);
  EXPECT_FALSE(checked_add(kMaxI64 + 1, kMaxI64 + 1));
  EXPECT_EQ(checked_add(k2_32, k2_32), uint64_t{1} << 33);
}

TEST(CheckedMath, ProductOfDims) {
  EXPECT_EQ(checked_product({}), 1u);
  EXPECT_EQ(checked_product(std::vector<uint64_t>{60000, 28, 28}), 47040000u);
  EXPECT_FALSE(checked_product(std::vector<uint64_t>{k2_32, k2_32}));
  EXPECT_EQ(checked_product(std::vector<uint64_t>{k2_32, k2_32, 0}), 0u);  // a zero dim wins
  EXPECT_EQ(checked_product(std::vector<uint64_t>{kMax}), kMax);
  EXPECT_FALSE(checked_product(std::vector<uint64_t>{kMax, 2}));
  // With a limit: int64 range.
  EXPECT_EQ(checked_product(std::vector<uint64_t>{kMaxI64}, kMaxI64), kMaxI64);
  EXPECT_FALSE(checked_product(std::vector<uint64_t>{kMaxI64 + 1}, kMaxI64));
  EXPECT_FALSE(checked_product(std::vector<uint64_t>{k2_32, k2_32 / 2}, kMaxI64));  // 2^63
}

}  // namespace
}  // namespace graphrun::io
