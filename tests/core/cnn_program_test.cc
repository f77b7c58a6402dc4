// A small CNN compiled on every backend (conv2d + bias + activation, max pool, strided conv,
// avg pool, global avg pool, dense, softmax cross-entropy; forward and backward): each
// backend's loss and gradients against the reference backend's, and a step that allocates
// nothing (oneDNN, when built: a constant count per step, see tests/backends/onednn_allocation_test.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/registry.h"
#include "core/program.h"
#include "ops/autodiff.h"
#include "ops/conv.h"
#include "ops/ops.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

Node::Window window(int k, int s) {
  Node::Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  return w;
}

struct Cnn {
  Graph g;
  NodeId x, labels, loss;
  std::vector<NodeId> params, grads;
  Cnn() {
    x = g.input("x", {Shape::kBatch, 3, 15, 13});
    labels = g.input("labels", {Shape::kBatch});
    NodeId w1 = g.parameter("w1", {8, 3, 3, 3}, Initializer::uniform(-0.3, 0.3));
    NodeId b1 = g.parameter("b1", {8}, Initializer::uniform(-0.1, 0.1));
    NodeId w2 = g.parameter("w2", {6, 4, 3, 3}, Initializer::uniform(-0.3, 0.3));  // groups 2
    NodeId b2 = g.parameter("b2", {6}, Initializer::uniform(-0.1, 0.1));
    NodeId v = g.parameter("v", {6, 5}, Initializer::glorot_uniform());
    NodeId h = ops::conv2d(g, x, w1, ops::same_padding(15, 13, window(3, 1)));
    h = ops::activation(g, ops::add_channels(g, h, b1), testing::test_sigmoid(), {});
    h = ops::max_pool2d(g, h, window(2, 2));  // [N,8,7,6]
    Node::Window grouped = ops::same_padding(7, 6, window(3, 2));
    grouped.groups = 2;
    h = ops::add_channels(g, ops::conv2d(g, h, w2, grouped), b2);  // [N,6,4,3]
    h = ops::avg_pool2d(g, h, ops::same_padding(4, 3, window(3, 1)));
    h = ops::flatten(g, ops::global_avg_pool(g, h));  // [N,6]
    loss = ops::softmax_cross_entropy(g, ops::matmul(g, h, v), labels, true);
    params = {w1, b1, w2, b2, v};
    grads = ops::gradients(g, loss, params);
  }
  std::vector<NodeId> outputs() const {
    std::vector<NodeId> out{loss};
    out.insert(out.end(), grads.begin(), grads.end());
    return out;
  }
};

void fill(Program& p, const Cnn& net) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (float& f : p.value(net.x).span()) f = u(rng);
  for (float& f : p.value(net.labels).span()) f = static_cast<float>(rng() % 5);
}

TEST(CnnProgram, EveryBackendMatchesTheReference) {
  Cnn net;
  ParameterStore params = ParameterStore::initialize(net.g, 3);
  ThreadPool pool(2);
  auto compile = [&](const std::string& name) {
    auto p = Program::compile(net.g, params, 9, CompileOptions{backends::chain(name), {}, &pool, net.outputs()});
    fill(*p, net);
    p->run();
    return p;
  };
  auto want = compile("reference");
  for (const std::string& name : backends::names()) {
    SCOPED_TRACE(name);
    auto got = compile(name);
    for (NodeId id : net.outputs()) {
      const TensorView a = got->value(id), b = want->value(id);
      for (int64_t i = 0; i < b.numel(); ++i) {
        EXPECT_NEAR(a.data[i], b.data[i], 1e-5 + 1e-4 * std::abs(b.data[i])) << net.g.node(id).name << "[" << i << "]";
      }
    }
    for (const ScheduledNode& s : got->schedule()) {
      const OpKind op = net.g.node(s.node).op;
      if (op == OpKind::Conv2d || op == OpKind::Conv2dGradInput || op == OpKind::Conv2dGradWeight) {
        EXPECT_EQ(s.backend, name) << net.g.node(s.node).name << ": " << s.declined;
      }
    }
  }
}

TEST(CnnProgram, RunAllocatesNothing) {
  Cnn net;
  ParameterStore params = ParameterStore::initialize(net.g, 3);
  for (const std::string& name : backends::names()) {
    SCOPED_TRACE(name);
    ThreadPool pool(2);
    auto p = Program::compile(net.g, params, 32, CompileOptions{backends::chain(name), {}, &pool, net.outputs()});
    fill(*p, net);
    p->run();
    testing::AllocationCount first;
    p->run();
    const int64_t per_step = first.stop();
    constexpr int kSteps = 18;
    testing::AllocationCount count;
    for (int step = 0; step < kSteps; ++step) p->run();
    const int64_t total = count.stop();
    if (name == "onednn") {
      EXPECT_EQ(total, kSteps * per_step);  // oneDNN 2.x's execute() allocates its argument map: no growth
    } else {
      EXPECT_EQ(per_step, 0);
      EXPECT_EQ(total, 0);
    }
  }
}

}  // namespace
}  // namespace graphrun
