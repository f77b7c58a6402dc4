// Batch norm and layer norm for graphrun::highway (float), same semantics as
// backends/reference/layer_kernels.h.
//
// Batch norm on [N, C, S]: with S > 1 each channel's rows of S contiguous values are reduced
// with vectors (tasks: ranges of channels); with S == 1 ([N, F]) a vector holds L channels and
// the sums run down the N rows in registers (tasks: ranges of channel vectors). Layer norm:
// tasks are ranges of rows; its parameter gradient sums down the rows into the output itself
// (tasks: ranges of columns). Statistics are two-pass (mean, then squared deviations); sums
// run in float vectors and are totalled in double. Nothing allocates.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"

// foreach_target.h must follow HWY_TARGET_INCLUDE and precede the other Highway headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backends/highway/norm.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include "backends/highway/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace graphrun::highway {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Calls f(vector, mask, offset) over [0, n): full vectors, then one masked tail.
template <class F>
HWY_INLINE void ForVectors(int64_t n, F&& f) {
  const DF d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) f(hn::FirstN(d, static_cast<size_t>(L)), i, true);
  if (i < n) f(hn::FirstN(d, static_cast<size_t>(n - i)), i, false);
}

template <class M>
HWY_INLINE VF Load(M m, const float* p, bool full) {
  const DF d;
  return full ? hn::LoadU(d, p) : LoadPrefix(m, d, p);
}

template <class M>
HWY_INLINE void Store(VF v, M m, float* p, bool full) {
  const DF d;
  if (full)
    hn::StoreU(v, d, p);
  else
    hn::BlendedStore(v, m, d, p);
}

HWY_INLINE double Total(VF v) { return static_cast<double>(hn::GetLane(hn::SumOfLanes(DF(), v))); }

// sum x, and sum (x - mean)^2.
double NormSum(const float* x, int64_t n) {
  VF s = hn::Zero(DF());
  ForVectors(n, [&](auto m, int64_t i, bool full) { s = hn::Add(s, Load(m, x + i, full)); });
  return Total(s);
}
double NormSquaredDeviation(const float* x, int64_t n, float mean) {
  const VF vm = hn::Set(DF(), mean);
  VF s = hn::Zero(DF());
  ForVectors(n, [&](auto m, int64_t i, bool full) {
    const VF dev = hn::IfThenElseZero(m, hn::Sub(Load(m, x + i, full), vm));
    s = hn::MulAdd(dev, dev, s);
  });
  return Total(s);
}

// sum dy, and sum dy * (x - mean) (* gamma[i] per element when gamma is given).
void NormGradSums(const float* x, const float* dy, const float* gamma, int64_t n, float mean, double* sum_dy,
                  double* sum_dy_dev) {
  const VF vm = hn::Set(DF(), mean);
  VF s0 = hn::Zero(DF()), s1 = hn::Zero(DF());
  ForVectors(n, [&](auto m, int64_t i, bool full) {
    VF g = Load(m, dy + i, full);
    if (gamma) g = hn::Mul(g, Load(m, gamma + i, full));
    s0 = hn::Add(s0, g);
    s1 = hn::MulAdd(g, hn::IfThenElseZero(m, hn::Sub(Load(m, x + i, full), vm)), s1);
  });
  *sum_dy = Total(s0);
  *sum_dy_dev = Total(s1);
}

// y = a * x + b.
void NormAffine(const float* x, float a, float b, float* y, int64_t n) {
  const VF va = hn::Set(DF(), a), vb = hn::Set(DF(), b);
  ForVectors(n, [&](auto m, int64_t i, bool full) { Store(hn::MulAdd(va, Load(m, x + i, full), vb), m, y + i, full); });
}

// dx = a * dy (* gamma[i]) + b * (x - mean) + c.
void NormGradCombine(const float* x, const float* dy, const float* gamma, float a, float b, float c, float mean,
                     float* dx, int64_t n) {
  const VF va = hn::Set(DF(), a), vb = hn::Set(DF(), b), vc = hn::Set(DF(), c), vm = hn::Set(DF(), mean);
  ForVectors(n, [&](auto m, int64_t i, bool full) {
    VF g = Load(m, dy + i, full);
    if (gamma) g = hn::Mul(g, Load(m, gamma + i, full));
    Store(hn::MulAdd(va, g, hn::MulAdd(vb, hn::Sub(Load(m, x + i, full), vm), vc)), m, dx + i, full);
  });
}

// y = gamma * (x - mean) * inv_std + beta.
void LayerNormRow(const float* x, const float* gamma, const float* beta, float mean, float inv_std, float* y,
                  int64_t n) {
  const VF vm = hn::Set(DF(), mean), vi = hn::Set(DF(), inv_std);
  ForVectors(n, [&](auto m, int64_t i, bool full) {
    const VF xhat = hn::Mul(hn::Sub(Load(m, x + i, full), vm), vi);
    Store(hn::MulAdd(Load(m, gamma + i, full), xhat, Load(m, beta + i, full)), m, y + i, full);
  });
}

