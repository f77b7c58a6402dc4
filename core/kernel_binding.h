// Compile stage 4, kernel binding: each scheduled node gets a kernel from the first backend
// of its chain that accepts it (a pinned backend first); each decline is recorded with its
// reason. With CompileOptions::choose_by_time a heavy node gets the fastest of the backends
// that accept it instead, timed on its buffers (core/backend_timing.h). A node fused into a MatMul (stage 2,
// core/fusion.h) gets a no-op kernel, and the MatMul an Epilogue; then every backend prepares the pool's threads
// (per-thread scratch), so that run() allocates nothing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/compile_options.h"
#include "core/fusion.h"
#include "core/schedule.h"

namespace graphrun {

struct ScheduledNode {
  NodeId node;
  std::string backend;          // which backend runs it
  std::string declined;         // why earlier backends in the chain declined ("" if none did)
  NodeId fused_into = kNoNode;  // the MatMul whose kernel computes this node too (its own does nothing)
  std::string timing;           // a timed choice's figures (CompileOptions::choose_by_time), else ""
};

// The backends to try for a node: the one it is pinned to (Error BadInput when that one is
// not in the chain), then the chain.
std::vector<Backend*> backends_for(const Node& node, const CompileOptions& options);

struct BoundKernels {
  std::vector<ScheduledNode> schedule;           // one per step of s.order
  std::vector<std::unique_ptr<Kernel>> kernels;  // the same
};

BoundKernels bind_kernels(const Graph& g, const Schedule& s, const FusionPlan& fusion,
                          const std::vector<TensorView>& views, const CompileOptions& options, ThreadPool& pool,
                          RunState* run);

}  // namespace graphrun
