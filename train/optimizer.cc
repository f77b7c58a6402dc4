#include "train/optimizer.h"

#include <cmath>

#include "core/error.h"

namespace graphrun::train {
namespace {

// Elements per task when an update is split across threads: an update streams 3-5 arrays,
// so below this a second thread costs more than it saves.
constexpr int64_t kGrain = 32768;
constexpr uint32_t kMaxSlots = 8;

}  // namespace

Optimizer::Optimizer(const LoadedOptimizer& entry, const std::vector<std::pair<std::string, double>>& hyper,
                     double learning_rate, ParameterStore& params, const std::vector<std::string>& trainable,
                     std::string_view context)
    : entry_(entry.entry) {
  hyper_ = resolve_params(entry_->hyper, entry_->n_hyper, hyper, std::string(context) + ": optimizer");
  lr_ = learning_rate < 0 ? entry_->default_lr : learning_rate;
  if (!std::isfinite(lr_) || lr_ <= 0) {
    throw Error(ErrorKind::BadInput, std::string(context) + ": learning rate must be positive and finite, got " +
                                         std::to_string(lr_));
  }
  if (entry_->n_state_slots > kMaxSlots) {
    throw Error(ErrorKind::Plugin, std::string("optimizer '") + entry_->name + "' declares " +
                                       std::to_string(entry_->n_state_slots) + " state slots; graphrun supports up to " +
                                       std::to_string(kMaxSlots));
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

void Optimizer::step(std::span<const float* const> grads, ThreadPool& pool) {
  GRAPHRUN_CHECK(grads.size() == params_.size());
  ++steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    float* p = params_[i]->data();
    const float* g = grads[i];
    const std::vector<float*>& slots = slot_pointers_[i];
    const int64_t n = params_[i]->numel();
    pool.parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      // Each range gets slot pointers offset to its start; at most a few slots, on the stack.
      float* offset_slots[kMaxSlots];
      for (size_t s = 0; s < slots.size(); ++s) offset_slots[s] = slots[s] + b;
      entry_->step(p + b, g + b, offset_slots, static_cast<size_t>(e - b), steps_, lr_, hyper_.data());
    });
  }
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
