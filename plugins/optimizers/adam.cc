// Adam (Kingma & Ba 2015) with L2 weight decay and AMSGrad, as torch.optim.Adam 1.13; the rule
// is in adam_rule.h. Defaults: lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-8.
#include "optimizers/adam_rule.h"

namespace {
using namespace graphrun_plugin;

const graphrun_param kHyper[kNumAdamHyper] = {
    {"beta1", 0.9, 0.0, 0.999999, "decay of the first moment"},
    {"beta2", 0.999, 0.0, 0.999999, "decay of the second moment"},
    {"eps", 1e-8, 0.0, 1.0, "added to the denominator"},
    {"weight_decay", 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"amsgrad", 0.0, 0.0, 1.0, "1: use the running maximum of the second moment"},
};

const graphrun_optimizer kAdam = {sizeof(graphrun_optimizer),
                                  "adam",
                                  "Adam: adaptive moment estimation (L2 weight decay)",
                                  1e-3,
                                  kHyper,
                                  kNumAdamHyper,
                                  3,
                                  kAdamSlots,
                                  AdamStep<false>,
                                  nullptr};
}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kAdam);
}
