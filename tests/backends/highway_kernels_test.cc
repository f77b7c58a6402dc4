// Highway elementwise, reduction, softmax and loss kernels against the reference, on sizes
// around the vector width (1, N-1, N, N+1, odd), large ones that split over threads, in place,
// with 1, 2 and 3 threads, and with logits near +-1e4.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/kernels.h"
#include "core/thread_pool.h"
#include "tests/backends/highway_targets.h"

namespace graphrun {
namespace {

class HighwayKernels : public HighwayTargetTest {};
GRAPHRUN_INSTANTIATE_FOR_HIGHWAY_TARGETS(HighwayKernels);

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2), three(3);
  return threads == 1 ? one : threads == 2 ? two : three;
}

const int kThreads[] = {1, 2, 3};
const int64_t kLengths[] = {1, 3, 15, 16, 17, 31, 33, 63, 65, 127, 129, 784, 100003};
// (rows, cols) pairs: thin, wide, odd, and big enough to split rows over threads.
const int64_t kShapes[][2] = {{1, 1},  {3, 1},    {1, 17},  {5, 3},    {7, 16},    {4, 31},   {9, 33},
                              {2, 65}, {17, 127}, {3, 129}, {33, 784}, {2000, 10}, {300, 257}};

std::vector<float> random_vector(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// |got - want| <= abs + rel * |want| for every element.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double abs, double rel,
                  const char* what, int64_t size, int threads) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= abs + rel * std::abs(w))) {
      ADD_FAILURE() << what << "[" << i << "] = " << g << ", expected " << w << " (size " << size << ", threads "
                    << threads << ")";
      return;
    }
  }
}

TEST_P(HighwayKernels, BinaryAndScaleExactAndInPlace) {
  for (int64_t n : kLengths) {
    const auto a = random_vector(n, 1), b = random_vector(n, 2);
    std::vector<float> want(a.size());
    for (int t : kThreads) {
      std::vector<float> y(a.size());
      reference::add(a.data(), b.data(), want.data(), n);
      highway::add(a.data(), b.data(), y.data(), n, pool_of(t));
      expect_close(y, want, 0, 0, "add", n, t);
      std::vector<float> inplace = a;
      highway::add(inplace.data(), b.data(), inplace.data(), n, pool_of(t));
      expect_close(inplace, want, 0, 0, "add in place", n, t);

      reference::mul(a.data(), b.data(), want.data(), n);
      highway::mul(a.data(), b.data(), y.data(), n, pool_of(t));
      expect_close(y, want, 0, 0, "mul", n, t);
      inplace = b;
      highway::mul(a.data(), inplace.data(), inplace.data(), n, pool_of(t));
      expect_close(inplace, want, 0, 0, "mul in place", n, t);

      reference::scale(a.data(), -2.5f, want.data(), n);
      highway::scale(a.data(), -2.5f, y.data(), n, pool_of(t));
      expect_close(y, want, 0, 0, "scale", n, t);
      inplace = a;
      highway::scale(inplace.data(), -2.5f, inplace.data(), n, pool_of(t));
      expect_close(inplace, want, 0, 0, "scale in place", n, t);
    }
  }
}

