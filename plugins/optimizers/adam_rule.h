// The Adam/AdamW step shared by adam.cc and adamw.cc (PyTorch 1.13's _single_tensor_adam(w)):
//   adamw:  param *= 1 - lr * weight_decay            (decoupled decay)
//   adam:   g = grad + weight_decay * param           (L2 penalty)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   v_max = max(v_max, v) (amsgrad); denom = sqrt(amsgrad ? v_max : v) / sqrt(1 - beta2^t) + eps
//   param -= lr / (1 - beta1^t) * m / denom
// State slots: exp_avg, exp_avg_sq, max_exp_avg_sq (always allocated; used with amsgrad).
//
// Float arithmetic in ATen's order and rounding (its CPU kernels fuse `a + alpha * b` and
// addcmul into FMAs; addcdiv is (value * t1) / t2 + self), so trajectories match torch.optim in
// float32 to a few ulps. std::fma keeps that independent of -mfma and -ffp-contract.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "graphrun/plugin.h"
#include "optimizers/kernel_attributes.h"

namespace graphrun_plugin {

enum { kBeta1, kBeta2, kEps, kWeightDecay, kAmsgrad, kNumAdamHyper };

inline const char* const kAdamSlots[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};

template <bool kDecoupled>
GRAPHRUN_OPTIMIZER_KERNEL void AdamStep(float* param, const float* grad, float* const* state, size_t n, uint64_t step,
                                        double lr, const double* hyper) {
  const double beta1 = hyper[kBeta1], beta2 = hyper[kBeta2];
  const float b1 = static_cast<float>(beta1), one_minus_b1 = static_cast<float>(1.0 - beta1);
  const float b2 = static_cast<float>(beta2), one_minus_b2 = static_cast<float>(1.0 - beta2);
  const float eps = static_cast<float>(hyper[kEps]);
  const float wd = static_cast<float>(hyper[kWeightDecay]);
  const float decay = static_cast<float>(1.0 - lr * hyper[kWeightDecay]);
  const bool amsgrad = hyper[kAmsgrad] != 0.0;
  const double t = static_cast<double>(step);
  const float neg_step_size = static_cast<float>(-(lr / (1.0 - std::pow(beta1, t))));
  const float bc2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
  float* m = state[0];
  float* v = state[1];
  float* v_max = state[2];
  for (size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (kDecoupled) {
      param[i] = param[i] * decay;
    } else if (wd != 0.0f) {
      g = std::fma(wd, param[i], g);
    }
    m[i] = std::fma(one_minus_b1, g, m[i] * b1);
    v[i] = std::fma(one_minus_b2 * g, g, v[i] * b2);
    float second = v[i];
    if (amsgrad) {
      v_max[i] = v_max[i] > v[i] ? v_max[i] : v[i];
      second = v_max[i];
    }
    const float denom = std::sqrt(second) / bc2_sqrt + eps;
    param[i] = param[i] + neg_step_size * m[i] / denom;
  }
}

}  // namespace graphrun_plugin
