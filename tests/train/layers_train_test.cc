// Batch norm and dropout inside training: the modes (training steps vs evaluation), the running
// statistics (updated as specified, never by the optimizer, saved and restored through weights
// and checkpoint files bit for bit), dropout independent of the thread count and identical
// across a resume boundary, and a training step that allocates nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "core/program.h"
#include "ops/layers.h"
#include "ops/ops.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/tiny_dataset.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace graphrun {
namespace {

// 8 -> dense 12 -> batch_norm -> relu -> dropout 0.3 -> dense 3 (softmax with the loss).
train::Model make_net(float momentum = 0.9f, float rate = 0.3f) {
  train::Model m;
  Graph& g = m.graph;
  m.features = g.input("features", {Shape::kBatch, 8});
  m.labels = g.input("labels", {Shape::kBatch});
  NodeId w1 = g.parameter("hidden.weight", {8, 12}, Initializer::glorot_uniform());
  NodeId b1 = g.parameter("hidden.bias", {12}, Initializer::zeros());
  NodeId h = ops::add(g, ops::matmul(g, m.features, w1), b1);
  h = ops::batch_norm(g, h, "bn", momentum, 1e-5f);
  const LoadedActivation& relu = PluginRegistry::global().activation("relu");
  h = ops::activation(g, h, relu.entry, {});
  h = ops::dropout(g, h, rate, "drop");
  NodeId w2 = g.parameter("out.weight", {12, 3}, Initializer::glorot_uniform());
  NodeId b2 = g.parameter("out.bias", {3}, Initializer::zeros());
  NodeId logits = ops::add(g, ops::matmul(g, h, w2), b2);
  m.output = ops::softmax(g, logits, "out.softmax");
  m.loss = ops::softmax_cross_entropy(g, logits, m.labels, true, "loss");
  return m;
}

train::TrainConfig config(int threads, const std::string& backend = "highway") {
  train::TrainConfig c;
  c.batch_size = 10;
  c.threads = threads;
  c.optimizer = "adam";
  c.learning_rate = 0.01;
  c.seed = 5;
  c.backend = backend;
  return c;
}

void expect_identical(const ParameterStore& a, const ParameterStore& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = a.tensor(i).span(), y = b.tensor(i).span();
    int64_t differ = 0;
    for (size_t k = 0; k < x.size(); ++k) differ += std::memcmp(&x[k], &y[k], sizeof(float)) != 0;
    EXPECT_EQ(differ, 0) << what << ": " << a.name(i) << " differs in " << differ << " of " << x.size();
  }
}

// One training step's batch norm updates the running statistics with the batch's mean and
// unbiased variance (momentum 0.9); the evaluation program uses them instead of the batch's.
TEST(LayersTraining, RunningStatisticsFollowMomentumAndServeInference) {
  for (const char* backend : {"reference", "highway"}) {
    SCOPED_TRACE(backend);
    Graph g;
    NodeId x = g.input("x", {Shape::kBatch, 3, 2, 2});
    NodeId y = ops::batch_norm(g, x, "bn", 0.9f, 1e-5f);
    ParameterStore params = ParameterStore::initialize(g, 1);
    params.at("bn.running_mean")[1] = 0.5f;
    params.at("bn.running_var")[1] = 2.0f;
    CompileOptions o{backends::chain(backend), {}, nullptr, {y}};
    o.training = true;
    auto train = Program::compile(g, params, 4, o);
    o.training = false;
    auto infer = Program::compile(g, params, 4, o);
    float* in = train->value(x).data;
    for (int i = 0; i < 48; ++i) in[i] = static_cast<float>((i * 7) % 11) - 3.0f;
    train->run();
    // Channel 1: elements (n, 1, s) = in[n * 12 + 4 + s].
    double sum = 0, sq = 0;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) sum += in[n * 12 + 4 + s];
    const double mean = sum / 16;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) sq += (in[n * 12 + 4 + s] - mean) * (in[n * 12 + 4 + s] - mean);
    EXPECT_NEAR(params.at("bn.running_mean")[1], 0.9 * 0.5 + 0.1 * mean, 1e-6);
    EXPECT_NEAR(params.at("bn.running_var")[1], 0.9 * 2.0 + 0.1 * sq / 15, 1e-6);
    // Training output: normalised by the batch (mean 0, biased variance ~1 per channel).
    double out_sum = 0, out_sq = 0;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) {
        const double v = train->value(y).data[n * 12 + 4 + s];
        out_sum += v;
        out_sq += v * v;
      }
    EXPECT_NEAR(out_sum / 16, 0.0, 1e-6);
    EXPECT_NEAR(out_sq / 16, sq / 16 / (sq / 16 + 1e-5), 1e-5);
    // Inference: (x - running_mean) / sqrt(running_var + eps), and the statistics stay.
    const float rm = params.at("bn.running_mean")[1], rv = params.at("bn.running_var")[1];
    std::copy(in, in + 48, infer->value(x).data);
    infer->run();
    EXPECT_NEAR(infer->value(y).data[4], (in[4] - rm) / std::sqrt(rv + 1e-5), 1e-5);
    EXPECT_EQ(params.at("bn.running_mean")[1], rm);
  }
}

