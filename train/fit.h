// fit: the training loop with the everyday practice around Trainer::train_epoch: a held-out
// validation set, a learning-rate schedule applied per step, early stopping (with the best
// weights restored), a per-epoch history, and pretrained layers loaded by name.
//
//   TrainConfig cfg = ...;                      // cfg.validation_split, early_stopping, schedule
//   io::Dataset val = split_validation(train_set, cfg.validation_split, cfg.seed);
//   Trainer trainer(model, params, cfg, plugins);
//   FitResult r = fit(trainer, params, train_set, val);
//   write_history_csv("history.csv", r.history);
//
// All functions throw graphrun::Error; fit stops with Error(Runtime) when the loss becomes NaN
// or infinite (from Trainer::train_epoch).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/parameters.h"
#include "io/dataset.h"
#include "train/fit_state.h"
#include "train/trainer.h"

namespace graphrun::train {

// Moves round(fraction * N) samples, chosen by a shuffle seeded by `seed`, out of `data` into
// the returned set; `data` keeps the rest (in shuffled order). fraction 0 returns an empty set.
// A fraction that leaves either side empty is Error(BadInput).
io::Dataset split_validation(io::Dataset& data, double fraction, uint64_t seed);

// One epoch of the history; val_* are NaN without a validation set.
struct HistoryRow {
  int64_t epoch = 0;  // 1-based
  double loss = 0, accuracy = 0, val_loss = 0, val_accuracy = 0, lr = 0, seconds = 0;
  double samples_per_second = 0;                            // training only (not in the history files)
  std::vector<std::pair<std::string, double>> val_metrics;  // metric_values() of the validation set
};
// Columns: epoch,loss,accuracy,val_loss,val_accuracy, val_<metric> for each validation metric
// (train/metrics.h) the loss gives, lr,seconds (NaN written as an empty cell).
void write_history_csv(const std::string& path, const std::vector<HistoryRow>& rows);
void write_history_json(const std::string& path, const std::vector<HistoryRow>& rows);
// Reads what write_history_json wrote, every number as written (the CSV rounds to 6 digits).
std::vector<HistoryRow> read_history_json(const std::string& path);
// Reads what write_history_csv wrote (columns found by name; missing ones are NaN).
std::vector<HistoryRow> read_history_csv(const std::string& path);

// Tracks a monitored value; says when to stop and keeps a copy of the best parameters.
class EarlyStopper {
 public:
  explicit EarlyStopper(TrainConfig::EarlyStopping config);
  // Feeds epoch `epoch` (1-based); returns true when training should stop now.
  bool update(int64_t epoch, double value, const ParameterStore& params);
  // Copies the best parameters back (when restore_best_weights and a best was seen).
  bool restore(ParameterStore& params) const;
  int64_t best_epoch() const { return best_epoch_; }
  std::string reason() const;
  // Its counters and best parameters, for checkpoints (train/fit_state.h).
  void save(FitState& s) const;
  void restore(const FitState& s);

 private:
  TrainConfig::EarlyStopping c_;
  double best_ = 0;
  int64_t best_epoch_ = 0, wait_ = 0;
  std::vector<Tensor> best_params_;
};

// The value of `monitor` (loss, val_loss, val_accuracy) in a history row.
double monitored(const HistoryRow& row, const std::string& monitor);

struct FitResult {
  std::vector<HistoryRow> history;
  bool stopped_early = false;
  std::string stop_reason;  // empty when all epochs ran
  int64_t best_epoch = 0;   // with early stopping
  bool restored_best = false;
};

struct FitHooks {
  // (epoch 1-based, batches done, batches in epoch, running loss, running accuracy)
  std::function<void(int64_t, int64_t, int64_t, double, double)> on_batch;
  // After each epoch's row is complete and the schedule and early stopping have seen it (for
  // printing and checkpoints).
  std::function<void(const HistoryRow&)> on_epoch;
  // Resume the epoch-end decisions from here (a checkpoint's); null: a new run.
  const FitState* resume = nullptr;
  // Kept up to date before every on_epoch (what the next checkpoint saves); may be null.
  FitState* state = nullptr;
};

// Runs epochs trainer.epoch() .. config.epochs-1 (the first from start_batch), evaluating `val`
// (when not empty) after each, applying config.schedule before every step and
// config.early_stopping after every epoch. Validates the config (a val_* monitor needs a
// validation set). Installs a step hook on the trainer for the run's duration.
FitResult fit(Trainer& trainer, ParameterStore& params, const io::Dataset& train, const io::Dataset& val,
              const FitHooks& hooks = {}, int64_t start_batch = 0);

// Copies "<layer>.weight", "<layer>.bias" and a normalisation layer's "<layer>.gamma", ".beta",
// ".running_mean", ".running_var" (those the model has) of each named layer
// from a safetensors weights file into params. A layer the model lacks, a tensor the file
// lacks, or a shape mismatch is Error(BadInput/Shape) naming the file and tensor. Returns the
// number of tensors copied.
int64_t load_layers(const std::string& weights_path, const std::vector<std::string>& layers, ParameterStore& params,
                    const std::string& context);

}  // namespace graphrun::train
