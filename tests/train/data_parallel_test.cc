// DataParallel without MPI: shards, the bucket plan, and that a one-rank group trains exactly as
// the Trainer alone (the multi-rank runs are tests/tools/mpi_test.cc, under mpirun).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/support/tiny_dataset.h"
#include "train/data_parallel.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

// A group of `size` in which this process is `rank`; records what the trainer asks of it.
class FakeGroup final : public Collective {
 public:
  FakeGroup(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void broadcast(float*, size_t, int) override {}
  void broadcast(double*, size_t, int) override {}
  void allreduce_sum(float*, size_t) override {}
  void allreduce_sum(double*, size_t) override {}
  void allreduce_max(double*, size_t) override {}
  void start(size_t b, float*, size_t n) override {
    events.push_back("start " + std::to_string(b) + " " + std::to_string(n));
  }
  bool test(size_t b) override {
    events.push_back("test " + std::to_string(b));
    return true;
  }
  void wait(size_t b) override { events.push_back("wait " + std::to_string(b)); }
  std::vector<std::string> events;

 private:
  int rank_, size_;
};

io::Dataset make_data(int64_t n) { return testing::make_tiny_dataset(n, 4); }

using Net = testing::TinyNet;

Net make_net() { return testing::make_tiny_net(12, 9); }

TrainConfig config() {
  TrainConfig c;
  c.batch_size = 16;
  c.seed = 5;
  c.learning_rate = 0.1;
  c.optimizer_params = {{"momentum", 0.9}};
  c.threads = 1;
  c.context = "test";
  return c;
}

TEST(DataParallel, ShardsAreContiguousDisjointAndComplete) {
  Net net = make_net();
  Trainer trainer(net.model, net.params, config(), PluginRegistry::global());  // builds the gradients
  for (int size : {1, 2, 3, 5}) {
    for (int64_t count = 0; count <= 23; ++count) {
      int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        FakeGroup g(r, size);
        const Shard s = DataParallel(g, net.model.graph, net.model.gradients).shard(count);
        EXPECT_EQ(s.offset, next) << size << " ranks, " << count << " rows, rank " << r;
        EXPECT_TRUE(s.count == count / size || s.count == count / size + 1);
        next += s.count;
      }
      EXPECT_EQ(next, count);
    }
  }
}

TEST(DataParallel, BucketsFollowTheBackwardPassAndStartDuringIt) {
  Net net = make_net();
  Trainer trainer(net.model, net.params, config(), PluginRegistry::global());
  FakeGroup g(0, 1);
  // Buckets of at most 64 bytes: out.weight (36 floats) and hidden.weight (96) go alone.
  DataParallel dp(g, net.model.graph, net.model.gradients, 64);
  EXPECT_EQ(dp.gradient_floats(), 8 * 12 + 12 + 12 * 3 + 3);
  ASSERT_GE(dp.buckets(), 3u);
  trainer.set_data_parallel(&dp);
  const io::Dataset data = make_data(16);
  trainer.train_epoch(data);
  // Every bucket but the last (which carries the step's totals) starts while the program runs,
  // i.e. before the first wait, and MPI gets polled between the nodes after it.
  ASSERT_FALSE(g.events.empty());
  size_t first_wait = 0;
  while (first_wait < g.events.size() && !g.events[first_wait].starts_with("wait")) ++first_wait;
  int started_in_run = 0, tests_in_run = 0;
  for (size_t i = 0; i < first_wait; ++i) started_in_run += g.events[i].starts_with("start");
  for (size_t i = 0; i < first_wait; ++i) tests_in_run += g.events[i].starts_with("test");
  EXPECT_EQ(started_in_run, static_cast<int>(dp.buckets()));
  EXPECT_GT(tests_in_run, 0);
  // The last start happens after the program ran (the totals ride in it): no test follows it.
  size_t last_start = first_wait;
  while (last_start > 0 && !g.events[last_start - 1].starts_with("start")) --last_start;
  EXPECT_EQ(last_start, first_wait) << "tests after the last bucket started";
}

TEST(DataParallel, OneRankTrainsExactlyAsTheTrainerAlone) {
  const io::Dataset data = make_data(100);  // 6 full batches and one of 4
  Net a = make_net(), b = make_net();
  Trainer alone(a.model, a.params, config(), PluginRegistry::global());
  Trainer grouped(b.model, b.params, config(), PluginRegistry::global());
  LocalCollective one;
  DataParallel dp(one, b.model.graph, b.model.gradients, 128);
  grouped.set_data_parallel(&dp);
  for (int e = 0; e < 3; ++e) {
    const EpochResult ra = alone.train_epoch(data), rb = grouped.train_epoch(data);
    EXPECT_NEAR(ra.loss, rb.loss, 1e-6 * ra.loss);  // the totals travel as floats
    EXPECT_EQ(ra.accuracy, rb.accuracy);
  }
  for (size_t i = 0; i < a.params.size(); ++i) {
    const Tensor &x = a.params.tensor(i), &y = b.params.tensor(i);
    EXPECT_EQ(std::memcmp(x.data(), y.data(), static_cast<size_t>(x.numel()) * sizeof(float)), 0) << a.params.name(i);
  }
  const Evaluation ea = alone.evaluate(data, 32), eb = grouped.evaluate(data, 32);
  EXPECT_EQ(ea.loss, eb.loss);
  EXPECT_EQ(ea.confusion, eb.confusion);
  EXPECT_TRUE(dp.parameters_agree(b.params));
}

}  // namespace
}  // namespace graphrun::train
