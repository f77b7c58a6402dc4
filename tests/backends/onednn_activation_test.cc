// Activations on oneDNN eltwise: test-local entries that declare a oneDNN equivalent (their
// plain-loop kernels are the reference), the built plugins' declared equivalents against the
// plugins' own kernels, and a model mixing a native activation with one that has none.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/plugin_host.h"
#include "graphrun/plugin.h"
#include "tests/backends/onednn_test_util.h"

namespace graphrun {
namespace {

// Plain loops in double: f(x, p) and f'(x, p); the backward kernel is dy * f'(x).
using Scalar = double (*)(double x, const double* p);
template <Scalar F>
void fwd(const float* x, float* y, size_t rows, size_t cols, const double* p) {
  for (size_t i = 0; i < rows * cols; ++i) y[i] = static_cast<float>(F(x[i], p));
}
template <Scalar D>
void bwd(const float* x, const float*, const float* dy, float* dx, size_t rows, size_t cols, const double* p) {
  for (size_t i = 0; i < rows * cols; ++i) dx[i] = static_cast<float>(dy[i] * D(x[i], p));
}

double sigm(double x) { return 1 / (1 + std::exp(-x)); }
double sigmoid_f(double x, const double*) { return sigm(x); }
double sigmoid_d(double x, const double*) { return sigm(x) * (1 - sigm(x)); }
double relu_f(double x, const double* p) { return x > 0 ? x : p[0] * x; }
double relu_d(double x, const double* p) { return x > 0 ? 1 : p[0]; }
double tanh_f(double x, const double*) { return std::tanh(x); }
double tanh_d(double x, const double*) { return 1 - std::tanh(x) * std::tanh(x); }
double elu_f(double x, const double* p) { return x > 0 ? x : p[0] * std::expm1(x); }
double elu_d(double x, const double* p) { return x > 0 ? 1 : p[0] * std::exp(x); }
double swish_f(double x, const double* p) { return x * sigm(p[0] * x); }
double swish_d(double x, const double* p) {
  const double s = sigm(p[0] * x);
  return s + p[0] * x * s * (1 - s);
}
const double kPi = 3.14159265358979323846;
double gelu_erf_f(double x, const double*) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double gelu_erf_d(double x, const double*) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * kPi);
}
const double kGeluC = std::sqrt(2 / kPi);
double gelu_tanh_f(double x, const double*) { return 0.5 * x * (1 + std::tanh(kGeluC * (x + 0.044715 * x * x * x))); }
double gelu_tanh_d(double x, const double*) {
  const double t = std::tanh(kGeluC * (x + 0.044715 * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * kGeluC * (1 + 3 * 0.044715 * x * x);
}
double soft_relu_f(double x, const double*) { return std::log1p(std::exp(x)); }
double soft_relu_d(double x, const double*) { return sigm(x); }
double cube_f(double x, const double*) { return x * x * x; }
double cube_d(double x, const double*) { return 3 * x * x; }

// The equivalent each entry declares: (algorithm, alpha from param 0 or none).
template <graphrun_onednn_eltwise E, bool kAlphaFromParam>
graphrun_onednn_eltwise equivalent(const double* p, float* alpha, float* beta) {
  *alpha = kAlphaFromParam ? static_cast<float>(p[0]) : 0.0f;
  *beta = 0.0f;
  return E;
}

const graphrun_param kAlpha[] = {{"alpha", 0.1, -10.0, 10.0, "slope or scale"}};

#define TEST_ENTRY(name, F, D, E, with_alpha)                                                  \
  graphrun_activation {                                                                        \
    sizeof(graphrun_activation), name, name " for tests", GRAPHRUN_ACTIVATION_ELEMENTWISE,     \
        with_alpha ? kAlpha : nullptr, with_alpha ? 1u : 0u, fwd<F>, bwd<D>, nullptr, nullptr, \
        E == GRAPHRUN_ONEDNN_NONE ? nullptr : equivalent<E, with_alpha>                        \
  }

const graphrun_activation kEntries[] = {
    TEST_ENTRY("t_sigmoid", sigmoid_f, sigmoid_d, GRAPHRUN_ONEDNN_LOGISTIC, false),
    TEST_ENTRY("t_relu", relu_f, relu_d, GRAPHRUN_ONEDNN_RELU, true),
    TEST_ENTRY("t_tanh", tanh_f, tanh_d, GRAPHRUN_ONEDNN_TANH, false),
    TEST_ENTRY("t_elu", elu_f, elu_d, GRAPHRUN_ONEDNN_ELU, true),
    TEST_ENTRY("t_swish", swish_f, swish_d, GRAPHRUN_ONEDNN_SWISH, true),
    TEST_ENTRY("t_gelu_erf", gelu_erf_f, gelu_erf_d, GRAPHRUN_ONEDNN_GELU_ERF, false),
    TEST_ENTRY("t_gelu_tanh", gelu_tanh_f, gelu_tanh_d, GRAPHRUN_ONEDNN_GELU_TANH, false),
    TEST_ENTRY("t_soft_relu", soft_relu_f, soft_relu_d, GRAPHRUN_ONEDNN_SOFT_RELU, false),
};
const graphrun_activation kCube = TEST_ENTRY("t_cube", cube_f, cube_d, GRAPHRUN_ONEDNN_NONE, false);

// Parameter values to try per entry (the alpha-taking ones at several values).
std::vector<std::vector<double>> param_sets(const graphrun_activation& fn) {
  if (fn.n_params == 0) return {{}};
  return {{0.1}, {1.0}, {0.5}, {1.7}};
}

TEST(OnednnActivations, DeclaredEquivalentsMatchTheirKernelsForwardAndBackward) {
  for (const graphrun_activation& fn : kEntries) {
    const graphrun_activation* f = &fn;
    for (const auto& params : param_sets(fn)) {
      for (int64_t n : {1, 3, 17, 31, 33, 63, 65, 127, 129, 784}) {
        const std::string what = std::string(fn.name) + (params.empty() ? "" : " p=" + std::to_string(params[0])) +
                                 " [" + std::to_string(n) + ",17]";
        auto c = testing::on_onednn(what, {testing::in({n, 17})}, BUILD(ops::activation(g, x[0], f, params)), 2e-5,
                                    2e-5, -5.0, 5.0);
        const ScheduledNode* f = c.scheduled(OpKind::Activation);
        const ScheduledNode* b = c.scheduled(OpKind::ActivationGrad);
        ASSERT_TRUE(f && b);
        EXPECT_EQ(f->backend, "onednn") << f->declined;
        EXPECT_EQ(b->backend, "onednn") << b->declined;
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(OnednnActivations, AModelMixingNativeAndFallbackActivationsMatchesTheReference) {
  // x[32,20] -> matmul w -> + b -> sigmoid (native) -> matmul v -> cube (no equivalent) -> mean
  auto c = testing::on_onednn(
      "mixed model", {testing::in({32, 20}), testing::in({20, 16}), testing::in({16}), testing::in({16, 8})},
      [](Graph& g, const testing::Inputs& x) {
        NodeId h = ops::activation(g, ops::add(g, ops::matmul(g, x[0], x[1]), x[2]), &kEntries[0], {});
        return ops::mean(g, ops::activation(g, ops::matmul(g, h, x[3]), &kCube, {}));
      },
      1e-5, 1e-4);
  int checked = 0;
  for (const ScheduledNode& s : c.program->schedule()) {
    const Node& n = c.g->node(s.node);
    if (n.op != OpKind::Activation && n.op != OpKind::ActivationGrad) continue;
    ++checked;
    if (n.activation == &kCube) {
      EXPECT_EQ(s.backend, "highway") << n.name;
      EXPECT_EQ(s.declined, "onednn: activation 't_cube' has no oneDNN equivalent") << n.name;
    } else {
      EXPECT_EQ(s.backend, "onednn") << n.name;
      EXPECT_EQ(s.declined, "") << n.name;
    }
  }
  EXPECT_EQ(checked, 4);  // two forward, two backward
}

TEST(OnednnActivations, RowWiseActivationsAreDeclined) {
  static const graphrun_activation rowwise = {sizeof(graphrun_activation),
                                              "t_rowwise",
                                              "row-wise for tests",
                                              GRAPHRUN_ACTIVATION_ROWWISE,
                                              nullptr,
                                              0,
                                              fwd<cube_f>,
                                              bwd<cube_d>,
                                              nullptr,
                                              nullptr,
                                              equivalent<GRAPHRUN_ONEDNN_TANH, false>};
  auto c = testing::on_onednn("rowwise", {testing::in({4, 6})}, [](Graph& g, const testing::Inputs& x) {
    return ops::activation(g, x[0], &rowwise, {});
  });
  const ScheduledNode* f = c.scheduled(OpKind::Activation);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->declined, "onednn: activation 't_rowwise' is row-wise; oneDNN eltwise is elementwise");
}

// The built plugins: each activation that declares an equivalent at some parameters must
// equal its own kernel there (forward and backward), over a wide input range.
TEST(OnednnActivations, BuiltPluginsDeclaredEquivalentsMatchTheirOwnKernels) {
  const std::string dir = GRAPHRUN_PLUGIN_BUILD_DIR;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no plugins built in " << dir;
  PluginRegistry registry;
  registry.load_search_path({dir});
  int native = 0;
  for (const LoadedActivation* a : registry.activations()) {
    const graphrun_activation& fn = *a->entry;
    if (!fn.onednn_equivalent || fn.kind != GRAPHRUN_ACTIVATION_ELEMENTWISE) continue;
    std::vector<double> params;
    for (uint32_t i = 0; i < fn.n_params; ++i) params.push_back(fn.params[i].default_value);
    float alpha, beta;
    if (fn.onednn_equivalent(params.data(), &alpha, &beta) == GRAPHRUN_ONEDNN_NONE) continue;
    ++native;
    for (int64_t n : {int64_t{1}, int64_t{33}, int64_t{784}}) {
      const graphrun_activation* f = &fn;
      auto c =
          testing::on_onednn(std::string(fn.name) + " plugin [" + std::to_string(n) + ",17]", {testing::in({n, 17})},
                             BUILD(ops::activation(g, x[0], f, params)), 2e-5, 2e-5, -6.0, 6.0);
      EXPECT_EQ(c.scheduled(OpKind::Activation)->backend, "onednn") << fn.name;
      EXPECT_EQ(c.scheduled(OpKind::ActivationGrad)->backend, "onednn") << fn.name;
    }
  }
  if (native == 0) GTEST_SKIP() << "no built plugin declares a oneDNN equivalent";
  EXPECT_GE(native, 6);
}

}  // namespace
}  // namespace graphrun
