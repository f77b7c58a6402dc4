// Activation entries defined inside the tests (no plugin loading), so the graph, autodiff and
// backends are tested on their own. They implement the ABI with plain loops.
#pragma once

#include <cmath>

#include "graphrun/plugin.h"

namespace graphrun::testing {

template <class T>
void sigmoid_fwd(const T* x, T* y, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
}
template <class T>
void sigmoid_bwd(const T*, const T* y, const T* dy, T* dx, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
}
// A parameterised one: y = tanh(a * x), so parameters reach the kernels.
template <class T>
void scaled_tanh_fwd(const T* x, T* y, size_t rows, size_t cols, const double* p) {
  for (size_t i = 0; i < rows * cols; ++i) y[i] = std::tanh(T(p[0]) * x[i]);
}
template <class T>
void scaled_tanh_bwd(const T*, const T* y, const T* dy, T* dx, size_t rows, size_t cols, const double* p) {
  for (size_t i = 0; i < rows * cols; ++i) dx[i] = dy[i] * T(p[0]) * (T(1) - y[i] * y[i]);
}

inline const graphrun_activation* test_sigmoid() {
  static const graphrun_activation a = {sizeof(graphrun_activation),
                                        "test_sigmoid",
                                        "sigmoid for tests",
                                        GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                        nullptr,
                                        0,
                                        sigmoid_fwd<float>,
                                        sigmoid_bwd<float>,
                                        sigmoid_fwd<double>,
                                        sigmoid_bwd<double>,
                                        nullptr};
  return &a;
}

inline const graphrun_activation* test_scaled_tanh() {
  static const graphrun_param params[] = {{"a", 1.0, -10.0, 10.0, "slope"}};
  static const graphrun_activation a = {sizeof(graphrun_activation),
                                        "test_scaled_tanh",
                                        "tanh(a x) for tests",
                                        GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                        params,
                                        1,
                                        scaled_tanh_fwd<float>,
                                        scaled_tanh_bwd<float>,
                                        scaled_tanh_fwd<double>,
                                        scaled_tanh_bwd<double>,
                                        nullptr};
  return &a;
}

}  // namespace graphrun::testing
