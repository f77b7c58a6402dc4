// Program: a graph compiled for one concrete batch size.
//
// compile() schedules the nodes the requested outputs need (the graph's own topological
// order), plans their memory (one arena; buffers whose lifetimes do not overlap share bytes;
// reshape is a view), binds every node to a kernel of the first backend in the chain that
// accepts it, and allocates. run() then executes the kernels in order and allocates nothing.
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
#include "core/function_ref.h"
#include "core/graph.h"
#include "core/parameters.h"
#include "core/thread_pool.h"

namespace graphrun {

struct CompileOptions {
  // Backends to try for each node, best first. The last should run every op (reference).
  std::vector<Backend*> backends;
  // Node name -> backend name: try that backend first for that node.
  std::map<std::string, std::string> pinned;
  ThreadPool* pool = nullptr;  // nullptr: ThreadPool::global()
  // Nodes whose values stay readable after run() (losses, gradients, predictions). Inputs
  // and parameters always are.
  std::vector<NodeId> outputs;
  // > 0: a memory plan whose arena is larger is refused (Error Runtime, with both figures)
  // before the arena is allocated.
  int64_t max_arena_bytes = 0;
  // Fuse a bias add, and an elementwise activation when nothing else reads its input, into
  // the MatMul before them (Epilogue in core/epilogue.h), where the MatMul's backend can.
  bool fuse_epilogues = true;
  // Training mode: batch norm normalises with the batch's statistics and updates its running
  // statistics, dropout drops. Inference mode (false): batch norm uses the running statistics,
  // dropout is the identity (a view). Graphs without those ops run the same in both.
  bool training = false;
  // The seed and step the kernels read when they run; nullptr: the Program's own (run_state()).
  RunState* run_state = nullptr;
};

// Where a value lives in the arena and for which steps it must stay intact.
struct BufferPlan {
  NodeId node;
  int64_t offset;
  int64_t bytes;
  int32_t first_step;  // the step that writes it (-1: written before run, an input)
  int32_t last_step;   // the last step that reads it (INT32_MAX: readable after run)
};

struct ScheduledNode {
  NodeId node;
  std::string backend;   // which backend runs it
  std::string declined;  // why earlier backends in the chain declined ("" if none did)
  NodeId fused_into = kNoNode;  // the MatMul whose kernel computes this node too (its own does nothing)
};

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
  bool training_ = false;
  RunState own_run_state_;
  RunState* run_state_ = &own_run_state_;
  AlignedFloats arena_;
  int64_t arena_bytes_ = 0;
  std::vector<TensorView> views_;  // by node id; data == nullptr when not computed
  std::vector<bool> readable_;
  std::vector<BufferPlan> buffers_;
  std::vector<ScheduledNode> schedule_;
  std::vector<std::unique_ptr<Kernel>> kernels_;
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
