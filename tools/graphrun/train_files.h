// What `graphrun train` keeps on disk while it trains, and its clean stop on a signal.
//
// With --out DIR (locked by the caller, out_folder.h): DIR/steps.csv (train/step_log.h, one line per optimizer step),
// DIR/history.csv and .json (per epoch), and DIR/checkpoint.safetensors at every epoch end and
// every --checkpoint-every optimizer steps. A checkpoint is written last, after the log and the
// history it covers are on disk, so a resumed run never misses an entry (it cuts the extra
// ones). Parameters or optimizer state that are no longer finite are never written: that is
// Error(Runtime), and the previous checkpoint stays. After SIGINT/SIGTERM (interrupt.h) the
// next step boundary writes a checkpoint and throws Interrupted.
// Nothing is written before the first optimizer step: a run that fails before it leaves the
// folder as it was. A run that replaces an earlier one removes that run's files at that moment,
// so the folder never mixes two runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/parameters.h"
#include "io/scaling.h"
#include "train/checkpoint.h"
#include "train/fit.h"
#include "train/step_log.h"
#include "train/trainer.h"

namespace graphrun::tool {

class TrainFiles {
 public:
  // out_dir empty: nothing is written (signals still stop training). `identity` supplies the
  // checkpoint's seed, optimizer and model hash; resume_step is the resumed checkpoint's step
  // (0 for a new run); `fit` is fit()'s epoch-end state (FitHooks::state), saved as it is.
  // replace_earlier: the folder's results are an earlier run's, removed at the first step.
  TrainFiles(const std::string& out_dir, int64_t checkpoint_every, train::TrainingState identity, uint64_t resume_step,
             bool replace_earlier, train::Trainer& trainer, const ParameterStore& params, const io::Scaler& scaler,
             const train::FitState& fit);

  // Before this run's first file: replaces the earlier run's, opens the step log. after_step
  // and after_epoch call it; call it before writing any other file into the folder.
  void start_writing();
  // After every optimizer step: (batches done in the epoch, batches in the epoch).
  void after_step(int64_t done, int64_t total);
  // After an epoch's history row (history: every epoch so far).
  void after_epoch(const std::vector<train::HistoryRow>& history);

  const std::string& checkpoint_path() const { return checkpoint_; }
  const std::string& history_csv() const { return history_csv_; }
  const std::string& history_json() const { return history_json_; }

 private:
  void save(bool mid_epoch);
  void stop_if_interrupted(bool mid_epoch);

  train::TrainingState identity_;
  int64_t every_;
  uint64_t resume_step_;
  bool replace_earlier_;
  std::string dir_;
  train::Trainer& trainer_;
  const ParameterStore& params_;
  const io::Scaler& scaler_;
  const train::FitState& fit_;
  std::string checkpoint_, history_csv_, history_json_;
  std::unique_ptr<train::StepLog> log_;
};

}  // namespace graphrun::tool
