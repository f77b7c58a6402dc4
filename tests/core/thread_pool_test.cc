#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace graphrun {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t tasks : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
      pool.run(tasks, [&](int64_t t) { hits[static_cast<size_t>(t)].fetch_add(1); });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

// Task 0 runs on the caller, so a kernel that splits a weight matrix by rows finds part 0 in the
// calling core's cache step after step (with one worker, part 1 in the worker's).
TEST(ThreadPool, TheCallerRunsTaskZero) {
  ThreadPool pool(3);
  const std::thread::id caller = std::this_thread::get_id();
  for (int64_t tasks : {2, 3, 5, 64}) {
    for (int rep = 0; rep < 200; ++rep) {
      std::thread::id ran_zero;
      pool.run(tasks, [&](int64_t t) {
        if (t == 0) ran_zero = std::this_thread::get_id();
      });
      ASSERT_EQ(ran_zero, caller) << tasks << " tasks, run " << rep;
    }
  }
}

// Task w is offered to worker w only: a job of fewer tasks than threads involves only the
// caller and the workers of its task numbers (task 1 runs on worker 1, or on the caller when
// worker 1 is late), so a kernel's parts stay on the same cores whatever the pool's size.
TEST(ThreadPool, TaskWStaysWithWorkerW) {
  ThreadPool pool(4);
  std::mutex m;
  std::vector<std::thread::id> ran_one;
  for (int rep = 0; rep < 2000; ++rep) {
    pool.run(2, [&](int64_t t) {
      if (t != 1) return;
      std::lock_guard<std::mutex> lock(m);
      if (std::find(ran_one.begin(), ran_one.end(), std::this_thread::get_id()) == ran_one.end())
        ran_one.push_back(std::this_thread::get_id());
    });
  }
  EXPECT_LE(ran_one.size(), 2u) << "task 1 ran on a worker other than worker 1";
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 5, 17, 1000, 100003}) {
    std::vector<int> seen(static_cast<size_t>(n), 0);
    std::atomic<int> chunks{0};
    pool.parallel_for(n, 16, [&](int64_t b, int64_t e) {
      chunks.fetch_add(1);
      for (int64_t i = b; i < e; ++i) seen[static_cast<size_t>(i)] += 1;
    });
    for (int v : seen) ASSERT_EQ(v, 1);
    EXPECT_LE(chunks.load(), 3);
    EXPECT_LE(chunks.load(), (n + 15) / 16);
  }
}

TEST(ThreadPool, ManyBackToBackJobs) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int i = 0; i < 20000; ++i) pool.run(2, [&](int64_t t) { sum.fetch_add(t + 1); });
  EXPECT_EQ(sum.load(), 20000 * 3);
}

}  // namespace
}  // namespace graphrun

namespace graphrun {
namespace {

TEST(ThreadPool, RunOnEachThreadReachesEveryThreadOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);  // right after construction: workers may not have started yet
    std::mutex m;
    std::vector<std::thread::id> ids;
    for (int round = 0; round < 3; ++round) {
      ids.clear();
      pool.run_on_each_thread([&] {
        std::lock_guard<std::mutex> lock(m);
        ids.push_back(std::this_thread::get_id());
      });
      ASSERT_EQ(static_cast<int>(ids.size()), threads);
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
      std::atomic<int> n{0};
      pool.run(5, [&](int64_t) { n.fetch_add(1); });  // jobs still work after a broadcast
      EXPECT_EQ(n.load(), 5);
    }
  }
}

}  // namespace
}  // namespace graphrun
