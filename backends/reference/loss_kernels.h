// Reference kernels of the elementwise losses: mean absolute error, Huber and binary
// cross-entropy from logits. Each is a mean over all n elements (double accumulation); each
// backward writes d loss / d pred (or d logits) scaled by the upstream dloss. Optional per-row
// weights w (rows of cols elements) scale each element's term: sum_i w[i / cols] l_i / n.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace graphrun::reference {

// The weight of element i: w[i / cols], or 1 without weights.
template <class T>
double row_weight(const T* w, int64_t i, int64_t cols) {
  return w ? static_cast<double>(w[i / cols]) : 1.0;
}

// mean |pred - target|.
template <class T>
T mean_absolute_error(const T* pred, const T* target, int64_t n, const T* w = nullptr, int64_t cols = 1) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += row_weight(w, i, cols) * std::abs(static_cast<double>(pred[i]) - target[i]);
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// dpred = sign(pred - target) / n * dloss (0 where they are equal).
template <class T>
void mean_absolute_error_backward(const T* pred, const T* target, int64_t n, T dloss, T* dpred, const T* w = nullptr,
                                  int64_t cols = 1) {
  const double g0 = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i], g = g0 * row_weight(w, i, cols);
    dpred[i] = static_cast<T>(d > 0 ? g : d < 0 ? -g : 0.0);
  }
}

// mean of d^2/2 where |d| <= delta, delta (|d| - delta/2) beyond (d = pred - target).
template <class T>
T huber(const T* pred, const T* target, int64_t n, double delta, const T* w = nullptr, int64_t cols = 1) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::abs(static_cast<double>(pred[i]) - target[i]);
    acc += row_weight(w, i, cols) * (a <= delta ? 0.5 * a * a : delta * (a - 0.5 * delta));
  }
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// dpred = clamp(pred - target, -delta, delta) / n * dloss.
template <class T>
void huber_backward(const T* pred, const T* target, int64_t n, double delta, T dloss, T* dpred, const T* w = nullptr,
                    int64_t cols = 1) {
  const double g = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    dpred[i] = static_cast<T>((d > delta ? delta : d < -delta ? -delta : d) * g * row_weight(w, i, cols));
  }
}

// mean of max(z, 0) - z y + log1p(exp(-|z|)): -y log s - (1 - y) log(1 - s) with s = sigmoid(z),
// without ever forming log(0). With pos_weight p (per label, cols of them), PyTorch's
// -p y log s - (1 - y) log(1 - s) = (1 - y) z + (1 + (p - 1) y) softplus(-z).
template <class T>
T binary_cross_entropy(const T* logits, const T* targets, int64_t n, const T* w = nullptr, int64_t cols = 1,
                       const T* pos_weight = nullptr) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i], y = targets[i], softplus = std::log1p(std::exp(-std::abs(z)));
    const double l = pos_weight ? (1.0 - y) * z + (1.0 + (static_cast<double>(pos_weight[i % cols]) - 1.0) * y) *
                                                      (std::max(-z, 0.0) + softplus)
                                : std::max(z, 0.0) - z * y + softplus;
    acc += row_weight(w, i, cols) * l;
  }
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// sigmoid(z) without overflow for large |z|.
inline double stable_sigmoid(double z) {
  const double e = std::exp(-std::abs(z));
  return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

// dlogits = (sigmoid(z) - y) / n * dloss; with pos_weight p, ((1 + (p - 1) y) sigmoid(z) - p y).
template <class T>
void binary_cross_entropy_backward(const T* logits, const T* targets, int64_t n, T dloss, T* dlogits,
                                   const T* w = nullptr, int64_t cols = 1, const T* pos_weight = nullptr) {
  const double g = static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double s = stable_sigmoid(static_cast<double>(logits[i])), y = targets[i];
    const double p = pos_weight ? static_cast<double>(pos_weight[i % cols]) : 1.0;
    dlogits[i] = static_cast<T>(((1.0 + (p - 1.0) * y) * s - p * y) * g * row_weight(w, i, cols));
  }
}

}  // namespace graphrun::reference
