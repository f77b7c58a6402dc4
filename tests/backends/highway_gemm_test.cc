// Highway GEMM against the reference (double accumulation): every dimension swept over the
// edges of the vector width and of the cache blocks, all transpose combinations, accumulate on
// and off, padded leading dimensions, and 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backends/highway/gemm_kernels.h"
#include "backends/highway/kernels.h"
#include "backends/reference/kernels.h"
#include "core/thread_pool.h"
#include "graphrun/plugin.h"
#include "tests/backends/highway_targets.h"

namespace graphrun {
namespace {

class HighwayGemm : public HighwayTargetTest {};
GRAPHRUN_INSTANTIATE_FOR_HIGHWAY_TARGETS(HighwayGemm);

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2), three(3);
  return threads == 1 ? one : threads == 2 ? two : three;
}

struct GemmCase {
  bool trans_a, trans_b;
  int64_t M, N, K;
  int64_t pad;  // added to every leading dimension
  bool accumulate;
};

void check_gemm(const GemmCase& g, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t a_rows = g.trans_a ? g.K : g.M, a_cols = g.trans_a ? g.M : g.K;
  const int64_t b_rows = g.trans_b ? g.N : g.K, b_cols = g.trans_b ? g.K : g.N;
  const int64_t lda = a_cols + g.pad, ldb = b_cols + g.pad, ldc = g.N + g.pad;
  std::vector<float> A(static_cast<size_t>(a_rows * lda)), B(static_cast<size_t>(b_rows * ldb));
  for (float& v : A) v = dist(rng);
  for (float& v : B) v = dist(rng);
  std::vector<float> C0(static_cast<size_t>(g.M * ldc));
  for (float& v : C0) v = dist(rng);
  // Without accumulate C must not be read: start from NaN (the padding keeps its sentinel).
  if (!g.accumulate)
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j) C0[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> expected = C0;
  reference::gemm<float>(g.trans_a, g.trans_b, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, expected.data(), ldc,
                         g.accumulate);
  // Tolerance: each entry sums K products with |a b| <= 1 (max|a| = max|b| = 1 here) in float.
  // Blocked float accumulation errs by about u * sqrt(K) * sqrt(sum (ab)^2) in practice and
  // u * K * sum|ab| at worst; 1e-6 * K (~16 u * K) covers the realistic error of any order of
  // summation with a wide margin, while a dropped or doubled term (error ~ |ab| ~ 0.3) still
  // fails for every K <= 784. The accumulated C (|c| <= 1) adds one rounding.
  const double tol = 1e-6 * static_cast<double>(g.K) + 1e-6;
  for (int threads : {1, 2, 3}) {
    std::vector<float> C = C0;
    highway::gemm(g.trans_a, g.trans_b, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, C.data(), ldc, g.accumulate,
                  pool_of(threads));
    int64_t bad = 0;
    for (int64_t i = 0; i < g.M && bad < 5; ++i) {
      for (int64_t j = 0; j < ldc && bad < 5; ++j) {
        const float got = C[i * ldc + j], want = expected[i * ldc + j];
        if (j >= g.N) {  // padding: untouched
          if (!(got == want)) {
            ++bad;
            ADD_FAILURE() << "wrote padding at (" << i << "," << j << ")";
          }
          continue;
        }
        if (!(std::abs(static_cast<double>(got) - want) <= tol)) {
          ++bad;
          ADD_FAILURE() << "C(" << i << "," << j << ") = " << got << ", expected " << want << " (tol " << tol
                        << ") M=" << g.M << " N=" << g.N << " K=" << g.K << " ta=" << g.trans_a << " tb=" << g.trans_b
                        << " acc=" << g.accumulate << " pad=" << g.pad << " threads=" << threads;
        }
      }
    }
    if (bad) return;
  }
}

const int64_t kSizes[] = {1, 3, 17, 31, 33, 63, 65, 127, 129, 784};

