// Compiled programs: results equal the f64 interpreter on every backend, the memory plan
// shares bytes without overlapping live values, and run() allocates nothing.
#include "core/program.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "backends/reference/evaluate.h"
#include "backends/registry.h"
#include "core/error.h"
#include "ops/autodiff.h"
#include "ops/ops.h"
#include "tests/support/allocation_counter.h"  // defines the counting malloc: this file only
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

// The tutorial's first network with a trainable bias on the hidden layer too (covers add).
struct Net {
  Graph g;
  NodeId x, labels, w, b, v, probs, loss;
  std::vector<NodeId> grads;
  Net(int64_t in, int64_t hid, int64_t classes) {
    x = g.input("x", {Shape::kBatch, in});
    labels = g.input("labels", {Shape::kBatch});
    w = g.parameter("w", {in, hid}, Initializer::normal(0, 0.5));
    b = g.parameter("b", {hid}, Initializer::uniform(-0.1, 0.1));
    v = g.parameter("v", {hid, classes}, Initializer::glorot_uniform());
    NodeId h = ops::activation(g, ops::add(g, ops::matmul(g, x, w), b), testing::test_sigmoid(), {});
    NodeId logits = ops::matmul(g, h, v);
    probs = ops::softmax(g, logits);
    loss = ops::softmax_cross_entropy(g, logits, labels, true);
    grads = ops::gradients(g, loss, {w, b, v});
  }
  std::vector<NodeId> outputs() const { return {loss, probs, grads[0], grads[1], grads[2]}; }
};

void fill(Program& p, const Net& net, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (float& f : p.value(net.x).span()) f = u(rng);
  const int64_t classes = net.g.shape(net.v)[1];
  for (float& f : p.value(net.labels).span()) f = static_cast<float>(rng() % static_cast<uint64_t>(classes));
}

TEST(Program, EveryBackendMatchesTheDoubleInterpreter) {
  const int64_t batch = 17, in = 33, hid = 65, classes = 10;
  Net net(in, hid, classes);
  ParameterStore params = ParameterStore::initialize(net.g, 42);
  for (const std::string& name : backends::names()) {
    SCOPED_TRACE(name);
    ThreadPool pool(2);
    CompileOptions opt{backends::chain(name), {}, &pool, net.outputs()};
    auto p = Program::compile(net.g, params, batch, opt);
    fill(*p, net, 3);
    p->run();
    std::map<std::string, reference::DoubleTensor> values;
    for (NodeId id : {net.x, net.labels, net.w, net.b, net.v}) {
      TensorView t = p->value(id);
      values[net.g.node(id).name] = {t.shape, std::vector<double>(t.span().begin(), t.span().end())};
    }
    auto expect = reference::evaluate_f64(net.g, batch, values);
    for (NodeId id : net.outputs()) {
      TensorView got = p->value(id);
      const auto& want = expect[static_cast<size_t>(id)].values;
      ASSERT_EQ(static_cast<size_t>(got.numel()), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(got.data[i], want[i], 1e-5 * std::max(1.0, std::abs(want[i])))
            << net.g.node(id).name << "[" << i << "]";
      }
    }
    // Every node runs on the chosen backend, or says why that backend declined it (oneDNN has
    // no cross-entropy, and test_sigmoid declares no oneDNN equivalent).
    for (const ScheduledNode& s : p->schedule()) {
      EXPECT_TRUE(s.backend == name || s.declined.starts_with(name + ": ")) << net.g.node(s.node).name;
    }
  }
}

