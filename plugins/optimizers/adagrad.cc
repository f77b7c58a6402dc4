// Adagrad (Duchi et al. 2011), as torch.optim.Adagrad 1.13:
//   g = grad + weight_decay * param
//   clr = lr / (1 + (t - 1) * lr_decay)
//   sum = (t == 1 ? initial_accumulator_value : sum) + g^2   (slots are zero at step 1)
//   param -= clr * g / (sqrt(sum) + eps)
// State slot: sum. Default lr 0.01.
// Float arithmetic in ATen's order and rounding (FMAs where ATen's kernels fuse), as in sgd.cc.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "graphrun/plugin.h"
#include "optimizers/kernel_attributes.h"

namespace {

enum { kLrDecay, kWeightDecay, kInitialAccumulator, kEps, kNumHyper };

const graphrun_param kHyper[kNumHyper] = {
    {"lr_decay", 0.0, 0.0, 1e6, "learning rate decay: lr / (1 + (t - 1) * lr_decay)"},
    {"weight_decay", 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
    {"initial_accumulator_value", 0.0, 0.0, 1e6, "starting value of the squared-gradient sum"},
    {"eps", 1e-10, 0.0, 1.0, "added to the denominator"},
};
const char* const kSlots[] = {"sum"};

// Cloned for x86-64-v3 so std::fma is one instruction and the loop vectorizes; the default
// clone (older CPUs) calls libm's exact fma: the same results, slower.
GRAPHRUN_OPTIMIZER_KERNEL void Step(float* param, const float* grad, float* const* state, size_t n, uint64_t step,
                                    double lr, const double* hyper) {
  const float wd = static_cast<float>(hyper[kWeightDecay]);
  const float init = static_cast<float>(hyper[kInitialAccumulator]);
  const float eps = static_cast<float>(hyper[kEps]);
  const double clr = lr / (1.0 + static_cast<double>(step - 1) * hyper[kLrDecay]);
  const float neg_clr = static_cast<float>(-clr);
  float* sum = state[0];
  for (size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (wd != 0.0f) g = std::fma(wd, param[i], g);
    if (step == 1) sum[i] = init;
    sum[i] = std::fma(g, g, sum[i]);
    const float std_dev = std::sqrt(sum[i]) + eps;
    param[i] = param[i] + neg_clr * g / std_dev;
  }
}

const graphrun_optimizer kAdagrad = {sizeof(graphrun_optimizer),
                                     "adagrad",
                                     "Adagrad: per-element rates from the sum of squared gradients",
                                     0.01,
                                     kHyper,
                                     kNumHyper,
                                     1,
                                     kSlots,
                                     Step,
                                     nullptr};

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kAdagrad);
}
