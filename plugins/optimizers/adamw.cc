// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, as torch.optim.AdamW 1.13;
// the rule is in adam_rule.h. Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01.
#include "optimizers/adam_rule.h"

namespace {
using namespace graphrun_plugin;

const graphrun_param kHyper[kNumAdamHyper] = {
    {"beta1", 0.9, 0.0, 0.999999, "decay of the first moment"},
    {"beta2", 0.999, 0.0, 0.999999, "decay of the second moment"},
    {"eps", 1e-8, 0.0, 1.0, "added to the denominator"},
    {"weight_decay", 0.01, 0.0, 1e6, "decoupled decay: param *= 1 - lr * weight_decay"},
    {"amsgrad", 0.0, 0.0, 1.0, "1: use the running maximum of the second moment"},
};

const graphrun_optimizer kAdamW = {sizeof(graphrun_optimizer),
                                   "adamw",
                                   "AdamW: Adam with decoupled weight decay",
                                   1e-3,
                                   kHyper,
                                   kNumAdamHyper,
                                   3,
                                   kAdamSlots,
                                   AdamStep<true>,
                                   nullptr};
}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kAdamW);
}
