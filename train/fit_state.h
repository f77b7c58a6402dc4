// The state of fit()'s epoch-end decisions that a checkpoint carries so a resumed run decides
// the same: reduce-on-plateau's scale and counters, early stopping's best value, epoch, wait
// and (with restore_best_weights) the best parameters. Defaults: nothing seen yet.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace graphrun::train {

struct FitState {
  double plateau_scale = 1.0, plateau_best = 0.0;
  bool plateau_has_best = false;
  int64_t plateau_wait = 0;
  double stop_best = 0.0;       // early stopping's best value (negated for higher-is-better)
  int64_t stop_best_epoch = 0;  // 0: none yet
  int64_t stop_wait = 0;
  std::vector<Tensor> best_params;  // in ParameterStore order; empty when not kept
};

}  // namespace graphrun::train
