// SGD with momentum, dampening, Nesterov and L2 weight decay: PyTorch 1.13's _single_tensor_sgd.
//   g = grad + weight_decay * param
//   momentum != 0:  buf = g at step 1, else buf = momentum * buf + (1 - dampening) * g
//                   g = nesterov ? g + momentum * buf : buf
//   param -= lr * g
// State slot: momentum_buffer. Default lr 0.01 (Keras's SGD default).
// Float arithmetic in ATen's order and rounding: its CPU add kernel computes `a + alpha * b` as
// one FMA, so std::fma here (independent of -mfma / -ffp-contract); trajectories then match
// torch.optim.SGD in float32 to the ulp.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "graphrun/plugin.h"
#include "optimizers/kernel_attributes.h"

namespace {

enum { kMomentum, kDampening, kNesterov, kWeightDecay, kNumHyper };

const graphrun_param kHyper[kNumHyper] = {
    {"momentum", 0.0, 0.0, 1.0, "momentum factor"},
    {"dampening", 0.0, 0.0, 1.0, "dampening for momentum"},
    {"nesterov", 0.0, 0.0, 1.0, "1: Nesterov momentum (needs momentum > 0, dampening 0)"},
    {"weight_decay", 0.0, 0.0, 1e6, "L2 penalty added to the gradient"},
};
const char* const kSlots[] = {"momentum_buffer"};

// Cloned for x86-64-v3 so std::fma is one instruction and the loop vectorizes; the default
// clone (older CPUs) calls libm's exact fma: the same results, slower.
GRAPHRUN_OPTIMIZER_KERNEL void Step(float* param, const float* grad, float* const* state, size_t n, uint64_t step, double lr,
          const double* hyper) {
  const float momentum = static_cast<float>(hyper[kMomentum]);
  const float one_minus_dampening = static_cast<float>(1.0 - hyper[kDampening]);
  const bool nesterov = hyper[kNesterov] != 0.0;
  const float wd = static_cast<float>(hyper[kWeightDecay]);
  const float neg_lr = static_cast<float>(-lr);
  float* buf = state[0];
  for (size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (wd != 0.0f) g = std::fma(wd, param[i], g);
    if (momentum != 0.0f) {
      buf[i] = step == 1 ? g : std::fma(one_minus_dampening, g, buf[i] * momentum);
      g = nesterov ? std::fma(momentum, buf[i], g) : buf[i];
    }
    param[i] = std::fma(neg_lr, g, param[i]);
  }
}

const graphrun_optimizer kSgd = {
    sizeof(graphrun_optimizer), "sgd", "stochastic gradient descent with optional (Nesterov) momentum",
    0.01, kHyper, kNumHyper, 1, kSlots, Step};

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kSgd);
}
