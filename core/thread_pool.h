// ThreadPool: one persistent pool serving every kernel; no thread is created per step.
//
// run(tasks, fn) calls fn(task) for task in [0, tasks) spread over the pool's threads and the
// caller, and returns when all are done. The caller runs task 0; the rest are claimed
// dynamically, so when a worker is descheduled (a busy machine) the caller runs its share
// instead of waiting for it. Workers
// spin briefly before sleeping, so back-to-back kernels of a training step hand work over in
// well under a microsecond. Tasks must not throw. Not re-entrant: a task
// must not call run() on the same pool. One caller at a time (a Program runs on one thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/function_ref.h"

namespace graphrun {

class ThreadPool {
 public:
  // threads <= 0 means one per CPU this process may use (core/cpu_info.h: affinity and quota).
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run tasks, including the caller.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(task) for every task in [0, tasks); returns when all have finished.
  void run(int64_t tasks, FunctionRef<void(int64_t)> fn);

  // Calls fn() once on every thread of the pool (the caller included) and waits for all.
  // For per-thread set-up such as a kernel's scratch buffers, outside the hot path.
  void run_on_each_thread(FunctionRef<void()> fn);

  // Splits [0, n) into at most size() contiguous ranges of at least `grain` elements and
  // calls fn(begin, end) for each.
  void parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

  // What the jobs since reset_usage() asked for: the most tasks of one job (1: the caller ran
  // it alone) and the joins (jobs handed to workers). For `graphrun inspect` and the scaling
  // model (docs/performance.md); kept by the calling thread, no atomics.
  struct Usage {
    int64_t most_tasks = 0;
    int64_t joins = 0;
  };
  Usage usage() const { return usage_; }
  void reset_usage() { usage_ = {}; }

  // The default pool (one thread per usable CPU), created on first use.
  static ThreadPool& global();

 private:
  void worker_loop();
  // Claims and runs one task of the job of this generation; false when none is left.
  bool run_one_task(uint64_t generation);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> job_{0};  // generation << 32 | next task
  std::atomic<FunctionRef<void(int64_t)>*> job_fn_{nullptr};
  std::atomic<int64_t> job_tasks_{0};
  std::atomic<int64_t> tasks_done_{0};
  std::atomic<int> sleepers_{0};  // workers blocked on wake_
  // A generation that is a broadcast (run_on_each_thread): each worker runs it once.
  std::atomic<uint64_t> broadcast_generation_{0};
  std::atomic<FunctionRef<void()>*> broadcast_fn_{nullptr};
  std::atomic<int> broadcast_pending_{0};
  std::atomic<bool> stop_{false};
  Usage usage_;
};

}  // namespace graphrun