// dgamma += dy * (x - mean) * inv_std, dbeta += dy.
void LayerNormAccumulate(const float* x, const float* dy, float mean, float inv_std, float* dgamma, float* dbeta,
                         int64_t n) {
  const VF vm = hn::Set(DF(), mean), vi = hn::Set(DF(), inv_std);
  ForVectors(n, [&](auto m, int64_t i, bool full) {
    const VF g = Load(m, dy + i, full);
    const VF xhat = hn::Mul(hn::Sub(Load(m, x + i, full), vm), vi);
    Store(hn::MulAdd(g, xhat, Load(m, dgamma + i, full)), m, dgamma + i, full);
    Store(hn::Add(g, Load(m, dbeta + i, full)), m, dbeta + i, full);
  });
}

// Batch norm of [N, C] (S == 1) for channels [c0, c1), one vector of channels at a time.
// kind 0: forward (training: batch statistics, running ones updated); 1: dx; 2: [2, C] sums.
void BatchNormColumns(int kind, const float* x, const float* gamma, const float* beta, float* mean_io, float* var_io,
                      const float* dy, float* out, int64_t N, int64_t C, int64_t c0, int64_t c1, float eps,
                      bool training, float momentum) {
  const DF d;
  const VF one = hn::Set(d, 1.0f), inv_n = hn::Set(d, 1.0f / static_cast<float>(N));
  ForVectors(c1 - c0, [&](auto m, int64_t i, bool full) {
    const int64_t c = c0 + i;
    VF mean, var;
    if (training) {
      VF s = hn::Zero(d);
      for (int64_t n = 0; n < N; ++n) s = hn::Add(s, Load(m, x + n * C + c, full));
      mean = hn::Mul(s, inv_n);
      VF q = hn::Zero(d);
      for (int64_t n = 0; n < N; ++n) {
        const VF dev = hn::Sub(Load(m, x + n * C + c, full), mean);
        q = hn::MulAdd(dev, dev, q);
      }
      var = hn::Mul(q, inv_n);
    } else {
      mean = Load(m, mean_io + c, full);
      var = Load(m, var_io + c, full);
    }
    const VF inv_std = hn::Div(one, hn::Sqrt(hn::Add(var, hn::Set(d, eps))));
    if (kind == 0) {
      const VF a = hn::Mul(Load(m, gamma + c, full), inv_std);
      const VF b = hn::NegMulAdd(a, mean, Load(m, beta + c, full));
      for (int64_t n = 0; n < N; ++n) Store(hn::MulAdd(a, Load(m, x + n * C + c, full), b), m, out + n * C + c, full);
      if (training) {
        const VF mom = hn::Set(d, momentum), rest = hn::Set(d, 1.0f - momentum);
        const VF unbiased = N > 1 ? hn::Mul(var, hn::Set(d, static_cast<float>(N) / static_cast<float>(N - 1))) : var;
        Store(hn::MulAdd(mom, Load(m, mean_io + c, full), hn::Mul(rest, mean)), m, mean_io + c, full);
        Store(hn::MulAdd(mom, Load(m, var_io + c, full), hn::Mul(rest, unbiased)), m, var_io + c, full);
      }
      return;
    }
    VF sdy = hn::Zero(d), sdx = hn::Zero(d);  // sum dy, sum dy * (x - mean)
    if (kind == 2 || training) {
      for (int64_t n = 0; n < N; ++n) {
        const VF g = Load(m, dy + n * C + c, full);
        sdy = hn::Add(sdy, g);
        sdx = hn::MulAdd(g, hn::Sub(Load(m, x + n * C + c, full), mean), sdx);
      }
    }
    if (kind == 2) {
      Store(hn::Mul(sdx, inv_std), m, out + c, full);
      Store(sdy, m, out + C + c, full);
      return;
    }
    const VF k = hn::Mul(Load(m, gamma + c, full), inv_std);
    // dx = k dy - k sdy / N - k inv_std^2 sdx / N (x - mean)
    const VF b = training ? hn::Neg(hn::Mul(hn::Mul(k, hn::Mul(inv_std, inv_std)), hn::Mul(sdx, inv_n))) : hn::Zero(d);
    const VF c0v = training ? hn::Neg(hn::Mul(k, hn::Mul(sdy, inv_n))) : hn::Zero(d);
    for (int64_t n = 0; n < N; ++n) {
      const VF dev = hn::Sub(Load(m, x + n * C + c, full), mean);
      const VF r = hn::MulAdd(k, Load(m, dy + n * C + c, full), hn::MulAdd(b, dev, c0v));
      Store(r, m, out + n * C + c, full);
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace graphrun::highway
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace graphrun::highway {

HWY_EXPORT(NormSum);
HWY_EXPORT(NormSquaredDeviation);
HWY_EXPORT(NormGradSums);
HWY_EXPORT(NormAffine);
HWY_EXPORT(NormGradCombine);
HWY_EXPORT(LayerNormRow);
HWY_EXPORT(LayerNormAccumulate);
HWY_EXPORT(BatchNormColumns);

namespace {

struct Stats {
  double mean, var, inv_std;  // var: biased
};

Stats given(const float* mean, const float* var, int64_t ch, double eps) {
  return {mean[ch], var[ch], 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps)};
}

// Mean and 1 / sqrt(biased variance + eps) of the `rows` rows of `cols` values at x, stride ld.
Stats stats(const float* x, int64_t rows, int64_t cols, int64_t ld, double eps) {
  const auto sum = HWY_DYNAMIC_DISPATCH(NormSum);
  const auto dev = HWY_DYNAMIC_DISPATCH(NormSquaredDeviation);
  double s = 0.0;
  for (int64_t r = 0; r < rows; ++r) s += sum(x + r * ld, cols);
  const double count = static_cast<double>(rows * cols);
  const double mean = s / count;
  double q = 0.0;
  for (int64_t r = 0; r < rows; ++r) q += dev(x + r * ld, cols, static_cast<float>(mean));
  return {mean, q / count, 1.0 / std::sqrt(q / count + eps)};
}

// Channels per task: at least ~kElementGrain elements of work.
int64_t channel_grain(int64_t per_channel) { return detail::row_grain(per_channel); }

// S == 1: tasks over channel vectors (64 channels, whole vectors on every target).
void batch_norm_columns(int kind, const float* x, const float* gamma, const float* beta, float* mean, float* var,
                        const float* dy, float* out, int64_t n, int64_t c, float eps, bool training, float momentum,
                        ThreadPool& pool) {
  constexpr int64_t kBlock = 64;
  const auto f = HWY_DYNAMIC_DISPATCH(BatchNormColumns);
  const int64_t blocks = (c + kBlock - 1) / kBlock;
  pool.parallel_for(blocks, channel_grain(n * kBlock), [&](int64_t b0, int64_t b1) {
    f(kind, x, gamma, beta, mean, var, dy, out, n, c, b0 * kBlock, std::min(c, b1 * kBlock), eps, training, momentum);
  });
}

}  // namespace

void batch_norm_forward(const float* x, const float* gamma, const float* beta, float* mean, float* var, float* y,
                        int64_t n, int64_t c, int64_t s, float eps, bool training, float momentum, ThreadPool& pool) {
  if (s == 1) return batch_norm_columns(0, x, gamma, beta, mean, var, nullptr, y, n, c, eps, training, momentum, pool);
  const auto affine = HWY_DYNAMIC_DISPATCH(NormAffine);
  pool.parallel_for(c, channel_grain(n * s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const float* xc = x + ch * s;
      const Stats st = training ? stats(xc, n, s, c * s, eps) : given(mean, var, ch, eps);
      if (training) {
        const double m = static_cast<double>(n * s);
        const double unbiased = m > 1 ? st.var * m / (m - 1) : st.var;
        mean[ch] = static_cast<float>(momentum * static_cast<double>(mean[ch]) + (1.0 - momentum) * st.mean);
        var[ch] = static_cast<float>(momentum * static_cast<double>(var[ch]) + (1.0 - momentum) * unbiased);
      }
      const double a = static_cast<double>(gamma[ch]) * st.inv_std;
      const double b = static_cast<double>(beta[ch]) - a * st.mean;
      for (int64_t i = 0; i < n; ++i)
        affine(xc + i * c * s, static_cast<float>(a), static_cast<float>(b), y + (i * c + ch) * s, s);
    }
  });
}

void batch_norm_backward(const float* x, const float* gamma, const float* mean, const float* var, const float* dy,
                         float* dx, int64_t n, int64_t c, int64_t s, float eps, bool training, ThreadPool& pool) {
  if (s == 1) {
    return batch_norm_columns(1, x, gamma, nullptr, const_cast<float*>(mean), const_cast<float*>(var), dy, dx, n, c,
                              eps, training, 0.0f, pool);
  }
  const auto sums = HWY_DYNAMIC_DISPATCH(NormGradSums);
  const auto combine = HWY_DYNAMIC_DISPATCH(NormGradCombine);
  pool.parallel_for(c, channel_grain(n * s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const Stats st = training ? stats(x + ch * s, n, s, c * s, eps) : given(mean, var, ch, eps);
      const double k = static_cast<double>(gamma[ch]) * st.inv_std, m = static_cast<double>(n * s);
      double sdy = 0.0, sdx = 0.0;
      for (int64_t i = 0; training && i < n; ++i) {
        double a, b;
        sums(x + (i * c + ch) * s, dy + (i * c + ch) * s, nullptr, s, static_cast<float>(st.mean), &a, &b);
        sdy += a;
        sdx += b;
      }
      // dx = k dy + b (x - mean) + c0 with b = -k inv_std^2 sdx / m, c0 = -k sdy / m
      const double b = -k * st.inv_std * st.inv_std * sdx / m;
      const double c0v = -k * sdy / m;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t at = (i * c + ch) * s;
        combine(x + at, dy + at, nullptr, static_cast<float>(k), static_cast<float>(b), static_cast<float>(c0v),
                static_cast<float>(st.mean), dx + at, s);
      }
    }
  });
}

void batch_norm_param_grads(const float* x, const float* mean, const float* var, const float* dy, float* out, int64_t n,
                            int64_t c, int64_t s, float eps, bool training, ThreadPool& pool) {
  if (s == 1) {
    return batch_norm_columns(2, x, nullptr, nullptr, const_cast<float*>(mean), const_cast<float*>(var), dy, out, n, c,
                              eps, training, 0.0f, pool);
  }
  const auto sums = HWY_DYNAMIC_DISPATCH(NormGradSums);
  pool.parallel_for(c, channel_grain(n * s), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const Stats st = training ? stats(x + ch * s, n, s, c * s, eps) : given(mean, var, ch, eps);
      double sdy = 0.0, sdx = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        double a, b;
        sums(x + (i * c + ch) * s, dy + (i * c + ch) * s, nullptr, s, static_cast<float>(st.mean), &a, &b);
        sdy += a;
        sdx += b;
      }
      out[ch] = static_cast<float>(sdx * st.inv_std);
      out[c + ch] = static_cast<float>(sdy);
    }
  });
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int64_t cols,
                        float eps, ThreadPool& pool) {
  const auto row = HWY_DYNAMIC_DISPATCH(LayerNormRow);
  pool.parallel_for(rows, detail::row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const Stats st = stats(x + r * cols, 1, cols, cols, eps);
      row(x + r * cols, gamma, beta, static_cast<float>(st.mean), static_cast<float>(st.inv_std), y + r * cols, cols);
    }
  });
}

