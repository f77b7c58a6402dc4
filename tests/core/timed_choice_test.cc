// The timed choice of backends (CompileOptions::choose_by_time, `--backend auto`): the fastest
// candidate wins each MatMul, the choice is cached, pinned nodes and the fallback are not
// timed, and a Program built this way computes what the reference does.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "backends/reference/evaluate.h"
#include "backends/registry.h"
#include "core/backend_timing.h"
#include "core/error.h"
#include "core/program.h"
#include "ops/autodiff.h"
#include "ops/ops.h"
#include "tests/support/test_activations.h"

namespace graphrun {
namespace {

// Runs MatMuls with the reference's kernel, after waiting `delay` (0: as fast as it).
// Declines every other op; counts the MatMuls it prepares.
class DelayedBackend final : public Backend {
 public:
  DelayedBackend(const char* name, std::chrono::microseconds delay) : name_(name), delay_(delay) {}
  const char* name() const override { return name_; }
  std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) override {
    if (ctx.node.op != OpKind::MatMul) {
      *why_not = "MatMul only";
      return nullptr;
    }
    ++prepared;
    std::shared_ptr<Kernel> k = backends::by_name("reference").prepare(ctx, why_not);
    return make_kernel([k, d = delay_] {
      if (d.count() > 0) std::this_thread::sleep_for(d);
      k->run();
    });
  }
  int prepared = 0;

