// What Program::compile is asked for: the backend chain, pins, the thread pool, the outputs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/graph.h"
#include "core/run_state.h"
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
  // Choose each heavy node's backend by timing (`--backend auto`): every backend of the chain
  // but the last (the fallback) that accepts a MatMul or convolution prepares a kernel, each
  // runs a few times on the node's buffers at compile time, and the fastest is kept (cached
  // for the process, core/backend_timing.h). Pinned nodes are not timed. Timing runs kernels
  // on the arena, which holds no values before the first run.
  bool choose_by_time = false;
  // The seed and step the kernels read when they run; nullptr: the Program's own (run_state()).
  RunState* run_state = nullptr;
};

}  // namespace graphrun
