// Trainer: mini-batch training and evaluation of a Model on a Dataset.
//
// Each epoch visits the data in an order drawn from (seed, epoch) alone, so a run resumed at
// (epoch, batch) repeats the uninterrupted run exactly. Batches are copied into the compiled
// Program's input buffers; the last partial batch runs on its own compiled Program. A step
// allocates nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/parameters.h"
#include "core/plugin_host.h"
#include "core/program.h"
#include "io/dataset.h"
#include "train/augment.h"
#include "train/metrics.h"
#include "train/model.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace graphrun::train {

class DataParallel;  // train/data_parallel.h

struct TrainConfig {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  std::string optimizer = "sgd";
  std::vector<std::pair<std::string, double>> optimizer_params;
  double learning_rate = -1.0;      // < 0: the optimizer's default
  std::string backend = "highway";  // a built backend, or "auto" (backends/registry.h)
  int threads = 0;                  // 0: one per core
  std::string context = "model";
  int64_t max_arena_bytes = 0;  // > 0: each compiled program's arena limit (CompileOptions)

  // Training practice (train/fit.h runs these; train_epoch alone ignores them).
  double clip_norm = 0.0;         // > 0: gradients scaled so their global L2 norm is at most this
  double clip_value = 0.0;        // > 0: each gradient element clamped to [-clip_value, clip_value] (before clip_norm)
  double validation_split = 0.0;  // fraction of the training set held out, after a seeded shuffle
  struct EarlyStopping {
    bool enabled = false;
    std::string monitor = "val_loss";  // val_loss, val_accuracy or loss
    int64_t patience = 3;
    double min_delta = 0.0;
    bool restore_best_weights = true;
  } early_stopping;
  ScheduleConfig schedule;
  AugmentConfig augment;  // image inputs, training batches only (train/augment.h)
  struct InitFrom {
    std::string weights;              // safetensors file; empty: none
    std::vector<std::string> layers;  // layer names whose .weight/.bias are copied
  } init_from;
};

struct EpochResult {
  int64_t epoch = 0;      // 0-based
  double loss = 0.0;      // mean over samples
  double accuracy = 0.0;  // classifiers only (NaN for regression)
  double seconds = 0.0;
  double samples_per_second = 0.0;
};

// Samples per forward pass of evaluate() and predict() unless told otherwise.
inline constexpr int64_t kInferenceBatch = 500;

struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t samples = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true class][predicted class]; a sigmoid output: 2 x 2
  Metrics metrics;       // those that apply to the model's loss (train/metrics.h); not under data parallelism
  double seconds = 0.0;  // the batches' wall time (compiling the programs is not counted)
};

// Where an epoch stands after its latest step: what a mid-epoch checkpoint saves so that the
// resumed epoch ends with the same loss and accuracy (its running sums) as an uninterrupted one.
struct EpochProgress {
  int64_t batch = 0;       // batches done in the epoch
  double loss_sum = 0.0;   // sum of the per-sample loss over those batches
  int64_t correct = 0;     // correctly classified samples among them
  int64_t seen = 0;        // samples among them
  float last_loss = 0.0f;  // the latest batch's mean loss (the per-step log's value)
};

// Called after every batch: (batches done in the epoch, batches in the epoch, running loss, running accuracy).
using BatchCallback = std::function<void(int64_t, int64_t, double, double)>;
// Called before every optimizer step with the step about to be taken (0-based); may change
// the optimizer's learning rate (train/fit.h installs the schedule here).
using StepHook = std::function<void(uint64_t, Optimizer&)>;

// A training step compiled for one batch size: the program (forward, loss, backward) and
// where each trainable parameter's gradient is once it has run. A dense layer's weight gradient
// x^T dz is not computed by the program when the optimizer can make it inside its update
// (Optimizer::step, product gradients): W is then read and written once per step instead of
// three times and the gradient never goes to memory.
struct TrainingStep {
  std::unique_ptr<Program> program;
  std::vector<GradientRef> gradients;  // one per Model::trainable()
  int fused = 0;                       // gradients left to the optimizer as products x^T dz
};

