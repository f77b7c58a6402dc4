// Built-in activation plugins, table-driven: every entry's f32 (Highway) and f64 kernels against
// a long-double formula written here, on a grid from ±0 to ±1e4; gradients against central
// finite differences of the f64 forward (f64 backward to ~1e-7 relative, f32 backward to float
// accuracy; kinks skipped); the SIMD loops against themselves for every length 1..67 (tails,
// misaligned and in-place buffers).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/plugin_host.h"
#include "hwy/targets.h"
#include "tests/support/plugin_registry.h"

namespace graphrun {
namespace {

using LD = long double;

const PluginRegistry& registry() { return testing::loaded_plugins(); }

LD sigmoid_ref(LD x) { return 1.0L / (1.0L + std::exp(-x)); }

struct Case {
  std::string name;
  std::vector<std::pair<std::string, double>> given;
  std::function<LD(LD x, const std::vector<double>& p)> ref;  // elementwise reference
  bool kink_at_zero = false;
};

std::string label(const Case& c) {
  std::string s = c.name;
  for (const auto& [k, v] : c.given) s += " " + k + "=" + std::to_string(v);
  return s;
}

const std::vector<Case>& elementwise_cases() {
  static const std::vector<Case> cases = {
      {"sigmoid", {}, [](LD x, auto&) { return sigmoid_ref(x); }},
      {"tanh", {}, [](LD x, auto&) { return std::tanh(x); }},
      {"relu", {}, [](LD x, auto&) { return x > 0 ? x : 0.0L; }, true},
      {"leaky_relu", {}, [](LD x, auto& p) { return x > 0 ? x : p[0] * x; }, true},
      {"leaky_relu", {{"alpha", 0.2}}, [](LD x, auto& p) { return x > 0 ? x : p[0] * x; }, true},
      {"elu", {}, [](LD x, auto& p) { return x > 0 ? x : p[0] * std::expm1(x); }, true},  // f'' jumps at 0
      {"elu", {{"alpha", 0.5}}, [](LD x, auto& p) { return x > 0 ? x : p[0] * std::expm1(x); }, true},
      {"selu",
       {},
       [](LD x, auto&) {
         return 1.0507009873554804934193349852946L * (x > 0 ? x : 1.6732632423543772848170429916717L * std::expm1(x));
       },
       true},
      {"swish", {}, [](LD x, auto& p) { return x * sigmoid_ref(p[0] * x); }},
      {"swish", {{"beta", 2.5}}, [](LD x, auto& p) { return x * sigmoid_ref(p[0] * x); }},
      {"silu", {}, [](LD x, auto&) { return x * sigmoid_ref(x); }},
      {"gelu", {}, [](LD x, auto&) { return 0.5L * x * std::erfc(-x / std::sqrt(2.0L)); }},
      {"gelu",
       {{"approximate", 1}},
       [](LD x, auto&) {
         const LD u = std::sqrt(2.0L / 3.14159265358979323846264338327950288L) * (x + 0.044715L * x * x * x);
         return x * sigmoid_ref(2 * u);  // = 0.5 x (1 + tanh(u)) without cancellation
       }},
      {"softplus", {}, [](LD x, auto& p) { return p[0] * x > p[1] ? x : std::log1p(std::exp(p[0] * x)) / p[0]; }},
      {"softplus",
       {{"beta", 2}, {"threshold", 10}},
       [](LD x, auto& p) { return p[0] * x > p[1] ? x : std::log1p(std::exp(p[0] * x)) / p[0]; }},
      {"mish", {}, [](LD x, auto&) { return x * std::tanh(std::log1p(std::exp(x))); }},
  };
  return cases;
}

std::vector<double> grid() {
  std::vector<double> g;
  for (double v : {0.0, 1e-8, 1e-3, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 1e3, 1e4}) {
    g.push_back(v);
    g.push_back(-v);
  }
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(-8.0, 8.0);
  for (int i = 0; i < 64; ++i) g.push_back(static_cast<float>(u(rng)));
  return g;
}

const graphrun_activation& entry(const std::string& name) { return *registry().activation(name).entry; }

std::vector<double> params_of(const Case& c) {
  const graphrun_activation& e = entry(c.name);
  return resolve_params(e.params, e.n_params, c.given, c.name);
}

// Float results: relative 4e-6, plus an absolute floor in float's subnormal range.
bool close_f32(double got, LD want) {
  return std::fabs(static_cast<LD>(got) - want) <= 4e-6L * std::fabs(want) + 1e-37L;
}

// Runs body once per Highway target this machine supports: the plugins dispatch through
// libhwy's shared chosen-target state, which SetSupportedTargetsForTest mocks.
template <class F>
void for_each_target(F body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(Activations, EveryEntryHasItsKernels) {
  for (const LoadedActivation* a : registry().activations()) {
    EXPECT_NE(a->entry->forward_f64, nullptr) << a->entry->name;
    EXPECT_NE(a->entry->backward_f64, nullptr) << a->entry->name;
  }
}

TEST(Activations, ValuesMatchFormulaOnGrid) {
  for_each_target([&] {
    const std::vector<double> xs = grid();
    for (const Case& c : elementwise_cases()) {
      const graphrun_activation& e = entry(c.name);
      const std::vector<double> p = params_of(c);
      std::vector<float> xf(xs.begin(), xs.end()), yf(xs.size());
      std::vector<double> xd(xf.begin(), xf.end()), yd(xs.size());
      e.forward(xf.data(), yf.data(), 1, xf.size(), p.data());
      e.forward_f64(xd.data(), yd.data(), 1, xd.size(), p.data());
      for (size_t i = 0; i < xs.size(); ++i) {
        const LD want = c.ref(xd[i], p);
        ASSERT_TRUE(std::isfinite(yf[i])) << label(c) << " x=" << xd[i];
        EXPECT_TRUE(close_f32(yf[i], want))
            << label(c) << " f32 x=" << xd[i] << ": " << yf[i] << " vs " << (double)want;
        EXPECT_LE(std::fabs(yd[i] - want), 1e-12L * std::fabs(want) + 1e-300L)
            << label(c) << " f64 x=" << xd[i] << ": " << yd[i] << " vs " << (double)want;
      }
    }
  });
}

TEST(Activations, SaturateExactly) {
  auto f = [](const std::string& name, float x) {
    float y;
    const graphrun_activation& e = entry(name);
    std::vector<double> p = resolve_params(e.params, e.n_params, {}, name);
    e.forward(&x, &y, 1, 1, p.data());
    return y;
  };
  EXPECT_EQ(f("sigmoid", 1e4f), 1.0f);
  EXPECT_EQ(f("sigmoid", -1e4f), 0.0f);
  EXPECT_EQ(f("tanh", 1e4f), 1.0f);
  EXPECT_EQ(f("tanh", -1e4f), -1.0f);
  EXPECT_EQ(f("softplus", 1e4f), 1e4f);
  EXPECT_EQ(f("gelu", 1e4f), 1e4f);
  EXPECT_EQ(f("mish", 1e4f), 1e4f);
  EXPECT_EQ(f("swish", -1e4f), 0.0f);
  EXPECT_EQ(f("elu", -1e4f), -1.0f);
}

// d/dx of f at x by central differences of the f64 forward (Richardson-extrapolated).
double numeric_grad(const graphrun_activation& e, const std::vector<double>& p, double x) {
  auto f = [&](double v) {
    double y;
    e.forward_f64(&v, &y, 1, 1, p.data());
    return y;
  };
  const double h = 1e-3 * std::max(1.0, std::fabs(x));
  const double d1 = (f(x + h) - f(x - h)) / (2 * h);
  const double d2 = (f(x + h / 2) - f(x - h / 2)) / h;
  return (4 * d2 - d1) / 3;
}

TEST(Activations, GradientsMatchFiniteDifferences) {
  const std::vector<double> xs = grid();
  for (const Case& c : elementwise_cases()) {
    const graphrun_activation& e = entry(c.name);
    const std::vector<double> p = params_of(c);
    for (double x : xs) {
      if (c.kink_at_zero && std::fabs(x) < 0.01) continue;
      if (c.name == "softplus" && std::fabs(p[0] * x - p[1]) < 0.1) continue;  // threshold switch
      if (std::fabs(x) > 50) continue;                                         // differences of huge values say nothing
      const double num = numeric_grad(e, p, x);
      double y, dy = 0.75, dx;
      e.forward_f64(&x, &y, 1, 1, p.data());
      e.backward_f64(&x, &y, &dy, &dx, 1, 1, p.data());
      EXPECT_NEAR(dx, dy * num, 1e-7 * std::fabs(dy * num) + 1e-10) << label(c) << " f64 backward at x=" << x;
      const float xf = static_cast<float>(x), dyf = 0.75f;
      float yf, dxf;
      e.forward(&xf, &yf, 1, 1, p.data());
      e.backward(&xf, &yf, &dyf, &dxf, 1, 1, p.data());
      EXPECT_NEAR(dxf, dy * num, 2e-5 * std::fabs(dy * num) + 2e-7) << label(c) << " f32 backward at x=" << x;
    }
  }
}

// Every length 1..67 (full vectors plus each tail size), misaligned, and in place: each element's
// result must not depend on where it sits, and must match the f64 path.
TEST(Activations, VectorTailsMatch) {
  for_each_target([&] {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-6.0f, 6.0f);
    for (const Case& c : elementwise_cases()) {
      const graphrun_activation& e = entry(c.name);
      const std::vector<double> p = params_of(c);
      std::vector<float> x(68), dy(68);
      for (auto& v : x) v = u(rng);
      for (auto& v : dy) v = u(rng);
      x[5] = 1e4f, x[9] = -1e4f, x[13] = 0.0f, x[17] = -0.0f;
      std::vector<float> full_y(67), full_dx(67);
      e.forward(x.data() + 1, full_y.data(), 1, 67, p.data());  // misaligned source
      e.backward(x.data() + 1, full_y.data(), dy.data() + 1, full_dx.data(), 1, 67, p.data());
      for (size_t n = 1; n <= 67; ++n) {
        std::vector<float> y(x.begin() + 1, x.begin() + 1 + static_cast<long>(n));  // in place
        e.forward(y.data(), y.data(), 1, n, p.data());
        std::vector<float> dx(dy.begin() + 1, dy.begin() + 1 + static_cast<long>(n));  // d_src aliases d_dst
        e.backward(x.data() + 1, y.data(), dx.data(), dx.data(), 1, n, p.data());
        for (size_t i = 0; i < n; ++i) {
          ASSERT_EQ(std::memcmp(&y[i], &full_y[i], sizeof(float)), 0) << label(c) << " n=" << n << " i=" << i;
          ASSERT_EQ(std::memcmp(&dx[i], &full_dx[i], sizeof(float)), 0) << label(c) << " n=" << n << " i=" << i;
        }
      }
      for (size_t i = 0; i < 67; ++i) {
        const double xd = x[i + 1];
        double yd;
        e.forward_f64(&xd, &yd, 1, 1, p.data());
        EXPECT_TRUE(close_f32(full_y[i], yd)) << label(c) << " x=" << xd << ": " << full_y[i] << " vs " << yd;
      }
    }
  });
}

// ---- row-wise: softmax, log_softmax ----

std::vector<LD> softmax_ref(const std::vector<double>& row, bool log) {
  LD m = row[0];
  for (double v : row) m = std::max<LD>(m, v);
  LD s = 0;
  for (double v : row) s += std::exp(static_cast<LD>(v) - m);
  std::vector<LD> out;
  for (double v : row)
    out.push_back(log ? (static_cast<LD>(v) - m) - std::log(s) : std::exp(static_cast<LD>(v) - m) / s);
  return out;
}

const std::vector<std::vector<double>>& softmax_rows() {
  static const std::vector<std::vector<double>> rows = {
      {0.0, 1.0, 2.0},
      {1e4, 1e4 + 1, 1e4 + 2},  // logits near 1e4: same as {0, 1, 2}
      {-1e4, -1e4 + 1, -1e4 + 2},
      {0.0, 1e4},  // saturates to {0, 1}
      {-100, 100, 20, -20, 0, 1e-8, -1e-8, 1, -1},
      {-0.0, 0.0, 0.0, 0.0, 0.0},
      {3.5},
  };
  return rows;
}

TEST(Activations, SoftmaxValues) {
  for (const char* name : {"softmax", "log_softmax"}) {
    const bool log = std::string(name) == "log_softmax";
    const graphrun_activation& e = entry(name);
    ASSERT_EQ(e.kind, GRAPHRUN_ACTIVATION_ROWWISE);
    for (const auto& row : softmax_rows()) {
      const std::vector<LD> want = softmax_ref(row, log);
      std::vector<float> xf(row.begin(), row.end()), yf(row.size());
      std::vector<double> yd(row.size());
      e.forward(xf.data(), yf.data(), 1, row.size(), nullptr);
      e.forward_f64(row.data(), yd.data(), 1, row.size(), nullptr);
      for (size_t i = 0; i < row.size(); ++i) {
        ASSERT_TRUE(std::isfinite(yf[i])) << name;
        EXPECT_LE(std::fabs(yf[i] - want[i]), 2e-6L * std::fabs(want[i]) + 1e-37L + (log ? 2e-6L : 0))
            << name << " row[0]=" << row[0] << " i=" << i << ": " << yf[i] << " vs " << (double)want[i];
        EXPECT_LE(std::fabs(yd[i] - want[i]), 1e-12L * std::fabs(want[i]) + 1e-300L) << name << " f64";
      }
    }
    float big[2] = {0.0f, 1e4f}, y[2];
    e.forward(big, y, 1, 2, nullptr);
    if (log) {
      EXPECT_EQ(y[0], -1e4f);
      EXPECT_EQ(y[1], 0.0f);
    } else {
      EXPECT_EQ(y[0], 0.0f);
      EXPECT_EQ(y[1], 1.0f);
    }
  }
}

TEST(Activations, SoftmaxGradients) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  for (const char* name : {"softmax", "log_softmax"}) {
    const graphrun_activation& e = entry(name);
    for (size_t cols : {1, 2, 5, 17}) {
      std::vector<double> x(cols), dy(cols), y(cols), dx(cols);
      for (auto& v : x) v = u(rng);
      for (auto& v : dy) v = u(rng);
      e.forward_f64(x.data(), y.data(), 1, cols, nullptr);
      e.backward_f64(x.data(), y.data(), dy.data(), dx.data(), 1, cols, nullptr);
      auto loss = [&](const std::vector<double>& xv) {
        std::vector<double> yv(cols);
        e.forward_f64(xv.data(), yv.data(), 1, cols, nullptr);
        double s = 0;
        for (size_t i = 0; i < cols; ++i) s += dy[i] * yv[i];
        return s;
      };
      std::vector<float> xf(x.begin(), x.end()), yf(cols), dyf(dy.begin(), dy.end()), dxf(cols);
      e.forward(xf.data(), yf.data(), 1, cols, nullptr);
      e.backward(xf.data(), yf.data(), dyf.data(), dxf.data(), 1, cols, nullptr);
      for (size_t j = 0; j < cols; ++j) {
        const double h = 1e-3;
        auto xp = x, xm = x, xp2 = x, xm2 = x;
        xp[j] += h, xm[j] -= h, xp2[j] += h / 2, xm2[j] -= h / 2;
        const double d1 = (loss(xp) - loss(xm)) / (2 * h), d2 = (loss(xp2) - loss(xm2)) / h;
        const double num = (4 * d2 - d1) / 3;
        EXPECT_NEAR(dx[j], num, 1e-7 * std::fabs(num) + 1e-9) << name << " cols=" << cols << " j=" << j;
        EXPECT_NEAR(dxf[j], num, 2e-5 * std::fabs(num) + 1e-6) << name << " f32 cols=" << cols << " j=" << j;
      }
    }
  }
}

TEST(Activations, SoftmaxRowTails) {
  for_each_target([&] {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-10.0f, 10.0f);
    for (const char* name : {"softmax", "log_softmax"}) {
      const graphrun_activation& e = entry(name);
      for (size_t cols = 1; cols <= 67; ++cols) {
        const size_t rows = 3;
        std::vector<float> x(rows * cols), y(rows * cols), dy(rows * cols), dx(rows * cols);
        for (auto& v : x) v = u(rng);
        for (auto& v : dy) v = u(rng);
        e.forward(x.data(), y.data(), rows, cols, nullptr);
        e.backward(x.data(), y.data(), dy.data(), dx.data(), rows, cols, nullptr);
        std::vector<double> xd(x.begin(), x.end()), yd(rows * cols), dyd(y.begin(), y.end()), dxd(rows * cols);
        std::vector<double> dyy(dy.begin(), dy.end());
        e.forward_f64(xd.data(), yd.data(), rows, cols, nullptr);
        e.backward_f64(xd.data(), yd.data(), dyy.data(), dxd.data(), rows, cols, nullptr);
        for (size_t i = 0; i < rows * cols; ++i) {
          ASSERT_NEAR(y[i], yd[i], 2e-6 * std::fabs(yd[i]) + 2e-6) << name << " cols=" << cols << " i=" << i;
          ASSERT_NEAR(dx[i], dxd[i], 1e-5 * std::fabs(dxd[i]) + 1e-5) << name << " cols=" << cols << " i=" << i;
        }
      }
    }
  });
}

