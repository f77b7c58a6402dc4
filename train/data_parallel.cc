#include "train/data_parallel.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace graphrun::train {
namespace {

constexpr int64_t kAlignFloats = 16;  // gradients start on 64-byte boundaries, as in the arena
constexpr size_t kAfterRun = std::numeric_limits<size_t>::max();

int64_t aligned(int64_t floats) { return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

}  // namespace

uint64_t broadcast_value(Collective& comm, uint64_t value) {
  // Doubles hold 32-bit halves exactly.
  double halves[2] = {static_cast<double>(value >> 32), static_cast<double>(value & 0xffffffffu)};
  comm.broadcast(halves, 2, 0);
  return (static_cast<uint64_t>(halves[0]) << 32) | static_cast<uint64_t>(halves[1]);
}

DataParallel::DataParallel(Collective& comm, const Graph& graph, std::vector<NodeId> gradients, int64_t bucket_bytes)
    : comm_(comm), gradients_(std::move(gradients)) {
  const size_t n = gradients_.size();
  // A Program runs nodes in index order, so gradients finish in the order of their node ids.
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return gradients_[a] < gradients_[b]; });
  offset_.resize(n);
  floats_.resize(n);
  int64_t at = 0, bucket_floats = 0;
  const int64_t cap = std::max<int64_t>(bucket_bytes / int64_t{sizeof(float)}, 1);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = order_[k];
    floats_[i] = graph.shape(gradients_[i]).numel();
    // Close the bucket before a gradient that would overflow it (a large gradient goes alone).
    if (bucket_floats > 0 && bucket_floats + floats_[i] > cap) {
      buckets_.back().last = k;
      buckets_.back().floats = at - buckets_.back().offset;
      bucket_floats = 0;
    }
    if (bucket_floats == 0) buckets_.push_back(Bucket{k, k, at, 0});
    offset_[i] = at;
    at += aligned(floats_[i]);
    bucket_floats += floats_[i];
  }
  gradient_floats_ = std::accumulate(floats_.begin(), floats_.end(), int64_t{0});
  totals_offset_ = at;
  if (buckets_.empty()) buckets_.push_back(Bucket{0, 0, 0, 0});
  buckets_.back().last = n;
  buckets_.back().floats = totals_offset_ + 3 - buckets_.back().offset;  // the step's totals ride last
  flat_ = allocate_aligned(static_cast<size_t>(totals_offset_ + 3));
}

