// Program: a graph compiled for one concrete batch size.
//
// compile() runs the stages, one file each (core/README.md): the schedule (schedule.h: which
// nodes the requested outputs need, in the graph's own topological order), epilogue fusion
// (fusion.h), the memory plan (memory_plan.h: one arena; buffers whose lifetimes do not
// overlap share bytes; reshape is a view), kernel binding (kernel_binding.h: every node to the
// first backend in its chain that accepts it). run() then executes the kernels in order and
// allocates nothing.
//
// Thread safety: one thread runs a Program at a time; kernels use the options' thread pool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/compile_options.h"
#include "core/function_ref.h"
#include "core/graph.h"
#include "core/kernel_binding.h"
#include "core/memory_plan.h"
#include "core/parameters.h"
#include "core/thread_pool.h"

namespace graphrun {

class Program {
 public:
  static std::unique_ptr<Program> compile(const Graph& g, ParameterStore& params, int64_t batch,
                                          const CompileOptions& options);

  int64_t batch() const { return batch_; }
  // The buffer of an input node (write the batch here) or any readable value.
  TensorView value(NodeId id) const;
  void run();
  // run(), calling after_step(i) once schedule()[i] has run: data-parallel training starts
  // sending a gradient as soon as its node is done. Allocates nothing.
  void run(FunctionRef<void(size_t)> after_step);
  // run(), adding each step's wall time in seconds to seconds[i] (one entry per schedule()
  // item): the per-node profile `graphrun inspect --profile` prints.
  void run_timed(std::span<double> seconds);
  // run(), recording in uses[i] what schedule() item i asked of `pool` (the Program's pool):
  // the most tasks of one of its jobs (1: it ran on the calling thread) and its joins.
  void run_counting_tasks(ThreadPool& pool, std::span<ThreadPool::Usage> uses);

  // The seed and step this Program's kernels read (the options' run_state, or its own).
  RunState& run_state() { return *run_state_; }
  bool training() const { return training_; }
  const Graph& graph() const { return graph_; }
  const std::vector<ScheduledNode>& schedule() const { return schedule_; }
  const std::vector<BufferPlan>& buffers() const { return buffers_; }
  int64_t arena_bytes() const { return arena_bytes_; }
  // What the arena would need if no two values shared memory.
  int64_t unshared_bytes() const;

 private:
  Program(const Graph& g, int64_t batch) : graph_(g), batch_(batch) {}
  const Graph& graph_;
  int64_t batch_;
  AlignedFloats arena_;
  int64_t arena_bytes_ = 0;
  std::vector<TensorView> views_;  // by node id; data == nullptr when not computed
  std::vector<bool> readable_;
  std::vector<BufferPlan> buffers_;
  std::vector<ScheduledNode> schedule_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
  bool training_ = false;
  RunState own_run_state_;
  RunState* run_state_ = &own_run_state_;
};

// Programs for one graph and one mode (the options'), compiled on first use for each batch
// size and kept.
class ProgramCache {
 public:
  ProgramCache(const Graph& g, ParameterStore& params, CompileOptions options)
      : graph_(g), params_(params), options_(std::move(options)) {}
  Program& get(int64_t batch);

 private:
  const Graph& graph_;
  ParameterStore& params_;
  CompileOptions options_;
  std::map<int64_t, std::unique_ptr<Program>> programs_;
};

}  // namespace graphrun
