// An out-of-tree graphrun plugin: the hard_swish activation and the AdaBelief optimizer.
// It includes nothing from graphrun but <graphrun/plugin.h>, and builds with the installed
// package's graphrun_add_plugin(). See docs/plugins.md.
#include <graphrun/plugin.h>

#include <cmath>

namespace {

// hard_swish(x) = x * relu6(x + 3) / 6 (Howard et al., MobileNetV3).
template <class T>
void hard_swish_forward(const T* src, T* dst, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) {
    const T x = src[i];
    dst[i] = x <= T(-3) ? T(0) : x >= T(3) ? x : x * (x + T(3)) / T(6);
  }
}

template <class T>
void hard_swish_backward(const T* src, const T*, const T* d_dst, T* d_src, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) {
    const T x = src[i];
    const T slope = x <= T(-3) ? T(0) : x >= T(3) ? T(1) : (T(2) * x + T(3)) / T(6);
    d_src[i] = d_dst[i] * slope;
  }
}

const graphrun_activation kHardSwish = {sizeof(graphrun_activation),
                                        "hard_swish",
                                        "x * relu6(x + 3) / 6",
                                        GRAPHRUN_ACTIVATION_ELEMENTWISE,
                                        nullptr,
                                        0,
                                        hard_swish_forward<float>,
                                        hard_swish_backward<float>,
                                        hard_swish_forward<double>,
                                        hard_swish_backward<double>,
                                        nullptr};

// AdaBelief (Zhuang et al. 2020): Adam whose second moment tracks (g - m)^2, the "belief".
enum { kBeta1, kBeta2, kEps, kHyperCount };
const graphrun_param kAdaBeliefHyper[kHyperCount] = {
    {"beta1", 0.9, 0.0, 0.999999, "decay of the gradient mean"},
    {"beta2", 0.999, 0.0, 0.999999, "decay of the belief (squared deviation)"},
    {"eps", 1e-16, 0.0, 1.0, "added to the belief and the denominator"},
};
const char* const kAdaBeliefSlots[] = {"exp_avg", "exp_avg_var"};

void adabelief_step(float* param, const float* grad, float* const* state, size_t n, uint64_t step, double lr,
                    const double* hyper) {
  const double b1 = hyper[kBeta1], b2 = hyper[kBeta2], eps = hyper[kEps];
  const double c1 = 1.0 - std::pow(b1, static_cast<double>(step));
  const double c2 = 1.0 - std::pow(b2, static_cast<double>(step));
  float* m = state[0];
  float* s = state[1];
  for (size_t i = 0; i < n; ++i) {
    const double g = grad[i];
    m[i] = static_cast<float>(b1 * m[i] + (1 - b1) * g);
    const double dev = g - m[i];
    s[i] = static_cast<float>(b2 * s[i] + (1 - b2) * dev * dev + eps);
    param[i] -= static_cast<float>(lr * (m[i] / c1) / (std::sqrt(s[i] / c2) + eps));
  }
}

const graphrun_optimizer kAdaBelief = {sizeof(graphrun_optimizer),
                                       "adabelief",
                                       "AdaBelief (Zhuang et al. 2020)",
                                       1e-3,
                                       kAdaBeliefHyper,
                                       kHyperCount,
                                       2,
                                       kAdaBeliefSlots,
                                       adabelief_step,
                                       nullptr};

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  if (host->register_activation(registry, &kHardSwish) != 0) return 1;
  return host->register_optimizer(registry, &kAdaBelief);
}
