// Learning-rate schedules: the learning rate as a pure function of the optimizer step, plus
// the small state of reduce-on-plateau.
//
//   lr(step) = base * warmup(step) * decay(step) * plateau_scale, floored at min_lr after warmup
//
// warmup: linear from base/W to base over the first W steps (W = warmup_steps, or
// warmup_epochs * steps_per_epoch). decay, counted in epochs e = step / steps_per_epoch:
//   constant     1
//   step         gamma ^ floor(e / step_size)
//   exponential  gamma ^ e                      (e fractional: smooth per step)
//   cosine       min_lr + (base - min_lr) * (1 + cos(pi * p)) / 2, p = (steps after warmup,
//                this one included) / (anneal steps), anneal = decay_epochs (0: the whole run)
//                minus warmup, clamped to [0, 1]: the last step of the anneal uses min_lr
// reduce_on_plateau multiplies by `factor` when the monitored value has not improved by
// min_delta for `patience` epochs (then waits `patience` epochs again).
// Not thread-safe; one schedule per Trainer.
#pragma once

#include <cstdint>
#include <string>

#include "train/fit_state.h"

namespace graphrun::train {

enum class ScheduleKind { Constant, Step, Exponential, Cosine };
ScheduleKind parse_schedule_kind(const std::string& name, const std::string& where);
const char* to_string(ScheduleKind kind);

struct PlateauConfig {
  bool enabled = false;
  std::string monitor = "val_loss";  // val_loss, val_accuracy or loss
  double factor = 0.1;               // in (0, 1)
  int64_t patience = 2;
  double min_delta = 0.0;
  double min_lr = 0.0;
};

struct ScheduleConfig {
  ScheduleKind kind = ScheduleKind::Constant;
  int64_t warmup_steps = 0;
  double warmup_epochs = 0;  // used when warmup_steps is 0
  int64_t step_size = 1;     // step: epochs between decays
  double gamma = 0.1;        // step and exponential
  double min_lr = 0.0;       // floor after warmup (cosine's end value)
  int64_t decay_epochs = 0;  // cosine: length of the anneal in epochs (0: the run's epochs)
  PlateauConfig plateau;
  bool active() const {
    return kind != ScheduleKind::Constant || warmup_steps > 0 || warmup_epochs > 0 || plateau.enabled;
  }
};

// The scheduled rate at optimizer step `step` (0-based: the step about to be taken), without
// the plateau factor. total_epochs: the run's length (for cosine).
double scheduled_lr(const ScheduleConfig& c, double base_lr, uint64_t step, int64_t steps_per_epoch,
                    int64_t total_epochs);

class LrSchedule {
 public:
  LrSchedule(ScheduleConfig config, double base_lr, int64_t steps_per_epoch, int64_t total_epochs);
  double lr(uint64_t step) const;
  // Feeds the epoch's monitored value to reduce-on-plateau; true when it just reduced the rate.
  bool end_epoch(double monitored);
  double plateau_scale() const { return scale_; }
  // Reduce-on-plateau's counters, for checkpoints (train/fit_state.h).
  void save(FitState& s) const;
  void restore(const FitState& s);
  const ScheduleConfig& config() const { return c_; }

 private:
  ScheduleConfig c_;
  double base_;
  int64_t steps_per_epoch_, total_epochs_;
  double scale_ = 1.0;
  double best_ = 0.0;
  bool have_best_ = false;
  int64_t wait_ = 0;
};

}  // namespace graphrun::train