 private:
  const char* name_;
  std::chrono::microseconds delay_;
};

struct Net {
  Graph g;
  NodeId x, labels, loss;
  std::vector<NodeId> grads;
  Net() {
    x = g.input("x", {Shape::kBatch, 7});
    labels = g.input("labels", {Shape::kBatch});
    NodeId w = g.parameter("w", {7, 5}, Initializer::normal(0, 0.5));
    NodeId v = g.parameter("v", {5, 3}, Initializer::glorot_uniform());
    NodeId h = ops::activation(g, ops::matmul(g, x, w), testing::test_sigmoid(), {});
    loss = ops::softmax_cross_entropy(g, ops::matmul(g, h, v), labels, true);
    grads = ops::gradients(g, loss, {w, v});
  }
  std::vector<NodeId> outputs() const { return {loss, grads[0], grads[1]}; }
  int matmuls() const {
    int n = 0;
    for (NodeId id = 0; id < g.size(); ++id) n += g.node(id).op == OpKind::MatMul;
    return n;
  }
};

class TimedChoice : public ::testing::Test {
 protected:
  void SetUp() override { forget_timed_choices(); }
  void TearDown() override { forget_timed_choices(); }
  std::unique_ptr<Program> compile(bool by_time, std::map<std::string, std::string> pinned = {}) {
    CompileOptions o{{&slow, &fast, &backends::by_name("reference")}, std::move(pinned), nullptr, net.outputs()};
    o.choose_by_time = by_time;
    return Program::compile(net.g, params, 4, o);
  }
  Net net;
  ParameterStore params = ParameterStore::initialize(net.g, 3);
  DelayedBackend slow{"slow", std::chrono::microseconds(1500)};
  DelayedBackend fast{"fast", std::chrono::microseconds(0)};
};

TEST_F(TimedChoice, TheFasterBackendRunsEachMatMulAndTheRestGoesByTheChain) {
  auto p = compile(true);
  int timed = 0;
  for (const ScheduledNode& s : p->schedule()) {
    if (net.g.node(s.node).op == OpKind::MatMul) {
      ++timed;
      EXPECT_EQ(s.backend, "fast");
      // Both figures are reported, the slow one at least its delay.
      EXPECT_NE(s.timing.find("slow 1."), std::string::npos) << s.timing;
      EXPECT_NE(s.timing.find("fast "), std::string::npos) << s.timing;
    } else {
      EXPECT_EQ(s.backend, "reference");
      EXPECT_EQ(s.timing, "");
    }
  }
  EXPECT_EQ(timed, net.matmuls());
  EXPECT_EQ(slow.prepared, net.matmuls());
}

TEST_F(TimedChoice, WithoutItTheChainsOrderDecides) {
  auto p = compile(false);
  for (const ScheduledNode& s : p->schedule()) {
    if (net.g.node(s.node).op == OpKind::MatMul) {
      EXPECT_EQ(s.backend, "slow");
    }
    EXPECT_EQ(s.timing, "");
  }
  EXPECT_EQ(fast.prepared, 0);
}

TEST_F(TimedChoice, AChoiceIsTimedOnceForTheProcess) {
  compile(true);
  const int slow_before = slow.prepared;
  auto again = compile(true);
  EXPECT_EQ(slow.prepared, slow_before);  // not prepared again: nothing was timed
  for (const ScheduledNode& s : again->schedule()) {
    if (net.g.node(s.node).op != OpKind::MatMul) continue;
    EXPECT_EQ(s.backend, "fast");
    EXPECT_NE(s.timing.find("(timed before)"), std::string::npos) << s.timing;
  }
}

TEST_F(TimedChoice, PinnedNodesAreNotTimed) {
  NodeId first = kNoNode;
  for (NodeId id = 0; id < net.g.size() && first == kNoNode; ++id) {
    if (net.g.node(id).op == OpKind::MatMul) first = id;
  }
  auto p = compile(true, {{net.g.node(first).name, "slow"}});
  for (const ScheduledNode& s : p->schedule()) {
    if (s.node != first) continue;
    EXPECT_EQ(s.backend, "slow");
    EXPECT_EQ(s.timing, "");
  }
}

TEST_F(TimedChoice, TheFallbackIsNeverTimed) {
  CompileOptions o{{&slow, &backends::by_name("reference")}, {}, nullptr, net.outputs()};
  o.choose_by_time = true;
  auto p = Program::compile(net.g, params, 4, o);
  for (const ScheduledNode& s : p->schedule()) {
    if (net.g.node(s.node).op == OpKind::MatMul) {
      EXPECT_EQ(s.backend, "slow");
    }
    EXPECT_EQ(s.timing, "");
  }
}

TEST(TimedChoiceRules, AnEarlierCandidateKeepsItsPlaceWithinThreePercent) {
  Kernel* none = nullptr;
  std::vector<TimedKernel> k{{nullptr, none, 1.00}, {nullptr, none, 0.98}, {nullptr, none, 1.2}};
  EXPECT_EQ(fastest(k), 0u);
  k[1].seconds = 0.96;
  EXPECT_EQ(fastest(k), 1u);
  k[2].seconds = 0.95;  // not 3 % faster than the new best
  EXPECT_EQ(fastest(k), 1u);
  k[2].seconds = 0.90;
  EXPECT_EQ(fastest(k), 2u);
}

TEST(TimedChoiceRules, TheKeyHoldsWhatDecidesTheSpeed) {
  Graph g;
  NodeId a = g.input("a", {Shape::kBatch, 8});
  NodeId w = g.parameter("w", {8, 4}, Initializer::glorot_uniform());
  NodeId m = ops::matmul(g, a, w);
  ThreadPool& pool = ThreadPool::global();
  auto key = [&](Shape a_shape, int threads, bool training, std::vector<Backend*> candidates) {
    std::vector<TensorView> in{{nullptr, a_shape}, {nullptr, {8, 4}}};
    NodeContext ctx{g, m, g.node(m), in, {nullptr, {a_shape[0], 4}}, pool, nullptr, training, nullptr};
    return timing_key(ctx, candidates, threads);
  };
  std::vector<Backend*> two{&backends::by_name("highway"), &backends::by_name("reference")};
  const std::string base = key({16, 8}, 2, false, two);
  EXPECT_EQ(key({16, 8}, 2, false, two), base);
  EXPECT_NE(key({32, 8}, 2, false, two), base);
  EXPECT_NE(key({16, 8}, 1, false, two), base);
  EXPECT_EQ(key({16, 8}, 2, true, two), base);  // the mode changes no MatMul
  EXPECT_NE(key({16, 8}, 2, false, {two[0]}), base);
  EXPECT_TRUE(is_timed(g.node(m)));
  EXPECT_FALSE(is_timed(g.node(a)));
}

// `--backend auto` with the real backends: every MatMul timed among the built backends but the
// reference, and the results those of the reference.
TEST(TimedChoiceAuto, ComputesWhatTheReferenceDoes) {
  forget_timed_choices();
  Net net;
  ParameterStore params = ParameterStore::initialize(net.g, 5);
  CompileOptions o;
  backends::select(backends::kAuto, o);
  EXPECT_TRUE(o.choose_by_time);
  ASSERT_GE(o.backends.size(), 2u);
  EXPECT_STREQ(o.backends.front()->name(), "highway");
  EXPECT_STREQ(o.backends.back()->name(), "reference");
  o.outputs = net.outputs();
  auto p = Program::compile(net.g, params, 4, o);
  CompileOptions r{{&backends::by_name("reference")}, {}, nullptr, net.outputs()};
  auto ref = Program::compile(net.g, params, 4, r);
  for (Program* q : {p.get(), ref.get()}) {
    const float xs[28] = {0.1f, -0.4f, 0.9f,  0.3f, -0.2f, 0.5f,  0.0f, 0.7f, -0.6f, 0.2f,  0.4f, -0.1f, 0.8f, -0.9f,
                          0.3f, 0.6f,  -0.5f, 0.1f, 0.2f,  -0.3f, 0.4f, 0.5f, 0.9f,  -0.7f, 0.0f, 0.1f,  0.2f, 0.3f};
    std::copy(std::begin(xs), std::end(xs), q->value(net.x).data);
    const float ys[4] = {0, 2, 1, 2};
    std::copy(std::begin(ys), std::end(ys), q->value(net.labels).data);
    q->run();
  }
  int timed = 0;
  for (const ScheduledNode& s : p->schedule()) {
    if (net.g.node(s.node).op != OpKind::MatMul || s.fused_into != kNoNode) continue;
    EXPECT_NE(s.backend, "reference");
    timed += !s.timing.empty();
  }
  if (backends::names().size() > 2) {
    EXPECT_EQ(timed, net.matmuls());
  }
  for (NodeId id : net.outputs()) {
    const TensorView a = p->value(id), b = ref->value(id);
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a.data[i], b.data[i], 1e-5f) << net.g.node(id).name;
  }
  EXPECT_NO_THROW(backends::check_name("auto"));
  EXPECT_THROW(backends::check_name("autoo"), Error);
  forget_timed_choices();
}

}  // namespace
}  // namespace graphrun
