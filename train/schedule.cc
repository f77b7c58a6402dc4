#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "train/metrics.h"

namespace graphrun::train {

ScheduleKind parse_schedule_kind(const std::string& name, const std::string& where) {
  if (name == "constant") return ScheduleKind::Constant;
  if (name == "step") return ScheduleKind::Step;
  if (name == "exponential") return ScheduleKind::Exponential;
  if (name == "cosine") return ScheduleKind::Cosine;
  throw Error(ErrorKind::BadInput,
              where + ": expected one of constant, step, exponential, cosine, got \"" + name + "\"");
}

const char* to_string(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant:
      return "constant";
    case ScheduleKind::Step:
      return "step";
    case ScheduleKind::Exponential:
      return "exponential";
    case ScheduleKind::Cosine:
      return "cosine";
  }
  return "?";
}

double scheduled_lr(const ScheduleConfig& c, double base, uint64_t step, int64_t steps_per_epoch,
                    int64_t total_epochs) {
  const double spe = static_cast<double>(std::max<int64_t>(steps_per_epoch, 1));
  const double warmup = c.warmup_steps > 0 ? static_cast<double>(c.warmup_steps) : std::round(c.warmup_epochs * spe);
  const double s = static_cast<double>(step);
  if (s < warmup) return base * (s + 1.0) / warmup;
  const double epoch = s / spe;
  double lr = base;
  switch (c.kind) {
    case ScheduleKind::Constant:
      break;
    case ScheduleKind::Step:
      lr = base * std::pow(c.gamma, std::floor(epoch / static_cast<double>(std::max<int64_t>(c.step_size, 1))));
      break;
    case ScheduleKind::Exponential:
      lr = base * std::pow(c.gamma, epoch);
      break;
    case ScheduleKind::Cosine: {
      const double length =
          (c.decay_epochs > 0 ? static_cast<double>(c.decay_epochs) : static_cast<double>(total_epochs)) * spe;
      // Step s uses the rate at the end of its own step, so the run's last step takes min_lr.
      const double p = length > warmup ? std::clamp((s - warmup + 1.0) / (length - warmup), 0.0, 1.0) : 1.0;
      lr = c.min_lr + (base - c.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
      break;
    }
  }
  return std::max(lr, std::min(c.min_lr, base));
}

LrSchedule::LrSchedule(ScheduleConfig config, double base_lr, int64_t steps_per_epoch, int64_t total_epochs)
    : c_(std::move(config)), base_(base_lr), steps_per_epoch_(steps_per_epoch), total_epochs_(total_epochs) {}

double LrSchedule::lr(uint64_t step) const {
  const double lr = scheduled_lr(c_, base_, step, steps_per_epoch_, total_epochs_) * scale_;
  return c_.plateau.enabled ? std::max(lr, std::min(c_.plateau.min_lr, base_)) : lr;
}

void LrSchedule::save(FitState& s) const {
  s.plateau_scale = scale_;
  s.plateau_best = best_;
  s.plateau_has_best = have_best_;
  s.plateau_wait = wait_;
}

void LrSchedule::restore(const FitState& s) {
  scale_ = s.plateau_scale;
  best_ = s.plateau_best;
  have_best_ = s.plateau_has_best;
  wait_ = s.plateau_wait;
}

bool LrSchedule::end_epoch(double monitored) {
  if (!c_.plateau.enabled || !std::isfinite(monitored)) return false;
  const double value = higher_is_better(c_.plateau.monitor) ? -monitored : monitored;
  if (!have_best_ || value < best_ - c_.plateau.min_delta) {
    best_ = value;
    have_best_ = true;
    wait_ = 0;
    return false;
  }
  if (++wait_ < c_.plateau.patience) return false;
  wait_ = 0;
  scale_ *= c_.plateau.factor;
  return true;
}

}  // namespace graphrun::train