void layer_norm_backward(const float* x, const float* gamma, const float* dy, float* dx, int64_t rows, int64_t cols,
                         float eps, ThreadPool& pool) {
  const auto sums = HWY_DYNAMIC_DISPATCH(NormGradSums);
  const auto combine = HWY_DYNAMIC_DISPATCH(NormGradCombine);
  const double m = static_cast<double>(cols);
  pool.parallel_for(rows, detail::row_grain(cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *xr = x + r * cols, *dyr = dy + r * cols;
      const Stats st = stats(xr, 1, cols, cols, eps);
      double sg, sgx;  // sum g, sum g (x - mean), g = dy gamma
      sums(xr, dyr, gamma, cols, static_cast<float>(st.mean), &sg, &sgx);
      // dx = inv_std g + b (x - mean) + c0 with b = -inv_std^3 sgx / m, c0 = -inv_std sg / m
      const double b = -st.inv_std * st.inv_std * st.inv_std * sgx / m;
      const double c0v = -st.inv_std * sg / m;
      combine(xr, dyr, gamma, static_cast<float>(st.inv_std), static_cast<float>(b), static_cast<float>(c0v),
              static_cast<float>(st.mean), dx + r * cols, cols);
    }
  });
}

void layer_norm_param_grads(const float* x, const float* dy, float* out, int64_t rows, int64_t cols, float eps,
                            ThreadPool& pool) {
  const auto accumulate = HWY_DYNAMIC_DISPATCH(LayerNormAccumulate);
  // Column ranges (whole 64-float blocks) per task; each task recomputes the rows' statistics,
  // so split only when the columns are many.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  pool.parallel_for(blocks, std::max<int64_t>(1, 4096 / kBlock), [&](int64_t b0, int64_t b1) {
    const int64_t j0 = b0 * kBlock, j1 = std::min(cols, b1 * kBlock);
    std::fill(out + j0, out + j1, 0.0f);
    std::fill(out + cols + j0, out + cols + j1, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const Stats st = stats(x + r * cols, 1, cols, cols, eps);
      accumulate(x + r * cols + j0, dy + r * cols + j0, static_cast<float>(st.mean), static_cast<float>(st.inv_std),
                 out + j0, out + cols + j0, j1 - j0);
    }
  });
}

}  // namespace graphrun::highway
#endif  // HWY_ONCE
