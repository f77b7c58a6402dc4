// The reference kernels against values computed by hand: the oracle must itself be right.
#include "backends/reference/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace graphrun::reference {
namespace {

TEST(ReferenceKernels, GemmTwoByThreeTimesThreeByTwo) {
  const double A[] = {1, 2, 3, 4, 5, 6};      // 2x3
  const double At[] = {1, 4, 2, 5, 3, 6};     // A^T stored 3x2
  const double B[] = {7, 8, 9, 10, 11, 12};   // 3x2
  const double Bt[] = {7, 9, 11, 8, 10, 12};  // B^T stored 2x3
  const double expected[] = {58, 64, 139, 154};
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      double C[4] = {1, 1, 1, 1};
      gemm<double>(ta, tb, 2, 2, 3, ta ? At : A, ta ? 2 : 3, tb ? Bt : B, tb ? 3 : 2, C, 2, false);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(C[i], expected[i]) << "ta=" << ta << " tb=" << tb;
      gemm<double>(ta, tb, 2, 2, 3, ta ? At : A, ta ? 2 : 3, tb ? Bt : B, tb ? 3 : 2, C, 2, true);
      for (int i = 0; i < 4; ++i) EXPECT_EQ(C[i], 2 * expected[i]);
    }
  }
  // Strides: C's second column block (ldc = 3) is left alone.
  float Cs[6] = {-1, -1, -1, -1, -1, -1};
  const float Af[] = {1, 2, 3, 0, 4, 5, 6, 0};  // lda = 4
  const float Bf[] = {7, 8, 9, 10, 11, 12};
  gemm<float>(false, false, 2, 2, 3, Af, 4, Bf, 2, Cs, 3, false);
  EXPECT_EQ(Cs[0], 58);
  EXPECT_EQ(Cs[1], 64);
  EXPECT_EQ(Cs[2], -1);
  EXPECT_EQ(Cs[3], 139);
  EXPECT_EQ(Cs[4], 154);
  EXPECT_EQ(Cs[5], -1);
}

TEST(ReferenceKernels, Elementwise) {
  const float a[] = {1, 2, 3}, b[] = {4, 5, -6};
  float y[3];
  add(a, b, y, 3);
  EXPECT_EQ(y[0], 5);
  EXPECT_EQ(y[1], 7);
  EXPECT_EQ(y[2], -3);
  mul(a, b, y, 3);
  EXPECT_EQ(y[0], 4);
  EXPECT_EQ(y[1], 10);
  EXPECT_EQ(y[2], -18);
  scale(a, 2.0f, y, 3);
  EXPECT_EQ(y[0], 2);
  EXPECT_EQ(y[1], 4);
  EXPECT_EQ(y[2], 6);
  const float x[] = {1, 2, 3, 4, 5, 6};  // 2x3
  const float bias[] = {10, 20, 30};
  float z[6];
  add_bias_rows(x, bias, z, 2, 3);
  EXPECT_EQ(z[0], 11);
  EXPECT_EQ(z[4], 25);
  EXPECT_EQ(z[5], 36);
  broadcast_rows(bias, 0.5f, z, 2, 3);
  EXPECT_EQ(z[0], 5);
  EXPECT_EQ(z[3], 5);
  EXPECT_EQ(z[5], 15);
  const float s = 7;
  broadcast_rows(&s, 2.0f, z, 4, 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(z[i], 14);
  sum_rows(x, y, 2, 3);
  EXPECT_EQ(y[0], 5);
  EXPECT_EQ(y[1], 7);
  EXPECT_EQ(y[2], 9);
  EXPECT_EQ(sum_all(x, 6), 21);
}

TEST(ReferenceKernels, SoftmaxOfZeroAndLn2) {
  const double x[] = {0, std::log(2.0), -1e4, 1e4};
  double y[4];
  softmax_rows(x, y, 2, 2);
  EXPECT_NEAR(y[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(y[1], 2.0 / 3, 1e-15);
  EXPECT_EQ(y[2], 0.0);
  EXPECT_EQ(y[3], 1.0);
  // dx = y * (dy - sum(dy * y)) with dy = [1, 0]: sum = 1/3, dx = [2/9, -2/9].
  const double dy[] = {1, 0, 1, 0};
  double dx[4];
  softmax_rows_backward(y, dy, dx, 2, 2);
  EXPECT_NEAR(dx[0], 2.0 / 9, 1e-15);
  EXPECT_NEAR(dx[1], -2.0 / 9, 1e-15);
}

TEST(ReferenceKernels, CrossEntropyByHand) {
  // Row 0: softmax([0, ln2]) = [1/3, 2/3]; row 1: logits [-1e4, 1e4] -> p = [0, 1].
  const double logits[] = {0, std::log(2.0), -1e4, 1e4};
  const double sparse[] = {1, 0};  // -ln(2/3) and 2e4
  const double onehot[] = {0, 1, 1, 0};
  const double soft[] = {0.5, 0.5, 0, 1};  // 0.5 ln3 + 0.5 ln1.5, and 0
  const double expected_sparse = (std::log(1.5) + 2e4) / 2;
  EXPECT_NEAR(softmax_cross_entropy(logits, sparse, true, 2, 2), expected_sparse, 1e-9);
  EXPECT_NEAR(softmax_cross_entropy(logits, onehot, false, 2, 2), expected_sparse, 1e-9);
  EXPECT_NEAR(softmax_cross_entropy(logits, soft, false, 2, 2), (0.5 * std::log(3.0) + 0.5 * std::log(1.5)) / 2, 1e-12);
  // dlogits = (p - t) * dloss / rows, dloss = 3.
  double d[4];
  softmax_cross_entropy_backward(logits, sparse, true, 2, 2, 3.0, d);
  EXPECT_NEAR(d[0], (1.0 / 3) * 1.5, 1e-12);
  EXPECT_NEAR(d[1], (2.0 / 3 - 1) * 1.5, 1e-12);
  EXPECT_NEAR(d[2], -1.5, 1e-12);
  EXPECT_NEAR(d[3], 1.5, 1e-12);
  float logits_f[] = {0, 0.6931472f, -1e4f, 1e4f};
  float sparse_f[] = {1, 0};
  const float loss_f = softmax_cross_entropy(logits_f, sparse_f, true, 2, 2);
  EXPECT_NEAR(loss_f, expected_sparse, 1e-2);
}

TEST(ReferenceKernels, MeanSquaredError) {
  const float p[] = {1, 2}, t[] = {0, 0};
  EXPECT_EQ(mean_squared_error(p, t, 2), 2.5f);
  float d[2];
  mean_squared_error_backward(p, t, 2, 0.5f, d);  // 2 (p - t) / n * dloss = (p - t) / 2
  EXPECT_EQ(d[0], 0.5f);
  EXPECT_EQ(d[1], 1.0f);
}

}  // namespace
}  // namespace graphrun::reference
