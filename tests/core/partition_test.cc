#include "core/partition.h"

#include <gtest/gtest.h>

namespace graphrun {
namespace {

// The task count grows with the work and never shrinks: 1 for tiny kernels, every thread for
// big ones, whatever the pool's size; and a larger pool never predicts a slower kernel.
TEST(TasksByCost, MonotoneInTheWork) {
  for (int64_t pool : {1, 2, 3, 4, 8, 16, 64}) {
    int64_t last = 1;
    for (double flops = 1; flops < 1e13; flops *= 1.5) {
      const int64_t t = tasks_for(flops, flops / 4, pool);
      EXPECT_GE(t, last) << "flops " << flops << " pool " << pool;
      EXPECT_GE(t, 1);
      EXPECT_LE(t, pool);
      last = t;
    }
    EXPECT_EQ(last, pool) << "a huge kernel runs on every thread";
    EXPECT_EQ(tasks_for(1000, 1000, pool), 1) << "a tiny kernel runs on the calling thread";
  }
}

TEST(TasksByCost, MoreThreadsNeverPredictSlower) {
  for (double flops = 1; flops < 1e12; flops *= 3) {
    double last = predicted_ns(flops, 0, 1);
    for (int64_t pool = 2; pool <= 64; ++pool) {
      const double ns = predicted_ns(flops, 0, tasks_for(flops, 0, pool));
      EXPECT_LE(ns, last) << "flops " << flops << " pool " << pool;
      last = ns;
    }
  }
}

TEST(TasksByCost, TheSeedNetworksShapes) {
  // Batch 1: the 400 x 10 output layer and its gradient run on the calling thread; 784 x 400
  // splits (its rows stay on their cores across the step).
  EXPECT_EQ(gemm_tasks(1, 10, 400, 16), 1);
  EXPECT_EQ(gemm_tasks(1, 400, 10, 16), 1);
  EXPECT_GT(gemm_tasks(1, 400, 784, 2), 1);
  // The wide network's layers take every thread of a 64-thread pool.
  EXPECT_EQ(gemm_tasks(256, 4096, 4096, 64), 64);
  // One count for every kernel touching a weight matrix: symmetric in the three dimensions.
  EXPECT_EQ(gemm_tasks(32, 400, 784, 16), gemm_tasks(784, 400, 32, 16));
  EXPECT_EQ(gemm_tasks(32, 400, 784, 16), gemm_tasks(32, 784, 400, 16));
}

}  // namespace
}  // namespace graphrun
