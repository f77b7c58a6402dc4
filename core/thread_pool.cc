#include "core/thread_pool.h"

#include <algorithm>

#include "core/cpu_info.h"

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

constexpr uint64_t kTaskBits = 32;
constexpr uint64_t kTaskMask = (uint64_t{1} << kTaskBits) - 1;
uint64_t generation_of(uint64_t v) { return v >> kTaskBits; }
constexpr uint64_t kTaken = uint64_t{1} << 63;

}  // namespace

// The job word packs (generation << 32 | next task index past the offered ones). A thread
// claims such a task with a CAS that also checks the generation, and an offered task with a
// CAS on its offer that expects the generation still open, so a worker that wakes late can never run a task of a job
// that has ended, and the caller never waits for workers that did not take part: it waits
// only for the tasks to be done. A job's fields (function, task count) are written before its
// generation is published and read only under a claim that validates it.
ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = usable_cpus();
  offers_ = std::make_unique<Offer[]>(static_cast<size_t>(threads));
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  static ThreadPool pool(0);
  return pool;
}

bool ThreadPool::run_one_task(uint64_t generation) {
  uint64_t v = job_.load(std::memory_order_acquire);
  for (;;) {
    if (generation_of(v) != generation) return false;
    const int64_t task = static_cast<int64_t>(v & kTaskMask);
    const int64_t tasks = job_tasks_.load(std::memory_order_relaxed);
    FunctionRef<void(int64_t)>* fn = job_fn_.load(std::memory_order_relaxed);
    if (task >= tasks) return false;
    if (job_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
      (*fn)(task);
      tasks_done_.fetch_add(1, std::memory_order_release);
      return true;
    }
  }
}

// A claim succeeds only while the offer is open, i.e. while its job has not finished (a job
// finishes when all its tasks are done), so the job's function read after it is this job's.
void ThreadPool::run_offered(int64_t w, uint64_t generation) {
  uint64_t open = generation;
  if (offers_[static_cast<size_t>(w)].generation.compare_exchange_strong(
          open, generation | kTaken, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    (*job_fn_.load(std::memory_order_relaxed))(w);
    tasks_done_.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::run(int64_t tasks, FunctionRef<void(int64_t)> fn) {
  if (tasks <= 0) return;
  usage_.most_tasks = std::max(usage_.most_tasks, tasks);
  if (tasks == 1 || workers_.empty()) {
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  ++usage_.joins;
  const uint64_t generation = generation_of(job_.load(std::memory_order_relaxed)) + 1;
  job_fn_.store(&fn, std::memory_order_relaxed);
  job_tasks_.store(tasks, std::memory_order_relaxed);
  tasks_done_.store(0, std::memory_order_relaxed);
  // Task 0 runs on the calling thread and task w is offered to worker w; only tasks past the
  // pool's size go to whoever comes first. Kernels that split a weight matrix by rows then find
  // each part in the cache of the core that used it last step, on any number of cores.
  const int64_t offered = std::min<int64_t>(tasks, size());
  for (int64_t w = 1; w < offered; ++w)
    offers_[static_cast<size_t>(w)].generation.store(generation, std::memory_order_relaxed);
  job_.store(generation << kTaskBits | static_cast<uint64_t>(offered), std::memory_order_seq_cst);  // publishes the job
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  fn(0);
  tasks_done_.fetch_add(1, std::memory_order_release);
  for (int64_t w = 1; w < offered; ++w) run_offered(w, generation);  // a late worker's task
  while (run_one_task(generation)) {}
  while (tasks_done_.load(std::memory_order_acquire) != tasks) cpu_relax();
}

void ThreadPool::run_on_each_thread(FunctionRef<void()> fn) {
  fn();
  if (workers_.empty()) return;
  const uint64_t generation = generation_of(job_.load(std::memory_order_relaxed)) + 1;
  broadcast_fn_.store(&fn, std::memory_order_relaxed);
  broadcast_pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  broadcast_generation_.store(generation, std::memory_order_relaxed);
  job_tasks_.store(0, std::memory_order_relaxed);
  job_.store(generation << kTaskBits, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  // No job is posted until every worker has run fn, so none can miss this generation.
  while (broadcast_pending_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::min<int64_t>(size(), (n + grain - 1) / grain);
  run(chunks, [&](int64_t t) { fn(n * t / chunks, n * (t + 1) / chunks); });
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;  // the generation at construction: no job posted yet
  for (;;) {
    int spins = 0;
    while (generation_of(job_.load(std::memory_order_acquire)) == seen && !stop_.load(std::memory_order_relaxed)) {
      if (++spins < kSpinIterations) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] { return generation_of(job_.load(std::memory_order_seq_cst)) != seen || stop_.load(); });
      sleepers_.fetch_sub(1);
      spins = 0;
    }
    if (stop_.load()) return;
    seen = generation_of(job_.load(std::memory_order_acquire));
    if (broadcast_generation_.load(std::memory_order_relaxed) == seen) {
      (*broadcast_fn_.load(std::memory_order_relaxed))();
      broadcast_pending_.fetch_sub(1, std::memory_order_release);
      continue;
    }
    run_offered(index, seen);
    while (run_one_task(seen)) {}
  }
}

}  // namespace graphrun