TEST(Activations, OneDnnEquivalents) {
  struct Want {
    const char* name;
    std::vector<std::pair<std::string, double>> given;
    graphrun_onednn_eltwise alg;
    float alpha;
  };
  const Want wants[] = {
      {"sigmoid", {}, GRAPHRUN_ONEDNN_LOGISTIC, 0},
      {"tanh", {}, GRAPHRUN_ONEDNN_TANH, 0},
      {"relu", {}, GRAPHRUN_ONEDNN_RELU, 0},
      {"leaky_relu", {{"alpha", 0.2}}, GRAPHRUN_ONEDNN_RELU, 0.2f},
      {"elu", {}, GRAPHRUN_ONEDNN_ELU, 1},
      {"swish", {{"beta", 2}}, GRAPHRUN_ONEDNN_SWISH, 2},
      {"silu", {}, GRAPHRUN_ONEDNN_SWISH, 1},
      {"gelu", {}, GRAPHRUN_ONEDNN_GELU_ERF, 0},
      {"gelu", {{"approximate", 1}}, GRAPHRUN_ONEDNN_GELU_TANH, 0},
      {"softplus", {}, GRAPHRUN_ONEDNN_SOFT_RELU, 0},
      {"softplus", {{"beta", 2}}, GRAPHRUN_ONEDNN_NONE, 0},
  };
  for (const Want& w : wants) {
    const graphrun_activation& e = entry(w.name);
    const std::vector<double> p = resolve_params(e.params, e.n_params, w.given, w.name);
    ASSERT_NE(e.onednn_equivalent, nullptr) << w.name;
    float alpha = -1, beta = -1;
    EXPECT_EQ(e.onednn_equivalent(p.data(), &alpha, &beta), w.alg) << w.name;
    if (w.alg != GRAPHRUN_ONEDNN_NONE) {
      EXPECT_EQ(alpha, w.alpha) << w.name;
    }
  }
}

}  // namespace
}  // namespace graphrun
