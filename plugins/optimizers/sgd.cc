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

struct Hyper {
  float momentum, one_minus_dampening, wd, neg_lr;
  bool nesterov;
  Hyper(double lr, const double* hyper)
      : momentum(static_cast<float>(hyper[kMomentum])),
        one_minus_dampening(static_cast<float>(1.0 - hyper[kDampening])),
        wd(static_cast<float>(hyper[kWeightDecay])),
        neg_lr(static_cast<float>(-lr)),
        nesterov(hyper[kNesterov] != 0.0) {}
};

// One element's update; inlined into both kernels so they round identically.
inline __attribute__((always_inline)) float Update(float param, float g, float& buf, uint64_t step, const Hyper& h) {
  if (h.wd != 0.0f) g = std::fma(h.wd, param, g);
  if (h.momentum != 0.0f) {
    buf = step == 1 ? g : std::fma(h.one_minus_dampening, g, buf * h.momentum);
    g = h.nesterov ? std::fma(h.momentum, buf, g) : buf;
  }
  return std::fma(h.neg_lr, g, param);
}

// Cloned for x86-64-v3 so std::fma is one instruction and the loop vectorizes; the default
// clone (older CPUs) calls libm's exact fma: the same results, slower.
GRAPHRUN_OPTIMIZER_KERNEL void Step(float* param, const float* grad, float* const* state, size_t n, uint64_t step,
                                    double lr, const double* hyper) {
  const Hyper h(lr, hyper);
  float* buf = state[0];
  for (size_t i = 0; i < n; ++i) param[i] = Update(param[i], grad[i], buf[i], step, h);
}

// The batch-1 weight gradient a b^T fused into the update: W is read and written once and the
// gradient never exists (the product is rounded to float first, as the GEMM stores it).
GRAPHRUN_OPTIMIZER_KERNEL void StepOuter(float* param, float* const* state, size_t ld, const float* a, size_t rows,
                                         const float* b, size_t cols, uint64_t step, double lr, const double* hyper) {
  const Hyper h(lr, hyper);
  for (size_t r = 0; r < rows; ++r) {
    float* p = param + r * ld;
    float* buf = state[0] + r * ld;
    const float ar = a[r];
    for (size_t c = 0; c < cols; ++c) {
      const float g = ar * b[c];
      p[c] = Update(p[c], g, buf[c], step, h);
    }
  }
}

const graphrun_optimizer kSgd = {sizeof(graphrun_optimizer),
                                 "sgd",
                                 "stochastic gradient descent with optional (Nesterov) momentum",
                                 0.01,
                                 kHyper,
                                 kNumHyper,
                                 1,
                                 kSlots,
                                 Step,
                                 StepOuter};

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  return host->register_optimizer(registry, &kSgd);
}