// Sweeps one dimension (0 = M, 1 = N, 2 = K) over kSizes against two settings of the others.
void sweep(int dim) {
  const int64_t others[][2] = {{7, 33}, {65, 129}};
  uint32_t seed = 1000 * static_cast<uint32_t>(dim);
  for (const auto& o : others) {
    for (int64_t s : kSizes) {
      for (int t = 0; t < 4; ++t) {
        for (bool acc : {false, true}) {
          GemmCase g{(t & 1) != 0, (t & 2) != 0, o[0], o[1], s, (s + t) % 2 == 0 ? 0 : 5, acc};
          if (dim == 0) g.M = s, g.N = o[0], g.K = o[1];
          if (dim == 1) g.M = o[0], g.N = s, g.K = o[1];
          if (dim == 2) g.M = o[0], g.N = o[1], g.K = s;
          check_gemm(g, ++seed);
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
}

TEST_P(HighwayGemm, SweepM) { sweep(0); }
TEST_P(HighwayGemm, SweepN) { sweep(1); }
TEST_P(HighwayGemm, SweepK) { sweep(2); }

// The shapes of an MLP training step (forward, dX = dY W^T, dW = X^T dY) and GEMV shapes.
TEST_P(HighwayGemm, ModelShapes) {
  const int64_t shapes[][3] = {{32, 500, 784}, {32, 10, 400}, {1, 400, 785}, {1, 10, 400},   {200, 300, 600},
                               {5, 1, 300},    {300, 1, 5},   {784, 400, 1}, {1, 300, 2000}, {1, 1000, 513}};
  uint32_t seed = 77;
  for (const auto& s : shapes) {
    for (int t = 0; t < 4; ++t) {
      check_gemm({(t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0, t == 3}, ++seed);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// A GEMV split along K across threads adds its row blocks' partial products in the serial
// GEMV's order: the same floats on 1, 2 and 3 threads (the batch-1 forward pass, and so
// training, does not depend on --threads).
TEST_P(HighwayGemm, GemvSplitAlongKEqualsSerial) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t shapes[][2] = {{400, 784}, {300, 2000}, {1000, 513}, {10, 3000}};
  for (const auto& [N, K] : shapes) {
    for (bool trans_a : {false, true}) {
      for (bool acc : {false, true}) {
        std::vector<float> A(static_cast<size_t>(K)), B(static_cast<size_t>(K * N)), C0(static_cast<size_t>(N));
        for (float& v : A) v = dist(rng);
        for (float& v : B) v = dist(rng);
        for (float& v : C0) v = dist(rng);
        std::vector<float> serial = C0;
        highway::gemm(trans_a, false, 1, N, K, A.data(), trans_a ? 1 : K, B.data(), N, serial.data(), N, acc,
                      pool_of(1));
        for (int threads : {2, 3}) {
          std::vector<float> C = C0;
          highway::gemm(trans_a, false, 1, N, K, A.data(), trans_a ? 1 : K, B.data(), N, C.data(), N, acc,
                        pool_of(threads));
          int64_t differ = 0;
          for (int64_t j = 0; j < N; ++j) differ += C[static_cast<size_t>(j)] != serial[static_cast<size_t>(j)];
          EXPECT_EQ(differ, 0) << "N=" << N << " K=" << K << " ta=" << trans_a << " acc=" << acc
                               << " threads=" << threads;
        }
      }
    }
  }
}

// Each element of C is summed over K in one order however the product is split: across 1, 2
// or 3 threads (by columns or rows, never leaving a single column or row to a GEMV, which sums
// in another order) and into row blocks of at least 2 rows by gemm_serial (how the optimizer
// makes a weight gradient block by block, train/optimizer.h). Shapes put a single column or
// row at the end of a split (N = 33, M = 17, 257), more than one depth block (K = 300, 600)
// and batches of 65 to 256 rows, which threads take in row chunks of 64.
TEST_P(HighwayGemm, SumsInOneOrderHoweverSplit) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t shapes[][3] = {{32, 33, 50},   {17, 400, 32},  {784, 400, 32}, {9, 65, 300},
                               {129, 97, 7},   {40, 161, 600}, {130, 65, 300}, {257, 40, 20},
                               {100, 10, 300}, {70, 12, 600},  {40, 100, 600}, {70, 36, 300}};
  for (const auto& [M, N, K] : shapes) {
    for (bool trans_a : {false, true}) {
      for (bool trans_b : {false, true}) {
        std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N));
        for (float& v : A) v = dist(rng);
        for (float& v : B) v = dist(rng);
        const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
        std::vector<float> serial(static_cast<size_t>(M * N));
        highway::gemm_serial(trans_a, trans_b, M, N, K, A.data(), lda, B.data(), ldb, serial.data(), N, false);
        auto count_differences = [&](const std::vector<float>& C) {
          int64_t differ = 0;
          for (size_t i = 0; i < C.size(); ++i) differ += C[i] != serial[i];
          return differ;
        };
        const std::string label = "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                                  " ta=" + std::to_string(trans_a) + " tb=" + std::to_string(trans_b);
        for (int threads : {1, 2, 3}) {
          std::vector<float> C(serial.size());
          highway::gemm(trans_a, trans_b, M, N, K, A.data(), lda, B.data(), ldb, C.data(), N, false, pool_of(threads));
          EXPECT_EQ(count_differences(C), 0) << label << " threads=" << threads;
        }
        for (int64_t rows : {2, 5, 64}) {
          std::vector<float> C(serial.size());
          for (int64_t i0 = 0; i0 < M;) {
            int64_t i1 = std::min(M, i0 + rows);
            if (M - i1 == 1) i1 = M;
            const float* Ai = trans_a ? A.data() + i0 : A.data() + i0 * lda;
            highway::gemm_serial(trans_a, trans_b, i1 - i0, N, K, Ai, lda, B.data(), ldb, C.data() + i0 * N, N, false);
            i0 = i1;
          }
          EXPECT_EQ(count_differences(C), 0) << label << " row blocks of " << rows;
        }
      }
    }
  }
}

// The fused epilogue gives exactly the GEMM's result followed by the separate kernels, in its
// four modes (bias; bias and activation in place; bias and activation into another array;
// an activation's gradient in place), on every path of gemm(): GEMV split along K (M = 1),
// N = 1, K = 1, C^T = B A^T for few rows, split K (M <= 64), row chunks (65-256 rows), column
// panels and row blocks, on 1-3 threads. The activation is called on each finished block.
void leaky(const float* src, float* dst, size_t rows, size_t cols, const double* params) {
  for (size_t i = 0; i < rows * cols; ++i) dst[i] = src[i] > 0 ? src[i] : static_cast<float>(params[0]) * src[i];
}
// Not leaky's derivative: a function of x, f(x) and dy that shows each reaches its place.
void leaky_backward(const float* src, const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols,
                    const double* params) {
  for (size_t i = 0; i < rows * cols; ++i)
    d_src[i] = d_dst[i] * (src[i] > 0 ? 1.0f : static_cast<float>(params[0])) + 0.25f * dst[i];
}

TEST_P(HighwayGemm, EpilogueEqualsTheSeparateKernels) {
  graphrun_activation act{};
  act.kind = GRAPHRUN_ACTIVATION_ELEMENTWISE;
  act.forward = leaky;
  act.backward = leaky_backward;
  const double slope = 0.125;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t shapes[][3] = {{1, 400, 784},  {32, 400, 784}, {32, 100, 300}, {200, 500, 300},
                               {300, 130, 50}, {7, 1, 50},     {40, 33, 1},    {16, 300, 100},
                               {9, 65, 300},   {1024, 40, 8},  {33, 10, 300}};
  enum Mode { kBias, kActivation, kActivationOut, kGradient };
  for (const auto& [M, N, K] : shapes) {
    for (bool trans_b : {false, true}) {
      for (Mode mode : {kBias, kActivation, kActivationOut, kGradient}) {
        const size_t mn = static_cast<size_t>(M * N);
        std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N)), bias(static_cast<size_t>(N));
        std::vector<float> x(mn), fx(mn);
        for (auto* v : {&A, &B, &bias, &x, &fx})
          for (float& f : *v) f = dist(rng);
        const int64_t ldb = trans_b ? K : N;
        Epilogue ep;
        if (mode != kGradient) ep.bias = bias.data();
        if (mode != kBias) ep.activation = &act, ep.activation_params = &slope;
        if (mode == kGradient) ep.backward_x = x.data(), ep.backward_fx = fx.data();
        for (int threads : {1, 2, 3}) {
          std::vector<float> want(mn), got(mn, std::nanf("")), out(mn, std::nanf("")), want_out(mn);
          ep.activation_out = mode == kActivationOut ? out.data() : nullptr;
          highway::gemm(false, trans_b, M, N, K, A.data(), K, B.data(), ldb, want.data(), N, false, pool_of(threads));
          for (size_t i = 0; i < mn; ++i) {
            if (mode != kGradient) want[i] += bias[i % static_cast<size_t>(N)];
            if (mode == kActivation) leaky(&want[i], &want[i], 1, 1, &slope);
            if (mode == kActivationOut) leaky(&want[i], &want_out[i], 1, 1, &slope);
            if (mode == kGradient) leaky_backward(&x[i], &fx[i], &want[i], &want[i], 1, 1, &slope);
          }
          highway::gemm(false, trans_b, M, N, K, A.data(), K, B.data(), ldb, got.data(), N, false, pool_of(threads),
                        &ep);
          int64_t differ = 0;
          for (size_t i = 0; i < mn; ++i)
            differ += got[i] != want[i] || (mode == kActivationOut && out[i] != want_out[i]);
          EXPECT_EQ(differ, 0) << "M=" << M << " N=" << N << " K=" << K << " tb=" << trans_b << " mode=" << mode
                               << " threads=" << threads;
        }
      }
    }
  }
  // No depth: the epilogue of a zero product.
  std::vector<float> C(6, 5.0f);
  const float b3[3] = {1.0f, -2.0f, 3.0f};
  const Epilogue ep{b3, &act, &slope};
  highway::gemm(false, false, 2, 3, 0, nullptr, 0, nullptr, 3, C.data(), 3, false, pool_of(2), &ep);
  EXPECT_EQ(C, (std::vector<float>{1.0f, -0.25f, 3.0f, 1.0f, -0.25f, 3.0f}));
}

// A narrow N and a deep K (the output layer; K in the lanes, gemm_small_n): N around the
// column groups of 5, K around a vector and over several chunks, M over tiles of 1-4 rows and
// over two row blocks of partial sums (M = 700 at N = 12), every transpose mode, against the
// reference on 1-3 threads; and each element summed in one order by rows blocks and threads.
// Also the narrow last columns of a wide N (N = 100, 36, 104, 40: 4 or 8 after whole panels;
// K = 63 keeps the panel), which take K in the lanes per depth block.
TEST_P(HighwayGemm, NarrowNDeepK) {
  const int64_t shapes[][3] = {{2, 10, 128},   {5, 2, 131},     {9, 12, 700},   {66, 7, 5000}, {3, 5, 7001},
                               {700, 12, 300}, {257, 10, 4099}, {17, 13, 200},  {32, 10, 400}, {33, 100, 300},
                               {70, 36, 600},  {9, 104, 64},    {200, 40, 784}, {5, 39, 63}};
  uint32_t seed = 500;
  for (const auto& [M, N, K] : shapes) {
    for (int t = 0; t < 4; ++t) {
      check_gemm({(t & 1) != 0, (t & 2) != 0, M, N, K, t == 1 ? 3 : 0, t >= 2}, ++seed);
      if (::testing::Test::HasFailure()) return;
    }
  }
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (bool trans_b : {false, true}) {
    const int64_t M = 37, N = 10, K = 1000, ldb = trans_b ? K : N;
    std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N));
    for (float& v : A) v = dist(rng);
    for (float& v : B) v = dist(rng);
    std::vector<float> serial(static_cast<size_t>(M * N)), C(serial.size()), rows(serial.size());
    highway::gemm_serial(false, trans_b, M, N, K, A.data(), K, B.data(), ldb, serial.data(), N, false);
    for (int64_t i0 = 0; i0 < M; i0 += 2) {
      const int64_t m = i0 + 3 == M ? 3 : 2;
      highway::gemm_serial(false, trans_b, m, N, K, A.data() + i0 * K, K, B.data(), ldb, rows.data() + i0 * N, N,
                           false);
      i0 += m - 2;
    }
    EXPECT_EQ(rows, serial) << "tb=" << trans_b;
    for (int threads : {2, 3}) {
      highway::gemm(false, trans_b, M, N, K, A.data(), K, B.data(), ldb, C.data(), N, false, pool_of(threads));
      EXPECT_EQ(C, serial) << "tb=" << trans_b << " threads=" << threads;
    }
  }
}