// x -> matmul -> +b -> sigmoid -> matmul -> +c: both bias adds and the sigmoid run inside the
// MatMuls' kernels, with the results of the separate nodes, where the backend fuses epilogues.
TEST(Program, FusesBiasAndActivationIntoTheMatMul) {
  Graph g;
  const NodeId x = g.input("x", {Shape::kBatch, 37});
  const NodeId w = g.parameter("w", {37, 70}, Initializer::normal(0, 0.5));
  const NodeId b = g.parameter("b", {70}, Initializer::uniform(-1, 1));
  const NodeId v = g.parameter("v", {70, 9}, Initializer::normal(0, 0.5));
  const NodeId c = g.parameter("c", {9}, Initializer::uniform(-1, 1));
  const NodeId m1 = ops::matmul(g, x, w), a1 = ops::add(g, m1, b);
  const NodeId h = ops::activation(g, a1, testing::test_sigmoid(), {});
  const NodeId m2 = ops::matmul(g, h, v), out = ops::add(g, m2, c);
  ParameterStore params = ParameterStore::initialize(g, 4);
  auto run = [&](const std::string& backend, std::vector<NodeId> outputs, bool fuse) {
    CompileOptions opt{backends::chain(backend), {}, nullptr, std::move(outputs)};
    opt.fuse_epilogues = fuse;
    auto p = Program::compile(g, params, 13, opt);
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& f : p->value(x).span()) f = u(rng);
    p->run();
    return p;
  };
  auto fused_into = [](const Program& p, NodeId id) {
    for (const ScheduledNode& s : p.schedule()) {
      if (s.node == id) return s.fused_into;
    }
    return kNoNode - 1;
  };
  for (const std::string backend : {"highway", "reference"}) {
    SCOPED_TRACE(backend);
    auto fused = run(backend, {out}, true);
    auto separate = run(backend, {out}, false);
    EXPECT_EQ(fused_into(*fused, a1), m1);
    EXPECT_EQ(fused_into(*fused, h), m1);
    EXPECT_EQ(fused_into(*fused, out), m2);  // an output: computed by m2 into its own buffer
    EXPECT_EQ(fused_into(*separate, a1), kNoNode);
    const TensorView got = fused->value(out), want = separate->value(out);
    for (int64_t i = 0; i < want.numel(); ++i) EXPECT_EQ(got.data[i], want.data[i]) << i;
    // A MatMul result that is also requested, or a pre-activation read twice, stays a node.
    auto keep_m1 = run(backend, {out, m1}, true);
    EXPECT_EQ(fused_into(*keep_m1, a1), kNoNode);
    // A pre-activation read by another node too: the activation writes its own buffer.
    auto keep_a1 = run(backend, {out, a1}, true);
    EXPECT_EQ(fused_into(*keep_a1, a1), m1);
    EXPECT_EQ(fused_into(*keep_a1, h), m1);
    for (int64_t i = 0; i < want.numel(); ++i) EXPECT_EQ(keep_a1->value(out).data[i], want.data[i]) << i;
    auto separate_a1 = run(backend, {out, a1}, false);
    const TensorView z = keep_a1->value(a1), z_want = separate_a1->value(a1);
    for (int64_t i = 0; i < z.numel(); ++i) EXPECT_EQ(z.data[i], z_want.data[i]) << i;
  }
  // oneDNN (when built) fuses them too: the bias into its primitive, the activation (the
  // plugin's, where the separate node runs oneDNN's eltwise) after it.
  if (std::ranges::count(backends::names(), "onednn") > 0) {
    auto fused = run("onednn", {out}, true);
    auto separate = run("onednn", {out}, false);
    EXPECT_EQ(fused_into(*fused, a1), m1);
    EXPECT_EQ(fused_into(*fused, h), m1);
    const TensorView got = fused->value(out), want = separate->value(out);
    for (int64_t i = 0; i < want.numel(); ++i) EXPECT_NEAR(got.data[i], want.data[i], 1e-5f) << i;
  }
  // A pinned Add is left to its backend.
  CompileOptions pinned{backends::chain("highway"), {{g.node(a1).name, "reference"}}, nullptr, {out}};
  auto p = Program::compile(g, params, 3, pinned);
  EXPECT_EQ(fused_into(*p, a1), kNoNode);
  EXPECT_EQ(fused_into(*p, out), m2);
}

// A training step: the hidden layer's sigmoid is computed in its MatMul's epilogue beside the
// pre-activation (which its gradient reads), and the gradient of the sigmoid in the epilogue of
// the MatMul that makes d hidden. Loss and gradients equal the unfused program's bit for bit.
TEST(Program, FusesActivationAndItsGradientInTraining) {
  Net net(33, 65, 10);
  ParameterStore params = ParameterStore::initialize(net.g, 42);
  for (const std::string backend : {"highway", "reference"}) {
    SCOPED_TRACE(backend);
    ThreadPool pool(2);
    std::unique_ptr<Program> p[2];
    for (int fuse : {0, 1}) {
      CompileOptions opt{backends::chain(backend), {}, &pool, net.outputs()};
      opt.fuse_epilogues = fuse == 1;
      p[fuse] = Program::compile(net.g, params, 17, opt);
      fill(*p[fuse], net, 3);
      p[fuse]->run();
    }
    int activations = 0, activation_grads = 0;
    for (const ScheduledNode& s : p[1]->schedule()) {
      const OpKind op = net.g.node(s.node).op;
      activations += op == OpKind::Activation && s.fused_into != kNoNode;
      activation_grads += op == OpKind::ActivationGrad && s.fused_into != kNoNode;
    }
    EXPECT_EQ(activations, 1);
    EXPECT_EQ(activation_grads, 1);
    for (NodeId id : net.outputs()) {
      const TensorView got = p[1]->value(id), want = p[0]->value(id);
      for (int64_t i = 0; i < want.numel(); ++i)
        EXPECT_EQ(got.data[i], want.data[i]) << net.g.node(id).name << "[" << i << "]";
    }
  }
}

