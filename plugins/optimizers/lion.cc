// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2):
//   param *= 1 - lr * weight_decay
//   param -= lr * sign(beta1 * m + (1 - beta1) * grad)      (sign(0) = 0)
//   m = beta2 * m + (1 - beta2) * grad
// State slot: exp_avg. Defaults: lr 1e-4, beta1 0.9, beta2 0.99, weight_decay 0.
#include <cstddef>
#include <cstdint>

#include "graphrun/plugin.h"
#include "optimizers/kernel_attributes.h"

namespace {

enum { kBeta1, kBeta2, kWeightDecay, kNumHyper };

const graphrun_param kHyper[kNumHyper] = {
    {"beta1", 0.9, 0.0, 1.0, "interpolation for the update direction"},
    {"beta2", 0.99, 0.0, 1.0, "decay of the momentum"},
    {"weight_decay", 0.0, 0.0, 1e6, "decoupled decay: param *= 1 - lr * weight_decay"},
};
const char* const kSlots[] = {"exp_avg"};

// Cloned for x86-64-v3 so std::fma is one instruction and the loop vectorizes; the default
// clone (older CPUs) calls libm's exact fma: the same results, slower.
GRAPHRUN_OPTIMIZER_KERNEL void Step(float* param, const float* grad, float* const* state, size_t n, uint64_t, double lr,
                                    const double* hyper) {
  const float b1 = static_cast<float>(hyper[kBeta1]), one_minus_b1 = static_cast<float>(1.0 - hyper[kBeta1]);
  const float b2 = static_cast<float>(hyper[kBeta2]), one_minus_b2 = static_cast<float>(1.0 - hyper[kBeta2]);
  const float decay = static_cast<float>(1.0 - lr * hyper[kWeightDecay]);
  const float neg_lr = static_cast<float>(-lr);
  float* m = state[0];
  for (size_t i = 0; i < n; ++i) {
    const float c = m[i] * b1 + one_minus_b1 * grad[i];
    const float sign = c > 0.0f ? 1.0f : c < 0.0f ? -1.0f : 0.0f;
    param[i] = param[i] * decay + neg_lr * sign;
    m[i] = m[i] * b2 + one_minus_b2 * grad[i];
  }
}

const graphrun_optimizer kLion = {sizeof(graphrun_optimizer),
                                  "lion",
                                  "Lion: sign of an interpolated momentum (Chen et al. 2023)",
                                  1e-4,
                                  kHyper,
                                  kNumHyper,
                                  1,
                                  kSlots,
                                  Step,
                                  nullptr};

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kLion);
}
