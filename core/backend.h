// Backend: turns one graph node, with concrete shapes and bound buffers, into a Kernel.
//
// A Program asks the backends of its chain in order (best first, reference last); a backend
// that cannot run a node declines with a reason, which `graphrun inspect` prints. Kernels are
// prepared once at compile time (that is where a backend may allocate, build primitives or
// pack constants) and then run every step without allocating.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/epilogue.h"
#include "core/graph.h"
#include "core/run_state.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace graphrun {

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void run() = 0;
};

// What a backend sees of a node: the node, its inputs' and output's buffers with concrete
// shapes. Buffers stay at these addresses for the Program's life.
struct NodeContext {
  const Graph& graph;
  NodeId id;
  const Node& node;
  std::span<const TensorView> inputs;
  TensorView output;
  ThreadPool& pool;
  const Epilogue* epilogue = nullptr;  // MatMul only: work fused into its kernel
  // The Program's mode (CompileOptions::training): batch norm and dropout differ.
  bool training = false;
  const RunState* run = nullptr;  // read when the kernel runs (dropout's seed and step)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // A kernel for the node, or nullptr with *why_not set when this backend cannot run it.
  virtual std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) = 0;
  // Whether prepare() runs this MatMul with a NodeContext::epilogue (and never declines it then).
  virtual bool fuses_epilogue(const Node& node) const { (void)node; return false; }
  // Called once after all nodes of a Program are prepared, with the same thread pool; lets a
  // backend set its own runtime's thread count. Default: nothing.
  virtual void configure_threads(int threads) { (void)threads; }
  // Called once on every thread of the Program's pool after compilation: allocate per-thread
  // scratch here, so that no step allocates. Default: nothing.
  virtual void prepare_thread() {}
};

// A kernel from a lambda (prepared at compile time; calling it does not allocate).
template <class F>
class LambdaKernel final : public Kernel {
 public:
  explicit LambdaKernel(F f) : f_(std::move(f)) {}
  void run() override { f_(); }

 private:
  F f_;
};
template <class F>
std::unique_ptr<Kernel> make_kernel(F f) {
  return std::make_unique<LambdaKernel<F>>(std::move(f));
}

}  // namespace graphrun