TEST_P(HighwayKernels, RowBroadcastsAndSums) {
  for (const auto& s : kShapes) {
    const int64_t rows = s[0], cols = s[1], n = rows * cols;
    const auto x = random_vector(n, 3), bias = random_vector(cols, 4);
    std::vector<float> want(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (int t : kThreads) {
      reference::add_bias_rows(x.data(), bias.data(), want.data(), rows, cols);
      highway::add_bias_rows(x.data(), bias.data(), y.data(), rows, cols, pool_of(t));
      expect_close(y, want, 0, 0, "add_bias_rows", n, t);
      std::vector<float> inplace = x;
      highway::add_bias_rows(inplace.data(), bias.data(), inplace.data(), rows, cols, pool_of(t));
      expect_close(inplace, want, 0, 0, "add_bias_rows in place", n, t);

      reference::broadcast_rows(bias.data(), 0.75f, want.data(), rows, cols);
      highway::broadcast_rows(bias.data(), 0.75f, y.data(), rows, cols, pool_of(t));
      expect_close(y, want, 0, 0, "broadcast_rows", n, t);

      std::vector<float> col_want(static_cast<size_t>(cols)), col(static_cast<size_t>(cols));
      reference::sum_rows(x.data(), col_want.data(), rows, cols);
      highway::sum_rows(x.data(), col.data(), rows, cols, pool_of(t));
      // float sums of `rows` terms |x| <= 1: error <= rows * u * rows.
      expect_close(col, col_want, 1e-6 * static_cast<double>(rows), 0, "sum_rows", n, t);
    }
  }
  // A scalar broadcast over many elements (cols == 1).
  const float v = 3.0f;
  std::vector<float> y(100003), want(100003);
  reference::broadcast_rows(&v, -2.0f, want.data(), 100003, 1);
  highway::broadcast_rows(&v, -2.0f, y.data(), 100003, 1, pool_of(3));
  expect_close(y, want, 0, 0, "broadcast scalar", 100003, 3);
}

TEST_P(HighwayKernels, SumAllAndMeanSquaredError) {
  for (int64_t n : kLengths) {
    const auto x = random_vector(n, 5), target = random_vector(n, 6);
    double abs_sum = 0;
    for (float v : x) abs_sum += std::abs(v);
    for (int t : kThreads) {
      const float want = reference::sum_all(x.data(), n);
      // Each of the 4 x lanes partial sums adds ~n / lanes terms: error << 1e-6 * sum|x|.
      EXPECT_NEAR(highway::sum_all(x.data(), n, pool_of(t)), want, 1e-6 * abs_sum + 1e-6)
          << "n=" << n << " threads=" << t;
      const float mse = reference::mean_squared_error(x.data(), target.data(), n);
      EXPECT_NEAR(highway::mean_squared_error(x.data(), target.data(), n, pool_of(t)), mse, 1e-5 * mse)
          << "n=" << n << " threads=" << t;
      std::vector<float> d(static_cast<size_t>(n)), dwant(static_cast<size_t>(n));
      reference::mean_squared_error_backward(x.data(), target.data(), n, 0.5f, dwant.data());
      highway::mean_squared_error_backward(x.data(), target.data(), n, 0.5f, d.data(), pool_of(t));
      expect_close(d, dwant, 1e-12, 1e-6, "mse backward", n, t);
    }
  }
}

TEST_P(HighwayKernels, SoftmaxForwardBackward) {
  for (float range : {1.0f, 30.0f, 1e4f}) {
    for (const auto& s : kShapes) {
      const int64_t rows = s[0], cols = s[1], n = rows * cols;
      const auto x = random_vector(n, 7, -range, range), dy = random_vector(n, 8);
      std::vector<float> want(static_cast<size_t>(n)), y(static_cast<size_t>(n));
      reference::softmax_rows(x.data(), want.data(), rows, cols);
      for (int t : kThreads) {
        highway::softmax_rows(x.data(), y.data(), rows, cols, pool_of(t));
        expect_close(y, want, 1e-7, 1e-5, "softmax", n, t);
        std::vector<float> inplace = x;
        highway::softmax_rows(inplace.data(), inplace.data(), rows, cols, pool_of(t));
        expect_close(inplace, want, 1e-7, 1e-5, "softmax in place", n, t);

        std::vector<float> dwant(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
        reference::softmax_rows_backward(want.data(), dy.data(), dwant.data(), rows, cols);
        highway::softmax_rows_backward(want.data(), dy.data(), dx.data(), rows, cols, pool_of(t));
        expect_close(dx, dwant, 1e-6, 1e-5, "softmax backward", n, t);
      }
    }
  }
}

TEST_P(HighwayKernels, SoftmaxCrossEntropy) {
  for (float range : {1.0f, 30.0f, 1e4f}) {
    for (const auto& s : kShapes) {
      const int64_t rows = s[0], cols = s[1], n = rows * cols;
      const auto logits = random_vector(n, 9, -range, range);
      std::mt19937 rng(10);
      std::vector<float> sparse(static_cast<size_t>(rows)), dense(static_cast<size_t>(n), 0.0f);
      for (int64_t r = 0; r < rows; ++r) {
        sparse[r] = static_cast<float>(rng() % static_cast<uint32_t>(cols));
        // Soft targets on odd rows, one-hot on even ones.
        if (r % 2 == 0) {
          dense[r * cols + static_cast<int64_t>(sparse[r])] = 1.0f;
        } else {
          for (int64_t c = 0; c < cols; ++c) dense[r * cols + c] = 1.0f / static_cast<float>(cols);
        }
      }
      for (bool is_sparse : {true, false}) {
        const float* labels = is_sparse ? sparse.data() : dense.data();
        const float want = reference::softmax_cross_entropy(logits.data(), labels, is_sparse, rows, cols);
        std::vector<float> dwant(static_cast<size_t>(n)), d(static_cast<size_t>(n));
        reference::softmax_cross_entropy_backward(logits.data(), labels, is_sparse, rows, cols, 2.0f, dwant.data());
        for (int t : kThreads) {
          const float got = highway::softmax_cross_entropy(logits.data(), labels, is_sparse, rows, cols, pool_of(t));
          ASSERT_TRUE(std::isfinite(got));
          // Loss terms are (max - x_c) + log(sum): float rounding of ~1e4 values is ~1e-3.
          EXPECT_NEAR(got, want, 1e-5 * std::abs(want) + 1e-5 + 2e-7 * range)
              << "rows=" << rows << " cols=" << cols << " sparse=" << is_sparse << " range=" << range
              << " threads=" << t;
          highway::softmax_cross_entropy_backward(logits.data(), labels, is_sparse, rows, cols, 2.0f, d.data(),
                                                  pool_of(t));
          expect_close(d, dwant, 1e-7, 1e-5, "cross-entropy backward", n, t);
        }
      }
    }
  }
}

}  // namespace
}  // namespace graphrun
