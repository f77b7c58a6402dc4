// Optimizer: runs an optimizer plugin's step over a model's trainable parameters, keeping its
// per-parameter state slots (which checkpoints save) and the step counter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/parameters.h"
#include "core/plugin_host.h"
#include "core/thread_pool.h"

namespace graphrun::train {

// Where one parameter's gradient is after a training step's Program::run(): a stored tensor
// (`data`, laid out like the parameter), or, for a [rows, cols] weight, the product x^T dz that
// was never stored (x: [batch, rows], dz: [batch, cols], both row-major and dense).
struct GradientRef {
  const float* data = nullptr;
  const float* x = nullptr;
  const float* dz = nullptr;
  int64_t batch = 0;
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
  //
  // A product gradient x^T dz is made block by block of rows, each block by the GEMM given
  // to reserve_products() into a small per-task buffer and at once handed to the plugin's step
  // while it is still in cache: the gradient never goes to memory and W is read and written
  // once. It gives exactly the floats of the stored-gradient path when that GEMM is the one the
  // Program would have run (the Highway GEMM sums every element over the batch in the same
  // order however the product is split). At batch size 1 a plugin's step_outer, when it has
  // one, takes the outer product itself.
  void step(std::span<const GradientRef> grads, ThreadPool& pool);
  // Whether the plugin folds a batch-1 outer product into its update itself (step_outer).
  bool fuses_outer_products() const { return step_outer_ != nullptr; }
  // Prepares product gradients: `gemm` makes their blocks (the trainer passes the backend's
  // Backend::serial_gemm(), the GEMM that would have made the stored gradient), and the per-task blocks are allocated
  // for up to `tasks` threads (call when compiling a training step; step() then allocates nothing).
  void reserve_products(int tasks, SerialGemm gemm);

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
  std::vector<std::vector<Tensor>> slots_;          // [parameter][slot]
  std::vector<std::vector<float*>> slot_pointers_;  // per parameter, for the step kernel
  SerialGemm gemm_ = nullptr;                       // reserve_products(): makes gradient blocks
  std::vector<float> blocks_;                       // and per-task gradient blocks
  int64_t block_floats_ = 0;                        // floats per task in blocks_
};

}  // namespace graphrun::train
