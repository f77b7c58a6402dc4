// Allocations in a step. oneDNN 2.x's dnnl_primitive_execute builds a std::unordered_map of
// its arguments on every call (src/common/primitive_iface.cpp, `exec_args_t args`), so a
// oneDNN step allocates a few small blocks inside the library. These tests pin that down: the
// count per step is the same every step (nothing grows), it is bounded by a few per oneDNN
// kernel (6-7 on average here), and a program that runs no oneDNN kernel allocates nothing.
#include <gtest/gtest.h>

#include "backends/registry.h"
#include "tests/backends/consistency.h"
#include "tests/support/allocation_counter.h"  // defines the counting malloc: this file only
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

struct Net {
  Graph g;
  NodeId x, w, b, v, loss;
  std::vector<NodeId> grads;
  Net() {
    x = g.input("x", {Shape::kBatch, 785});
    w = g.parameter("w", {785, 400}, Initializer::normal(0, 0.05));
    b = g.parameter("b", {400}, Initializer::uniform(-0.1, 0.1));
    v = g.parameter("v", {400, 10}, Initializer::glorot_uniform());
    NodeId h = ops::activation(g, ops::add(g, ops::matmul(g, x, w), b), testing::test_scaled_tanh(), {1.0});
    NodeId logits = ops::softmax(g, ops::matmul(g, h, v));
    loss = ops::mean(g, ops::mul(g, logits, logits));
    grads = ops::gradients(g, loss, {w, b, v});
  }
};

TEST(OnednnAllocations, AStepAllocatesTheSameFewBlocksEveryTime) {
  Net net;
  ParameterStore params = ParameterStore::initialize(net.g, 1);
  ThreadPool pool(2);
  std::vector<NodeId> outputs{net.loss, net.grads[0], net.grads[1], net.grads[2]};
  auto p = testing::compile_on(net.g, params, backends::chain("onednn"), outputs, pool, 32);
  testing::fill_inputs(*p, 3, 0.0f, 1.0f);
  int64_t native = 0;
  for (const ScheduledNode& s : p->schedule()) native += s.backend == "onednn";
  EXPECT_GE(native, 8);
  p->run();
  p->run();  // warm-up: per-thread buffers of Highway and OpenMP
  std::vector<int64_t> per_step;
  for (int step = 0; step < 20; ++step) {
    testing::AllocationCount count;
    p->run();
    per_step.push_back(count.stop());
  }
  for (int64_t a : per_step) EXPECT_EQ(a, per_step[0]);
  EXPECT_LE(per_step[0], 8 * native) << native << " oneDNN kernels";
}

TEST(OnednnAllocations, ProgramsWithoutOnednnKernelsAllocateNothing) {
  // A chain starting at oneDNN whose nodes all fall back (mse has no oneDNN primitive).
  Graph g;
  NodeId a = g.input("a", {64, 32}), t = g.input("t", {64, 32});
  NodeId loss = ops::mean_squared_error(g, a, t);
  ParameterStore params = ParameterStore::initialize(g, 1);
  ThreadPool pool(2);
  auto p = testing::compile_on(g, params, backends::chain("onednn"), {loss}, pool);
  for (const ScheduledNode& s : p->schedule()) EXPECT_NE(s.backend, "onednn");
  p->run();
  testing::AllocationCount count;
  for (int step = 0; step < 50; ++step) p->run();
  EXPECT_EQ(count.stop(), 0);
}

}  // namespace
}  // namespace graphrun
