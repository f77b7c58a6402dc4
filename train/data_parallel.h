// DataParallel: one rank's part in synchronous data-parallel training (the Horovod scheme)
// over a Collective. The Trainer calls it through a few hooks (Trainer::set_data_parallel).
//
// Every global batch (the configured batch size; rows in the epoch order, which every rank
// draws from the same seed) is cut into contiguous shards, one per rank. Each rank runs the
// training program on its shard; the loss is a mean over the shard, so the global gradient is
// sum_r (count_r / count) * grad_r, which also holds for an uneven last batch. As soon as a
// gradient's node has run, the gradient is copied, weighted, into a flat buffer; a bucket
// (about 1 MiB of gradients, in the order the backward pass finishes them) is summed over the
// ranks with a non-blocking allreduce as soon as its last gradient is in, overlapped with the
// rest of the backward pass. The step's loss sum, correct count and sample count ride in the
// last bucket. The optimizer then steps on the summed buffer, identically on every rank.
//
//   DataParallel dp(comm, model.graph, model.gradients);
//   dp.broadcast_state(params, trainer.optimizer(), &scaler);  // rank 0's state everywhere
//   trainer.set_data_parallel(&dp);
//   fit(trainer, ...);                                          // metrics are over all ranks
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/parameters.h"
#include "core/program.h"
#include "io/scaling.h"
#include "train/collective.h"
#include "train/optimizer.h"

namespace graphrun::train {

// Rows [offset, offset + count) of a batch.
struct Shard {
  int64_t offset = 0, count = 0;
};

// What one training step saw: the sum of per-sample losses, correct predictions, samples.
struct StepTotals {
  double loss_sum = 0.0;
  int64_t correct = 0, samples = 0;
};

// Rank 0's value on every rank.
uint64_t broadcast_value(Collective& comm, uint64_t value);

class DataParallel {
 public:
  static constexpr int64_t kDefaultBucketBytes = int64_t{1} << 20;

  // gradients: the gradient nodes of the trainable parameters, in the optimizer's order.
  DataParallel(Collective& comm, const Graph& graph, std::vector<NodeId> gradients,
               int64_t bucket_bytes = kDefaultBucketBytes);

  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  Collective& collective() { return comm_; }
  // How many buckets the gradients travel in, and the gradient floats in all.
  size_t buckets() const { return buckets_.size(); }
  int64_t gradient_floats() const { return gradient_floats_; }

  // This rank's contiguous share of `count` rows (sizes differ by at most one; ranks past
  // the end get none).
  Shard shard(int64_t count) const;

  // Rank 0's parameters, optimizer state, step and learning rate, and scaler statistics, on
  // every rank (so ranks seeded differently still start identical).
  void broadcast_state(ParameterStore& params, Optimizer& optimizer, io::Scaler* scaler);
  // One training step, in two calls. run(): runs p (its inputs hold this rank's `local` rows
  // of a batch of `global`), sending each bucket as soon as it is complete; skip it when
  // local == 0. finish(): sends the rest with this rank's totals, waits, and returns the
  // totals over all ranks; grads[i] then points at the summed gradient i.
  void run(Program& p, int64_t local, int64_t global);
  StepTotals finish(const StepTotals& local, std::span<const float*> grads);

  // Sums an evaluation's loss sum, correct count and confusion matrix over the ranks.
  void reduce_evaluation(double& loss_sum, int64_t& correct, std::vector<std::vector<int64_t>>& confusion);
  // Whether every rank holds bit-identical parameters (a check at the end of training).
  bool parameters_agree(const ParameterStore& params);

 private:
  struct Bucket {
    size_t first, last;      // gradients [first, last) in finishing order
    int64_t offset, floats;  // range of the flat buffer
  };
  struct ProgramPlan {
    const Program* program;
    std::vector<size_t> final_step;  // per gradient in finishing order: the step after which it is final
    std::vector<const float*> source;
  };
  const ProgramPlan& plan_for(const Program& p);
  void copy_ready(size_t up_to_step);
  void start_ready(bool all);

  Collective& comm_;
  std::vector<NodeId> gradients_;
  std::vector<size_t> order_;    // gradient indices in finishing order
  std::vector<int64_t> offset_;  // per gradient index: where it lives in flat_
  std::vector<int64_t> floats_;  // per gradient index
  std::vector<Bucket> buckets_;
  int64_t gradient_floats_ = 0;
  int64_t totals_offset_ = 0;  // three floats after the gradients: loss sum, correct, samples
  AlignedFloats flat_;
  std::vector<ProgramPlan> plans_;

  // The step in flight.
  const ProgramPlan* current_ = nullptr;
  float weight_ = 1.0f;
  size_t next_gradient_ = 0, next_bucket_ = 0;
};

}  // namespace graphrun::train
