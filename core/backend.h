// Backend: turns one graph node, with concrete shapes and bound buffers, into a Kernel.
//
// A Program asks the backends of its chain in order (best first, reference last); a backend
// that cannot run a node declines with a reason, which `graphrun inspect` prints. Kernels are
// prepared once at compile time (that is where a backend may allocate, build primitives or
// pack constants) and then run every step without allocating.
#pragma once

#include <cstdint>
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

// A GEMM on the calling thread: C = op(A) op(B) (+ C when accumulate), row-major with leading
// dimensions, op(X) = X^T when trans_x; A is M x K after op, B K x N.
using SerialGemm = void (*)(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                            const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // A kernel for the node, or nullptr with *why_not set when this backend cannot run it.
  virtual std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) = 0;
  // Whether prepare() runs this MatMul with a NodeContext::epilogue (and never declines it then).
  virtual bool fuses_epilogue(const Node& node) const {
    (void)node;
    return false;
  }
  // Optional capability: a serial GEMM that sums every element of C over K in the same order as
  // this backend's MatMul kernel, however the product is split into blocks of rows. The
  // trainer then makes a weight gradient block by block inside the optimizer's update and
  // gets the same floats as the stored gradient. nullptr (the default): no such GEMM.
  virtual SerialGemm serial_gemm() const { return nullptr; }
  // Called once before a Program's nodes are prepared, with its thread pool's size; lets a
  // backend set its own runtime's thread count. Default: nothing.
  virtual void configure_threads(int threads) { (void)threads; }
  // Whether its kernels run on the Program's thread pool (false: a runtime of its own).
  virtual bool runs_on_pool() const { return true; }
  // Called on every thread of the Program's pool after its nodes are prepared (and before a
  // timed choice runs kernels): allocate per-thread scratch here, so that no step allocates.
  // Default: nothing.
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
