// Reference kernels of the elementwise losses: mean absolute error, Huber and binary
// cross-entropy from logits. Each is a mean over all n elements (double accumulation); each
// backward writes d loss / d pred (or d logits) scaled by the upstream dloss.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace graphrun::reference {

// mean |pred - target|.
template <class T>
T mean_absolute_error(const T* pred, const T* target, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += std::abs(static_cast<double>(pred[i]) - target[i]);
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// dpred = sign(pred - target) / n * dloss (0 where they are equal).
template <class T>
void mean_absolute_error_backward(const T* pred, const T* target, int64_t n, T dloss, T* dpred) {
  const double g = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    dpred[i] = static_cast<T>(d > 0 ? g : d < 0 ? -g : 0.0);
  }
}

// mean of d^2/2 where |d| <= delta, delta (|d| - delta/2) beyond (d = pred - target).
template <class T>
T huber(const T* pred, const T* target, int64_t n, double delta) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::abs(static_cast<double>(pred[i]) - target[i]);
    acc += a <= delta ? 0.5 * a * a : delta * (a - 0.5 * delta);
  }
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// dpred = clamp(pred - target, -delta, delta) / n * dloss.
template <class T>
void huber_backward(const T* pred, const T* target, int64_t n, double delta, T dloss, T* dpred) {
  const double g = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    dpred[i] = static_cast<T>((d > delta ? delta : d < -delta ? -delta : d) * g);
  }
}

// mean of max(z, 0) - z y + log1p(exp(-|z|)): -y log s - (1 - y) log(1 - s) with s = sigmoid(z),
// without ever forming log(0).
template <class T>
T binary_cross_entropy(const T* logits, const T* targets, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i];
    acc += std::max(z, 0.0) - z * static_cast<double>(targets[i]) + std::log1p(std::exp(-std::abs(z)));
  }
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// sigmoid(z) without overflow for large |z|.
inline double stable_sigmoid(double z) {
  const double e = std::exp(-std::abs(z));
  return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

// dlogits = (sigmoid(z) - y) / n * dloss.
template <class T>
void binary_cross_entropy_backward(const T* logits, const T* targets, int64_t n, T dloss, T* dlogits) {
  const double g = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    dlogits[i] = static_cast<T>((stable_sigmoid(static_cast<double>(logits[i])) - targets[i]) * g);
  }
}

}  // namespace graphrun::reference
