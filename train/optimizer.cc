#include "train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/partition.h"

namespace graphrun::train {
namespace {

// Elements per task when an update is split across threads: an update streams 3-5 arrays,
// so below this a second thread costs more than it saves.
constexpr int64_t kGrain = 32768;
constexpr uint32_t kMaxSlots = 8;

// A product gradient is made this many floats (64 KiB) at a time: the block is still in the
// core's L2 when the update reads it back.
constexpr int64_t kBlockFloats = 16384;

// Rows per gradient block of a [rows, cols] weight. A block has at least 2 rows: the GEMM
// computes a single row as a GEMV, which sums in another order.
int64_t block_rows(int64_t cols) { return std::max<int64_t>(2, kBlockFloats / std::max<int64_t>(cols, 1)); }

}  // namespace

Optimizer::Optimizer(const LoadedOptimizer& entry, const std::vector<std::pair<std::string, double>>& hyper,
                     double learning_rate, ParameterStore& params, const std::vector<std::string>& trainable,
                     std::string_view context)
    : entry_(entry.entry), step_outer_(entry.step_outer) {
  hyper_ = resolve_params(entry_->hyper, entry_->n_hyper, hyper, std::string(context) + ": optimizer");
  lr_ = learning_rate < 0 ? entry_->default_lr : learning_rate;
  if (!std::isfinite(lr_) || lr_ <= 0) {
    throw Error(ErrorKind::BadInput,
                std::string(context) + ": learning rate must be positive and finite, got " + std::to_string(lr_));
  }
  if (entry_->n_state_slots > kMaxSlots) {
    throw Error(ErrorKind::Plugin, std::string("optimizer '") + entry_->name + "' declares " +
                                       std::to_string(entry_->n_state_slots) +
                                       " state slots; graphrun supports up to " + std::to_string(kMaxSlots));
  }
  for (const std::string& name : trainable) {
    Tensor& p = params.at(name);
    params_.push_back(&p);
    names_.push_back(name);
    std::vector<Tensor> slots;
    std::vector<float*> pointers;
    for (uint32_t s = 0; s < entry_->n_state_slots; ++s) {
      slots.emplace_back(p.shape());
      pointers.push_back(slots.back().data());
    }
    slots_.push_back(std::move(slots));
    slot_pointers_.push_back(std::move(pointers));
  }
}

void Optimizer::step(std::span<const GradientRef> grads, ThreadPool& pool) {
  GRAPHRUN_CHECK(grads.size() == params_.size());
  ++steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    float* p = params_[i]->data();
    const GradientRef& g = grads[i];
    const std::vector<float*>& slots = slot_pointers_[i];
    const Shape& shape = params_[i]->shape();
    const int64_t n = params_[i]->numel();
    // Each range gets slot pointers offset to its start; at most a few slots, on the stack.
    auto offset_slots = [&](float** out, int64_t offset) {
      for (size_t s = 0; s < slots.size(); ++s) out[s] = slots[s] + offset;
    };
    if (shape.rank() != 2) {
      GRAPHRUN_CHECK(g.data != nullptr);
      pool.parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
        float* state[kMaxSlots];
        offset_slots(state, b);
        entry_->step(p + b, g.data + b, state, static_cast<size_t>(e - b), steps_, lr_, hyper_.data());
      });
      continue;
    }
    // A matrix is split by rows exactly as the batch-1 GEMV and weight gradient split it
    // (core/partition.h), so each thread updates the rows its core already holds.
    const int64_t rows = shape[0], cols = shape[1];
    const bool outer = g.data == nullptr && g.batch == 1 && step_outer_ != nullptr;
    GRAPHRUN_CHECK(g.data != nullptr || (g.x && g.dz && g.batch > 0 && (outer || (gemm_ && block_floats_ > 0))));
    int64_t parts = gemm_tasks(std::max<int64_t>(g.batch, 1), cols, rows, pool.size());
    // No part of a product gradient may be a single row (see block_rows()).
    while (!g.data && parts > 1 && rows - split_rows(rows, parts, parts - 1) < 2) --parts;
    pool.run(parts, [&](int64_t t) {
      const int64_t r0 = split_rows(rows, parts, t), r1 = split_rows(rows, parts, t + 1);
      if (r1 <= r0) return;
      float* state[kMaxSlots];
      if (g.data) {
        offset_slots(state, r0 * cols);
        entry_->step(p + r0 * cols, g.data + r0 * cols, state, static_cast<size_t>((r1 - r0) * cols), steps_, lr_,
                     hyper_.data());
      } else if (outer) {
        offset_slots(state, r0 * cols);
        step_outer_(p + r0 * cols, state, static_cast<size_t>(cols), g.x + r0, static_cast<size_t>(r1 - r0), g.dz,
                    static_cast<size_t>(cols), steps_, lr_, hyper_.data());
      } else {
        float* block = blocks_.data() + t * block_floats_;
        const int64_t step_rows = block_rows(cols);
        for (int64_t b0 = r0; b0 < r1;) {
          int64_t b1 = std::min(r1, b0 + step_rows);
          if (r1 - b1 == 1) b1 = r1;  // no single-row block at the end
          gemm_(true, false, b1 - b0, cols, g.batch, g.x + b0, rows, g.dz, cols, block, cols, false);
          offset_slots(state, b0 * cols);
          entry_->step(p + b0 * cols, block, state, static_cast<size_t>((b1 - b0) * cols), steps_, lr_, hyper_.data());
          b0 = b1;
        }
      }
    });
  }
}

void Optimizer::reserve_products(int tasks, SerialGemm gemm) {
  gemm_ = gemm;
  int64_t most = 0;
  for (const Tensor* p : params_) {
    if (p->shape().rank() == 2) most = std::max(most, (block_rows(p->shape()[1]) + 1) * p->shape()[1]);
  }
  if (most * tasks <= static_cast<int64_t>(blocks_.size())) return;
  block_floats_ = most;
  blocks_.assign(static_cast<size_t>(most * tasks), 0.0f);
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (uint32_t s = 0; s < entry_->n_state_slots; ++s) {
      out.emplace_back(names_[i] + "/" + entry_->state_slot_names[s], &slots_[i][s]);
    }
  }
  return out;
}

}  // namespace graphrun::train