Shard DataParallel::shard(int64_t count) const {
  const int64_t n = size(), r = rank();
  const int64_t base = count / n, extra = count % n;
  return Shard{r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

void DataParallel::broadcast_state(ParameterStore& params, Optimizer& optimizer, io::Scaler* scaler) {
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor& t = params.tensor(i);
    comm_.broadcast(t.data(), static_cast<size_t>(t.numel()), 0);
  }
  for (auto& [name, t] : optimizer.state()) comm_.broadcast(t->data(), static_cast<size_t>(t->numel()), 0);
  double counters[2] = {static_cast<double>(optimizer.steps()), optimizer.learning_rate()};
  comm_.broadcast(counters, 2, 0);
  optimizer.set_steps(static_cast<uint64_t>(counters[0]));
  optimizer.set_learning_rate(counters[1]);
  if (scaler) {
    for (Tensor* t : {&scaler->offset, &scaler->scale}) {
      if (t->numel() > 0) comm_.broadcast(t->data(), static_cast<size_t>(t->numel()), 0);
    }
  }
}

const DataParallel::ProgramPlan& DataParallel::plan_for(const Program& p) {
  for (const ProgramPlan& plan : plans_) {
    if (plan.program == &p) return plan;
  }
  ProgramPlan plan{&p, std::vector<size_t>(order_.size(), kAfterRun), std::vector<const float*>(order_.size())};
  const std::vector<ScheduledNode>& schedule = p.schedule();
  for (size_t k = 0; k < order_.size(); ++k) {
    const NodeId g = gradients_[order_[k]];
    for (size_t s = 0; s < schedule.size(); ++s) {
      if (schedule[s].node == g) plan.final_step[k] = s;
    }
    plan.source[k] = p.value(g).data;
  }
  // Monotone, so copying stops at the first gradient that is not final yet.
  for (size_t k = 1; k < order_.size(); ++k) plan.final_step[k] = std::max(plan.final_step[k], plan.final_step[k - 1]);
  plans_.push_back(std::move(plan));
  return plans_.back();
}

void DataParallel::copy_ready(size_t up_to_step) {
  while (next_gradient_ < order_.size() && current_->final_step[next_gradient_] <= up_to_step) {
    const size_t i = order_[next_gradient_];
    const float* src = current_->source[next_gradient_];
    float* dst = flat_.get() + offset_[i];
    for (int64_t j = 0; j < floats_[i]; ++j) dst[j] = weight_ * src[j];
    ++next_gradient_;
  }
}

void DataParallel::start_ready(bool all) {
  while (next_bucket_ < buckets_.size()) {
    const Bucket& b = buckets_[next_bucket_];
    if (b.last > next_gradient_ || (!all && next_bucket_ + 1 == buckets_.size())) break;
    comm_.start(next_bucket_, flat_.get() + b.offset, static_cast<size_t>(b.floats));
    ++next_bucket_;
  }
}

void DataParallel::run(Program& p, int64_t local, int64_t global) {
  current_ = &plan_for(p);
  weight_ = static_cast<float>(static_cast<double>(local) / static_cast<double>(global));
  p.run([&](size_t step) {
    copy_ready(step);
    start_ready(false);
    if (next_bucket_ > 0) comm_.test(next_bucket_ - 1);  // MPI progresses only inside its calls
  });
  copy_ready(kAfterRun);
}

StepTotals DataParallel::finish(const StepTotals& local, std::span<const float*> grads) {
  GRAPHRUN_CHECK(grads.size() == gradients_.size());
  if (!current_) {  // no rows on this rank: it adds zeros
    for (; next_gradient_ < order_.size(); ++next_gradient_) {
      const size_t i = order_[next_gradient_];
      std::fill_n(flat_.get() + offset_[i], floats_[i], 0.0f);
    }
  }
  float* totals = flat_.get() + totals_offset_;
  totals[0] = static_cast<float>(local.loss_sum);
  totals[1] = static_cast<float>(local.correct);
  totals[2] = static_cast<float>(local.samples);
  start_ready(true);
  for (size_t b = 0; b < buckets_.size(); ++b) comm_.wait(b);
  for (size_t i = 0; i < gradients_.size(); ++i) grads[i] = flat_.get() + offset_[i];
  current_ = nullptr;
  next_gradient_ = next_bucket_ = 0;
  return StepTotals{totals[0], static_cast<int64_t>(totals[1]), static_cast<int64_t>(totals[2])};
}

void DataParallel::reduce_evaluation(double& loss_sum, int64_t& correct, std::vector<std::vector<int64_t>>& confusion) {
  std::vector<double> v{loss_sum, static_cast<double>(correct)};
  for (const auto& row : confusion) v.insert(v.end(), row.begin(), row.end());
  comm_.allreduce_sum(v.data(), v.size());
  loss_sum = v[0];
  correct = static_cast<int64_t>(v[1]);
  size_t at = 2;
  for (auto& row : confusion) {
    for (int64_t& c : row) c = static_cast<int64_t>(v[at++]);
  }
}

bool DataParallel::parameters_agree(const ParameterStore& params) {
  uint64_t h = 1469598103934665603u;  // FNV-1a over every parameter's bytes
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& t = params.tensor(i);
    const auto* bytes = reinterpret_cast<const unsigned char*>(t.data());
    for (size_t j = 0; j < static_cast<size_t>(t.numel()) * sizeof(float); ++j) h = (h ^ bytes[j]) * 1099511628211u;
  }
  // Equal everywhere iff max == -max(-x) == x for every part; 22-bit parts are exact doubles.
  const double parts[3] = {double(h & 0x3fffff), double((h >> 22) & 0x3fffff), double(h >> 44)};
  double v[6] = {parts[0], parts[1], parts[2], -parts[0], -parts[1], -parts[2]};
  comm_.allreduce_max(v, 6);
  bool agree = true;
  for (int i = 0; i < 3; ++i) agree = agree && v[i] == -v[i + 3];
  return agree;
}

}  // namespace graphrun::train