TEST(Program, MemoryPlanSharesBytesAndNeverOverlapsLiveValues) {
  // The seed network at the tutorial's shapes.
  Net net(785, 400, 10);
  ParameterStore params = ParameterStore::initialize(net.g, 1);
  CompileOptions opt{backends::chain("reference"), {}, nullptr, {net.loss, net.grads[0], net.grads[1], net.grads[2]}};
  auto p = Program::compile(net.g, params, 32, opt);
  EXPECT_LT(p->arena_bytes(), p->unshared_bytes());
  const auto& bufs = p->buffers();
  for (size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_EQ(bufs[i].offset % 64, 0);
    EXPECT_LE(bufs[i].offset + bufs[i].bytes, p->arena_bytes());
    for (size_t j = i + 1; j < bufs.size(); ++j) {
      const bool live_together = bufs[i].first_step <= bufs[j].last_step && bufs[j].first_step <= bufs[i].last_step;
      const bool bytes_overlap =
          bufs[i].offset < bufs[j].offset + bufs[j].bytes && bufs[j].offset < bufs[i].offset + bufs[i].bytes;
      EXPECT_FALSE(live_together && bytes_overlap)
          << net.g.node(bufs[i].node).name << " and " << net.g.node(bufs[j].node).name;
    }
  }
}

TEST(Program, RunAllocatesNothing) {
  Net net(785, 400, 10);
  ParameterStore params = ParameterStore::initialize(net.g, 1);
  for (const std::string& name : backends::names()) {
    // oneDNN 2.x allocates its argument map inside every execute();
    // tests/backends/onednn_allocation_test.cc checks that this is a constant per step and
    // that graphrun's own code adds nothing.
    if (name == "onednn") continue;
    SCOPED_TRACE(name);
    ThreadPool pool(2);
    CompileOptions opt{backends::chain(name), {}, &pool, net.outputs()};
    auto p = Program::compile(net.g, params, 32, opt);
    fill(*p, net, 5);
    p->run();  // step 1 may warm up per-thread buffers
    testing::AllocationCount count;
    for (int step = 2; step <= 20; ++step) p->run();
    EXPECT_EQ(count.stop(), 0);
  }
}

TEST(Program, TheAllocationCounterSeesAllocations) {
  testing::AllocationCount count;
  auto* p = new std::vector<int>(100);
  const int64_t seen = count.stop();
  delete p;
  EXPECT_GE(seen, 2);  // the vector object and its storage
}

TEST(Program, BatchSizesAreCompiledOnceAndCached) {
  Net net(5, 4, 3);
  ParameterStore params = ParameterStore::initialize(net.g, 1);
  ProgramCache cache(net.g, params, CompileOptions{backends::chain("highway"), {}, nullptr, {net.loss}});
  Program& a = cache.get(8);
  Program& b = cache.get(1);
  EXPECT_EQ(&cache.get(8), &a);
  EXPECT_EQ(a.batch(), 8);
  EXPECT_EQ(b.value(net.x).shape, (Shape{1, 5}));
}

TEST(Program, PinnedNodesAndBadRequestsAreReported) {
  Net net(5, 4, 3);
  ParameterStore params = ParameterStore::initialize(net.g, 1);
  const std::string logits = net.g.node(net.g.node(net.probs).inputs[0]).name;
  CompileOptions opt{backends::chain("highway"), {{logits, "reference"}}, nullptr, {net.loss}};
  auto p = Program::compile(net.g, params, 2, opt);
  for (const ScheduledNode& s : p->schedule()) {
    EXPECT_EQ(s.backend, net.g.node(s.node).name == logits ? "reference" : "highway");
  }
  EXPECT_THROW(p->value(net.probs), Error);  // not requested: not readable
  opt.pinned = {{logits, "no_such_backend"}};
  EXPECT_THROW(Program::compile(net.g, params, 2, opt), Error);
  EXPECT_THROW(Program::compile(net.g, params, 0, opt), Error);
  EXPECT_THROW(backends::chain("tpu"), Error);
}

}  // namespace
}  // namespace graphrun
