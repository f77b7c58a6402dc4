// Optimizer: runs an optimizer plugin's step over a model's trainable parameters, keeping its
// per-parameter state slots (which checkpoints save) and the step counter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/parameters.h"
#include "core/plugin_host.h"
#include "core/thread_pool.h"

namespace graphrun::train {

// Where one parameter's gradient is after a training step's Program::run(): a stored tensor
// (`data`, laid out like the parameter), or, for a [rows, cols] weight at batch size 1, the
// outer product outer_a outer_b^T (rows and cols floats) that was never stored.
struct GradientRef {
  const float* data = nullptr;
  const float* outer_a = nullptr;
  const float* outer_b = nullptr;
};

class Optimizer {
 public:
  // hyper: user-given hyperparameters by name (checked against the plugin's declaration);
  // learning_rate < 0 means the plugin's default. context names the source for errors.
  Optimizer(const LoadedOptimizer& entry, const std::vector<std::pair<std::string, double>>& hyper,
            double learning_rate, ParameterStore& params, const std::vector<std::string>& trainable,
            std::string_view context);

  // One update of every trainable parameter; grads[i] is the gradient of trainable[i].
  // Splits large tensors across the pool (a matrix by row blocks, split_rows(), so each core
  // updates the rows its batch-1 GEMV read and its cache holds). Allocates nothing.
  // An outer-product gradient needs fuses_outer_products().
  void step(std::span<const GradientRef> grads, ThreadPool& pool);
  // Whether the plugin folds an outer-product gradient into its update (step_outer).
  bool fuses_outer_products() const { return step_outer_ != nullptr; }

  const char* name() const { return entry_->name; }
  double learning_rate() const { return lr_; }
  void set_learning_rate(double lr) { lr_ = lr; }
  uint64_t steps() const { return steps_; }
  void set_steps(uint64_t steps) { steps_ = steps; }
  const std::vector<double>& hyperparameters() const { return hyper_; }

  // State tensors named "<parameter>/<slot>", for checkpoints.
  std::vector<std::pair<std::string, Tensor*>> state();

 private:
  const graphrun_optimizer* entry_;
  graphrun_optimizer_step_outer_f32 step_outer_;
  std::vector<double> hyper_;
  double lr_;
  uint64_t steps_ = 0;
  std::vector<Tensor*> params_;
  std::vector<std::string> names_;
  std::vector<std::vector<Tensor>> slots_;            // [parameter][slot]
  std::vector<std::vector<float*>> slot_pointers_;    // per parameter, for the step kernel
};

}  // namespace graphrun::train
