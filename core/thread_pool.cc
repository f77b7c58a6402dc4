#include "core/thread_pool.h"

#include <sched.h>

#include <algorithm>

namespace graphrun {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long an idle worker spins before it sleeps: long enough to bridge the gap between two
// kernels of one step, short enough not to burn a core between steps.
constexpr int kSpinIterations = 20000;

}  // namespace

// Every worker takes part in every job exactly once (it decrements remaining_ when done), so
// the job fields are only written while all workers wait for the next generation.
ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = hardware_threads();
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(0);
  return pool;
}

void ThreadPool::work_on_current_job() {
  const int64_t tasks = job_tasks_;
  for (int64_t t = next_task_.fetch_add(1); t < tasks; t = next_task_.fetch_add(1)) (*job_)(t);
}

void ThreadPool::run(int64_t tasks, FunctionRef<void(int64_t)> fn) {
  if (tasks <= 0) return;
  if (tasks == 1 || workers_.empty()) {
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  job_ = &fn;
  job_tasks_ = tasks;
  next_task_.store(0);
  active_workers_.store(static_cast<int>(workers_.size()));
  generation_.fetch_add(1);  // publishes the fields above (seq_cst)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  work_on_current_job();
  while (active_workers_.load(std::memory_order_acquire) != 0) cpu_relax();
  job_ = nullptr;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>(size(), (n + grain - 1) / grain);
  run(chunks, [&](int64_t t) { fn(n * t / chunks, n * (t + 1) / chunks); });
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load() == seen && spins < kSpinIterations) {
      cpu_relax();
      ++spins;
    }
    if (generation_.load() == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen || stop_; });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
    }
    work_on_current_job();
    active_workers_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace graphrun
