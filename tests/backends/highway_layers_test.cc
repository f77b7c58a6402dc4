// Highway batch norm, layer norm, dropout and row copies against the reference, on every
// compiled Highway target, odd shapes (tails of every vector width), 1-3 threads, both modes.
// Each loop body is one (op, shape, mode, tolerance) row, ready for the consistency table.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/layer_kernels.h"
#include "core/thread_pool.h"
#include "tests/backends/highway_targets.h"

namespace graphrun {
namespace {

class HighwayLayers : public HighwayTargetTest {};
GRAPHRUN_INSTANTIATE_FOR_HIGHWAY_TARGETS(HighwayLayers);

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2), three(3);
  return threads == 1 ? one : threads == 2 ? two : three;
}

std::vector<float> random_vector(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= tol * (1.0 + std::abs(want[i])))) {
      ADD_FAILURE() << what << "[" << i << "] = " << got[i] << ", expected " << want[i];
      return;
    }
  }
}

// (N, C, S): [N, F] (S = 1) with channel counts around the vector widths, and images.
const int64_t kBatchNormShapes[][3] = {{1, 1, 1}, {3, 5, 1},  {7, 17, 1}, {33, 65, 1}, {2, 129, 1},
                                       {2, 3, 7}, {5, 3, 31}, {3, 7, 17}, {4, 2, 100}, {32, 16, 49}};

TEST_P(HighwayLayers, BatchNormMatchesReference) {
  for (const auto& sh : kBatchNormShapes) {
    const int64_t n = sh[0], c = sh[1], s = sh[2], count = n * c * s;
    const auto x = random_vector(count, 1, -2.0f, 3.0f), dy = random_vector(count, 2);
    const auto gamma = random_vector(c, 3, 0.5f, 1.5f), beta = random_vector(c, 4);
    const auto mean0 = random_vector(c, 5), var0 = random_vector(c, 6, 0.5f, 2.0f);
    for (bool training : {true, false}) {
      for (int threads : {1, 2, 3}) {
        const std::string row = "batch_norm N" + std::to_string(n) + " C" + std::to_string(c) + " S" +
                                std::to_string(s) + (training ? " training" : " inference") + " threads " +
                                std::to_string(threads);
        std::vector<float> want_y(x.size()), y(x.size()), want_mean = mean0, want_var = var0, mean = mean0, var = var0;
        reference::batch_norm_forward(x.data(), gamma.data(), beta.data(), want_mean.data(), want_var.data(),
                                      want_y.data(), n, c, s, 1e-5, training, training ? want_mean.data() : nullptr,
                                      training ? want_var.data() : nullptr, 0.9);
        highway::batch_norm_forward(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), y.data(), n, c, s,
                                    1e-5f, training, 0.9f, pool_of(threads));
        expect_close(y, want_y, 2e-5, row + " y");
        expect_close(mean, want_mean, 1e-6, row + " running_mean");
        expect_close(var, want_var, 1e-5, row + " running_var");
        // The gradients read the statistics the forward read (before its update).
        std::vector<float> want_dx(x.size()), dx(x.size()), want_p(2 * c), p(2 * c);
        reference::batch_norm_backward(x.data(), gamma.data(), mean0.data(), var0.data(), dy.data(), want_dx.data(), n,
                                       c, s, 1e-5, training);
        highway::batch_norm_backward(x.data(), gamma.data(), mean0.data(), var0.data(), dy.data(), dx.data(), n, c, s,
                                     1e-5f, training, pool_of(threads));
        expect_close(dx, want_dx, n * s == 1 ? 1e-3 : 5e-5, row + " dx");
        reference::batch_norm_param_grads(x.data(), mean0.data(), var0.data(), dy.data(), want_p.data(), n, c, s, 1e-5,
                                          training);
        highway::batch_norm_param_grads(x.data(), mean0.data(), var0.data(), dy.data(), p.data(), n, c, s, 1e-5f,
                                        training, pool_of(threads));
        expect_close(p, want_p, 5e-5, row + " d gamma, d beta");
      }
    }
  }
}

TEST_P(HighwayLayers, LayerNormMatchesReference) {
  const int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 17}, {2, 31}, {7, 129}, {300, 257}, {3, 1000}};
  for (const auto& sh : shapes) {
    const int64_t rows = sh[0], cols = sh[1];
    const auto x = random_vector(rows * cols, 11, -2.0f, 3.0f), dy = random_vector(rows * cols, 12);
    const auto gamma = random_vector(cols, 13, 0.5f, 1.5f), beta = random_vector(cols, 14);
    for (int threads : {1, 2, 3}) {
      const std::string row =
          "layer_norm " + std::to_string(rows) + "x" + std::to_string(cols) + " threads " + std::to_string(threads);
      std::vector<float> want(x.size()), got(x.size());
      reference::layer_norm_forward(x.data(), gamma.data(), beta.data(), want.data(), rows, cols, 1e-5);
      highway::layer_norm_forward(x.data(), gamma.data(), beta.data(), got.data(), rows, cols, 1e-5f, pool_of(threads));
      expect_close(got, want, 2e-5, row + " y");
      reference::layer_norm_backward(x.data(), gamma.data(), dy.data(), want.data(), rows, cols, 1e-5);
      highway::layer_norm_backward(x.data(), gamma.data(), dy.data(), got.data(), rows, cols, 1e-5f, pool_of(threads));
      expect_close(got, want, cols == 1 ? 1e-3 : 5e-5, row + " dx");
      std::vector<float> want_p(2 * cols), p(2 * cols, 123.0f);  // the kernel overwrites
      reference::layer_norm_param_grads(x.data(), dy.data(), want_p.data(), rows, cols, 1e-5);
      highway::layer_norm_param_grads(x.data(), dy.data(), p.data(), rows, cols, 1e-5f, pool_of(threads));
      expect_close(p, want_p, 5e-5, row + " d gamma, d beta");
    }
  }
}

// The mask is a function of (key, element) alone: the same bits on every target and thread count.
TEST_P(HighwayLayers, DropoutIsTheReferenceMaskOnAnyThreadCount) {
  for (int64_t n : {1, 7, 15, 16, 17, 33, 1000, 100003}) {
    const auto x = random_vector(n, 21);
    for (float rate : {0.1f, 0.5f, 0.9f}) {
      const uint64_t key = dropout_key(42, 7, 12345);
      std::vector<float> want(x.size());
      reference::dropout(x.data(), want.data(), n, rate, key);
      for (int threads : {1, 2, 3}) {
        std::vector<float> got(x.size(), 99.0f);
        highway::dropout(x.data(), got.data(), n, rate, key, pool_of(threads));
        EXPECT_EQ(got, want) << "n " << n << " rate " << rate << " threads " << threads;
      }
    }
  }
}

TEST_P(HighwayLayers, CopyRowsIsExact) {
  const auto x = random_vector(37 * 41, 31);
  for (int threads : {1, 2, 3}) {
    // A slice of columns [5, 5 + 17) of a [37, 41] matrix, into a [37, 20] one at column 2.
    std::vector<float> want(37 * 20, -1.0f), got(37 * 20, -1.0f);
    reference::copy_rows(x.data() + 5, 41, want.data() + 2, 20, 37, 17);
    highway::copy_rows(x.data() + 5, 41, got.data() + 2, 20, 37, 17, pool_of(threads));
    EXPECT_EQ(got, want);
    std::vector<float> whole(x.size());
    highway::copy_rows(x.data(), 41, whole.data(), 41, 37, 41, pool_of(threads));
    EXPECT_EQ(whole, x);
  }
}

}  // namespace
}  // namespace graphrun