// Momentum 1 keeps the running statistics at their initial values: neither the forward nor the
// optimizer (they have no gradient and no slots) changes them, while gamma and beta train.
TEST(LayersTraining, OptimizerNeverTouchesTheState) {
  train::Model m = make_net(1.0f);
  ParameterStore params = ParameterStore::initialize(m.graph, 3);
  train::Trainer t(m, params, config(1), PluginRegistry::global());
  t.train_epoch(testing::make_tiny_dataset(40, 1));
  for (float v : params.at("bn.running_mean").span()) EXPECT_EQ(v, 0.0f);
  for (float v : params.at("bn.running_var").span()) EXPECT_EQ(v, 1.0f);
  EXPECT_NE(params.at("bn.gamma")[0], 1.0f);
}

// The same seed gives the same training on 1 and 3 threads (dropout's mask included), through
// evaluation too; another seed gives another mask.
TEST(LayersTraining, DropoutDoesNotDependOnThreads) {
  const io::Dataset data = testing::make_tiny_dataset(40, 2);
  std::vector<ParameterStore> results;
  for (int threads : {1, 3, 1}) {
    train::Model m = make_net();
    ParameterStore params = ParameterStore::initialize(m.graph, 4);
    train::TrainConfig c = config(threads, "highway");
    if (results.size() == 2) c.seed = 6;
    train::Trainer t(m, params, c, PluginRegistry::global());
    for (int e = 0; e < 2; ++e) t.train_epoch(data);
    results.push_back(std::move(params));
  }
  expect_identical(results[0], results[1], "1 vs 3 threads");
  EXPECT_NE(results[0].at("hidden.weight")[0], results[2].at("hidden.weight")[0]);
}

// Two epochs in one run equal one epoch, a checkpoint, and one more epoch in a fresh trainer
// restored from it: dropout draws the same masks (seed and step are restored) and the running
// statistics come back bit for bit. A weights file carries them too.
TEST(LayersTraining, ResumeIsBitExactWithStateInCheckpointAndWeights) {
  const io::Dataset data = testing::make_tiny_dataset(47, 3);  // a last batch of 7
  const std::string dir = ::testing::TempDir();
  const std::string ckpt = dir + "/layers_resume.safetensors", weights = dir + "/layers_weights.safetensors";

  train::Model straight = make_net();
  ParameterStore p_straight = ParameterStore::initialize(straight.graph, 7);
  {
    train::Trainer t(straight, p_straight, config(2), PluginRegistry::global());
    t.train_epoch(data);
    t.train_epoch(data);
  }

  train::Model first = make_net();
  ParameterStore p_first = ParameterStore::initialize(first.graph, 7);
  {
    train::Trainer t(first, p_first, config(2), PluginRegistry::global());
    t.train_epoch(data);
    train::TrainingState st;
    st.epoch = 1;
    st.step = t.optimizer().steps();
    st.seed = 5;
    st.optimizer = "adam";
    st.learning_rate = 0.01;
    train::save_checkpoint(ckpt, p_first, t.optimizer(), nullptr, st);
    train::save_weights(weights, p_first, nullptr);
  }
  EXPECT_NE(p_first.at("bn.running_var")[0], 1.0f);  // the state did move

  ParameterStore from_weights = ParameterStore::initialize(first.graph, 99);
  train::load_weights(weights, from_weights, nullptr);
  expect_identical(from_weights, p_first, "weights file");

  train::Model resumed = make_net();
  ParameterStore p_resumed = ParameterStore::initialize(resumed.graph, 99);
  {
    train::Trainer t(resumed, p_resumed, config(2), PluginRegistry::global());
    const train::Checkpoint c = train::read_checkpoint(ckpt, 0);
    train::restore_checkpoint(c, p_resumed, t.optimizer(), nullptr);
    expect_identical(p_resumed, p_first, "checkpoint");
    t.set_epoch(c.state.epoch);
    t.train_epoch(data);
  }
  expect_identical(p_resumed, p_straight, "resumed vs straight");
  std::filesystem::remove(ckpt);
  std::filesystem::remove(weights);
}

// Evaluation runs in inference mode: dropout off, batch norm on the running statistics, so
// evaluating twice gives the same loss and changes no parameter.
TEST(LayersTraining, EvaluationIsInferenceMode) {
  const io::Dataset data = testing::make_tiny_dataset(30, 4);
  train::Model m = make_net();
  ParameterStore params = ParameterStore::initialize(m.graph, 8);
  train::Trainer t(m, params, config(2), PluginRegistry::global());
  t.train_epoch(data);
  std::vector<Tensor> before;
  for (size_t i = 0; i < params.size(); ++i) before.push_back(params.tensor(i));
  const double a = t.evaluate(data, 7).loss, b = t.evaluate(data, 30).loss;
  EXPECT_NEAR(a, b, 1e-6);  // batch size does not matter: no batch statistics
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(std::memcmp(before[i].data(), params.tensor(i).data(), sizeof(float) * before[i].span().size()), 0)
        << params.name(i);
  }
  EXPECT_FALSE(t.inference_program(7).training());
  EXPECT_TRUE(t.training_program(10).training());
}

TEST(LayersTraining, TrainingStepAllocatesNothing) {
  for (const char* backend : {"highway", "reference"}) {
    train::Model m = make_net();
    ParameterStore params = ParameterStore::initialize(m.graph, 9);
    train::Trainer t(m, params, config(2, backend), PluginRegistry::global());
    const io::Dataset data = testing::make_tiny_dataset(40, 5);
    t.train_epoch(data);  // compiles and warms up
    Program& p = t.training_program(10);
    testing::AllocationCount count;
    for (int i = 0; i < 3; ++i) {
      p.run_state().step = static_cast<uint64_t>(i);
      p.run();
    }
    EXPECT_EQ(count.stop(), 0) << backend;
  }
}

}  // namespace
}  // namespace graphrun
