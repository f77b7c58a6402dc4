// graphrun::reference: batch norm, layer norm, dropout and the row copies of concat/slice.
//
// Same conventions as kernels.h: T = float or double, every sum in double (two passes for a
// variance), single-threaded, no allocation. Layouts: batch norm sees x as [N, C, S] (S the
// product of the dims after the channel; 1 for [N, F]); layer norm as [rows, cols] with cols
// the normalised dims.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/run_state.h"

namespace graphrun::reference {

// Mean and biased variance of channel c of x [N, C, S].
template <class T>
void channel_stats(const T* x, int64_t N, int64_t C, int64_t S, int64_t c, double& mean, double& var) {
  double sum = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) sum += static_cast<double>(x[(n * C + c) * S + s]);
  const double count = static_cast<double>(N * S);
  mean = sum / count;
  double sq = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const double d = static_cast<double>(x[(n * C + c) * S + s]) - mean;
      sq += d * d;
    }
  var = sq / count;
}

// The statistics batch norm normalises channel c with: the batch's (batch_stats) or the given.
template <class T>
void batch_norm_stats(const T* x, const T* mean_in, const T* var_in, int64_t N, int64_t C, int64_t S, int64_t c,
                      bool batch_stats, double& mean, double& var) {
  if (batch_stats) {
    channel_stats(x, N, C, S, c, mean, var);
  } else {
    mean = static_cast<double>(mean_in[c]);
    var = static_cast<double>(var_in[c]);
  }
}

// y = gamma (x - mean) / sqrt(var + eps) + beta per channel. batch_stats: the batch's
// statistics, and when running_mean/running_var are given they become
// momentum * running + (1 - momentum) * batch (variance unbiased: times M / (M - 1), M = N S > 1).
// Otherwise mean_in/var_in (the running statistics). running_* may alias mean_in/var_in.
template <class T>
void batch_norm_forward(const T* x, const T* gamma, const T* beta, const T* mean_in, const T* var_in, T* y, int64_t N,
                        int64_t C, int64_t S, double eps, bool batch_stats, T* running_mean, T* running_var,
                        double momentum) {
  for (int64_t c = 0; c < C; ++c) {
    double mean, var;
    batch_norm_stats(x, mean_in, var_in, N, C, S, c, batch_stats, mean, var);
    const double a = static_cast<double>(gamma[c]) / std::sqrt(var + eps);
    const double b = static_cast<double>(beta[c]) - a * mean;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        y[i] = static_cast<T>(a * static_cast<double>(x[i]) + b);
      }
    if (batch_stats && running_mean) {
      const double m = static_cast<double>(N * S);
      const double unbiased = m > 1 ? var * m / (m - 1) : var;
      running_mean[c] = static_cast<T>(momentum * static_cast<double>(running_mean[c]) + (1 - momentum) * mean);
      running_var[c] = static_cast<T>(momentum * static_cast<double>(running_var[c]) + (1 - momentum) * unbiased);
    }
  }
}

// Sums over channel c of dy and dy * xhat (xhat = (x - mean) * inv_std).
template <class T>
void batch_norm_sums(const T* x, const T* dy, int64_t N, int64_t C, int64_t S, int64_t c, double mean, double inv_std,
                     double& sum_dy, double& sum_dy_xhat) {
  sum_dy = sum_dy_xhat = 0.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t i = (n * C + c) * S + s;
      const double g = static_cast<double>(dy[i]);
      sum_dy += g;
      sum_dy_xhat += g * (static_cast<double>(x[i]) - mean) * inv_std;
    }
}

// dx. batch_stats (training): the full gradient through the batch's statistics,
// dx = gamma inv_std / M (M dy - sum dy - xhat sum(dy xhat)); otherwise gamma inv_std dy.
template <class T>
void batch_norm_backward(const T* x, const T* gamma, const T* mean_in, const T* var_in, const T* dy, T* dx, int64_t N,
                         int64_t C, int64_t S, double eps, bool batch_stats) {
  const double m = static_cast<double>(N * S);
  for (int64_t c = 0; c < C; ++c) {
    double mean, var;
    batch_norm_stats(x, mean_in, var_in, N, C, S, c, batch_stats, mean, var);
    const double inv_std = 1.0 / std::sqrt(var + eps);
    const double k = static_cast<double>(gamma[c]) * inv_std;
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    if (batch_stats) batch_norm_sums(x, dy, N, C, S, c, mean, inv_std, sum_dy, sum_dy_xhat);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t i = (n * C + c) * S + s;
        const double g = static_cast<double>(dy[i]);
        if (!batch_stats) {
          dx[i] = static_cast<T>(k * g);
          continue;
        }
        const double xhat = (static_cast<double>(x[i]) - mean) * inv_std;
        dx[i] = static_cast<T>(k / m * (m * g - sum_dy - xhat * sum_dy_xhat));
      }
  }
}