class Trainer {
 public:
  Trainer(Model& model, ParameterStore& params, const TrainConfig& config, const PluginRegistry& plugins);
  ~Trainer();

  // One epoch from batch `start_batch` (0 unless resuming). Throws Error(Runtime) when the
  // loss becomes NaN or infinite, naming the epoch and batch.
  EpochResult train_epoch(const io::Dataset& data, int64_t start_batch = 0, const BatchCallback& on_batch = {});
  Evaluation evaluate(const io::Dataset& data, int64_t batch_size = kInferenceBatch);
  // Row-wise outputs (probabilities for classifiers) for features [N, D] into out [N, C].
  void predict(const Tensor& features, Tensor& out, int64_t batch_size = kInferenceBatch);

  // The current (or last) epoch's progress, up to date when a BatchCallback runs.
  const EpochProgress& progress() const { return progress_; }
  // The next train_epoch whose start_batch equals p.batch continues these sums (a mid-epoch resume).
  void resume_progress(const EpochProgress& p) { resume_ = p; }
  int64_t epoch() const { return epoch_; }  // epochs completed
  void set_epoch(int64_t e) { epoch_ = e; }
  Optimizer& optimizer() { return *optimizer_; }
  ThreadPool& pool() { return *pool_; }
  const TrainConfig& config() const { return config_; }
  void set_step_hook(StepHook hook) { step_hook_ = std::move(hook); }
  // The compiled step for a batch size (compiled on first use and kept), in training mode:
  // batch norm uses and updates batch statistics, dropout drops (keyed by the seed and the
  // optimizer step, RunState). evaluate() and predict() compile inference-mode programs.
  TrainingStep& training_step(int64_t batch);
  Program& training_program(int64_t batch) { return *training_step(batch).program; }
  // evaluate()'s program for a batch size (inference mode; compiled on first use and kept).
  Program& inference_program(int64_t batch) { return eval_programs_->get(batch); }
  // One optimizer step (the step hook first) from a step's gradients, after its run().
  void apply_gradients(std::span<const GradientRef> gradients);
  // Whether steps leave weight gradients to the optimizer's update (TrainingStep; default on).
  // Turn off before the first step when the gradients themselves are needed (e.g. to average
  // them across processes).
  void set_fuse_weight_gradients(bool on) { fuse_weight_gradients_ = on; }
  // Data-parallel training and evaluation: each batch is sharded over dp's ranks and the
  // gradients, metrics and evaluations are summed over them (train/data_parallel.h). nullptr
  // (the default): this process alone. Not owned. Turns off fused weight gradients (the
  // gradients must exist to be summed); call before the first step.
  void set_data_parallel(DataParallel* dp);

 private:
  // Copies rows into the program's inputs; `augment` (training only) applies config_.augment.
  void load_batch(Program& p, const io::Dataset& data, const int64_t* rows, int64_t count, bool augment = false);
  // The data fit the loss: class labels for cross_entropy, targets as wide as the outputs.
  void check_data(const io::Dataset& data, const char* what) const;
  void compute_metrics(const io::Dataset& data, const std::vector<float>& outputs, Evaluation& e) const;
  void clip_gradients(std::span<const GradientRef> gradients) const;
  CompileOptions options(std::vector<NodeId> outputs, bool training);

  Model& model_;
  ParameterStore& params_;
  TrainConfig config_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<NodeId> grads_;
  std::vector<int64_t> grad_sizes_;              // elements of each trainable parameter's gradient
  std::map<int64_t, TrainingStep> train_steps_;  // training mode, by batch size
  RunState run_state_;
  bool fuse_weight_gradients_ = true;
  std::unique_ptr<ProgramCache> eval_programs_;  // inference mode, by batch size
  std::vector<int64_t> order_;
  int64_t epoch_ = 0;
  StepHook step_hook_;
  EpochProgress progress_, resume_;
  DataParallel* dp_ = nullptr;
  std::vector<const float*> grad_pointers_;  // data-parallel: the summed gradients
  std::vector<GradientRef> summed_;
};

}  // namespace graphrun::train