TEST_P(HighwayGemm, ZeroDepthClearsOrKeeps) {
  std::vector<float> C(6, 5.0f);
  highway::gemm(false, false, 2, 3, 0, nullptr, 0, nullptr, 3, C.data(), 3, true, pool_of(2));
  for (float v : C) EXPECT_EQ(v, 5.0f);
  highway::gemm(false, false, 2, 3, 0, nullptr, 0, nullptr, 3, C.data(), 3, false, pool_of(2));
  for (float v : C) EXPECT_EQ(v, 0.0f);
}

TEST_P(HighwayGemm, TargetName) {
  const char* name = highway::target_name();
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::string(name).size(), 0u);
}

}  // namespace
}  // namespace graphrun

namespace graphrun {
namespace {

// The blocking follows the caches the CPU reports: a larger L2 gives larger column and row
// blocks, a smaller L1 a shorter depth block; Zen 5 with AVX-512 keeps the blocking it was
// tuned with.
TEST(GemmBlocking, FollowsTheCaches) {
  using highway::blocking_for;
  using highway::GemmBlocking;
  const GemmBlocking zen5 = blocking_for({48 * 1024, 1024 * 1024, 32 << 20}, 8, 32);
  EXPECT_EQ(zen5, (GemmBlocking{256, 144, 512}));
  const GemmBlocking xeon = blocking_for({48 * 1024, 2048 * 1024, 105 << 20}, 8, 32);
  EXPECT_EQ(xeon.kc, 256);
  EXPECT_EQ(xeon.nc, 1024);
  EXPECT_EQ(xeon.mc, 288);
  const GemmBlocking small = blocking_for({32 * 1024, 256 * 1024, 0}, 6, 16);
  EXPECT_NE(small, zen5);
  EXPECT_EQ(small.kc, 336);
  EXPECT_LT(small.nc, zen5.nc);
  for (const GemmBlocking& b : {zen5, xeon, small}) {
    EXPECT_EQ(b.kc % 16, 0);
    EXPECT_GE(b.nc, 64);  // GemmSmallMTransB packs op(A)^T (kc x 64) into the B buffer
  }
  EXPECT_EQ(small.mc % 6, 0);
  // Unknown caches (0): small common sizes, still a valid blocking.
  const GemmBlocking unknown = blocking_for({}, 8, 32);
  EXPECT_GE(unknown.kc, 64);
  EXPECT_GE(unknown.mc, 8);
  // This machine's, as the dispatched target uses it.
  EXPECT_GE(highway::gemm_blocking().kc, 64);
}

}  // namespace
}  // namespace graphrun