// out[0, c] = d gamma = sum dy * xhat, out[1, c] = d beta = sum dy.
template <class T>
void batch_norm_param_grads(const T* x, const T* mean_in, const T* var_in, const T* dy, T* out, int64_t N, int64_t C,
                            int64_t S, double eps, bool batch_stats) {
  for (int64_t c = 0; c < C; ++c) {
    double mean, var, sum_dy, sum_dy_xhat;
    batch_norm_stats(x, mean_in, var_in, N, C, S, c, batch_stats, mean, var);
    batch_norm_sums(x, dy, N, C, S, c, mean, 1.0 / std::sqrt(var + eps), sum_dy, sum_dy_xhat);
    out[c] = static_cast<T>(sum_dy_xhat);
    out[C + c] = static_cast<T>(sum_dy);
  }
}

// Mean and 1 / sqrt(biased variance + eps) of a row.
template <class T>
void row_stats(const T* x, int64_t cols, double eps, double& mean, double& inv_std) {
  double sum = 0.0;
  for (int64_t j = 0; j < cols; ++j) sum += static_cast<double>(x[j]);
  mean = sum / static_cast<double>(cols);
  double sq = 0.0;
  for (int64_t j = 0; j < cols; ++j) {
    const double d = static_cast<double>(x[j]) - mean;
    sq += d * d;
  }
  inv_std = 1.0 / std::sqrt(sq / static_cast<double>(cols) + eps);
}

// y[r, j] = gamma[j] xhat[r, j] + beta[j], xhat normalised over the row.
template <class T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, int64_t rows, int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double mean, inv_std;
    row_stats(xr, cols, eps, mean, inv_std);
    for (int64_t j = 0; j < cols; ++j) {
      const double xhat = (static_cast<double>(xr[j]) - mean) * inv_std;
      y[r * cols + j] = static_cast<T>(static_cast<double>(gamma[j]) * xhat + static_cast<double>(beta[j]));
    }
  }
}

// dx = inv_std / M (M g - sum g - xhat sum(g xhat)) with g = dy gamma, M = cols.
template <class T>
void layer_norm_backward(const T* x, const T* gamma, const T* dy, T* dx, int64_t rows, int64_t cols, double eps) {
  const double m = static_cast<double>(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const T* dyr = dy + r * cols;
    double mean, inv_std;
    row_stats(xr, cols, eps, mean, inv_std);
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int64_t j = 0; j < cols; ++j) {
      const double g = static_cast<double>(dyr[j]) * static_cast<double>(gamma[j]);
      sum_g += g;
      sum_g_xhat += g * (static_cast<double>(xr[j]) - mean) * inv_std;
    }
    for (int64_t j = 0; j < cols; ++j) {
      const double g = static_cast<double>(dyr[j]) * static_cast<double>(gamma[j]);
      const double xhat = (static_cast<double>(xr[j]) - mean) * inv_std;
      dx[r * cols + j] = static_cast<T>(inv_std / m * (m * g - sum_g - xhat * sum_g_xhat));
    }
  }
}

// out[0, j] = d gamma = sum_r dy xhat, out[1, j] = d beta = sum_r dy. Rows are summed in order.
template <class T>
void layer_norm_param_grads(const T* x, const T* dy, T* out, int64_t rows, int64_t cols, double eps) {
  for (int64_t j = 0; j < 2 * cols; ++j) out[j] = T(0);
  // Each column sums down the rows in a double accumulator: blocks of 256 columns keep the
  // accumulators on the stack (each block recomputes the rows' statistics).
  constexpr int64_t kBlock = 256;
  double dg[kBlock], db[kBlock];
  for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
    const int64_t nb = cols - j0 < kBlock ? cols - j0 : kBlock;
    for (int64_t j = 0; j < nb; ++j) dg[j] = db[j] = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      double mean, inv_std;
      row_stats(x + r * cols, cols, eps, mean, inv_std);
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t i = r * cols + j0 + j;
        const double g = static_cast<double>(dy[i]);
        dg[j] += g * (static_cast<double>(x[i]) - mean) * inv_std;
        db[j] += g;
      }
    }
    for (int64_t j = 0; j < nb; ++j) {
      out[j0 + j] = static_cast<T>(dg[j]);
      out[cols + j0 + j] = static_cast<T>(db[j]);
    }
  }
}

// y = x * mask / (1 - rate): element i kept when dropout_bits(key, i) >= dropout_threshold(rate).
// For float the scale is the float 1 / (1 - rate), one rounding per element, as every backend.
template <class T>
void dropout(const T* x, T* y, int64_t n, float rate, uint64_t key) {
  const float threshold = dropout_threshold(rate);
  const T scale = static_cast<T>(1) / (static_cast<T>(1) - static_cast<T>(rate));
  for (int64_t i = 0; i < n; ++i) {
    y[i] = dropout_bits(key, static_cast<uint64_t>(i)) >= threshold ? x[i] * scale : T(0);
  }
}

// y[r, 0:cols] = x[r, 0:cols] with row strides ldx, ldy: concat and slice are such copies.
template <class T>
void copy_rows(const T* x, int64_t ldx, T* y, int64_t ldy, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * ldy, x + r * ldx, static_cast<size_t>(cols) * sizeof(T));
}

}  // namespace graphrun::reference
