// graphrun::reference: the scalar oracle every other backend is tested against.
//
// Plain loops over row-major arrays, templated on T = float or double. Every sum, max-subtracted
// exponential and loss accumulates in double, so a float instance is accurate to ~1 ulp of the
// exact result and tests may compare faster kernels against it with tight tolerances.
// Kernels trust their inputs (shapes and strides are validated when a graph is built); they are
// single-threaded, never allocate, and allow y to alias an input for the elementwise kernels
// (add, mul, scale, add_bias_rows). Header-only: include it and call.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace graphrun::reference {

// C[M,N] (+)= op(A)[M,K] * op(B)[K,N].
// op(A) = A (stored M x K, row stride lda >= K) or, with trans_a, A^T (A stored K x M, lda >= M).
// op(B) likewise with ldb. accumulate=false overwrites C (C is never read), true adds to it.
// Each C element sums its K products in order of k, in double. k runs outside a block of
// columns so that the inner loop updates independent sums (it vectorizes and has no chain of
// dependent adds) without changing any element's order of summation: the results are those
// of the plain i, j, k loop, bit for bit, 2-7x sooner.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T* C, int64_t ldc, bool accumulate) {
  constexpr int64_t kBlock = 64;
  double acc[kBlock];
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j0 = 0; j0 < N; j0 += kBlock) {
      const int64_t nb = std::min(kBlock, N - j0);
      std::fill(acc, acc + nb, 0.0);
      for (int64_t k = 0; k < K; ++k) {
        const double a = trans_a ? A[k * lda + i] : A[i * lda + k];
        if (trans_b) {
          for (int64_t j = 0; j < nb; ++j) acc[j] += a * static_cast<double>(B[(j0 + j) * ldb + k]);
        } else {
          const T* b = B + k * ldb + j0;
          for (int64_t j = 0; j < nb; ++j) acc[j] += a * static_cast<double>(b[j]);
        }
      }
      for (int64_t j = 0; j < nb; ++j) {
        T& c = C[i * ldc + j0 + j];
        c = static_cast<T>(accumulate ? static_cast<double>(c) + acc[j] : acc[j]);
      }
    }
  }
}

// y = a + b (y may alias a or b).
template <class T>
void add(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

// y = a * b (y may alias a or b).
template <class T>
void mul(const T* a, const T* b, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

// y = alpha * x (y may alias x).
template <class T>
void scale(const T* x, T alpha, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

// y[r,c] = x[r,c] + bias[c] (y may alias x).
template <class T>
void add_bias_rows(const T* x, const T* bias, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = x[r * cols + c] + bias[c];
}

// y[r,c] = alpha * v[c]; v has cols elements (cols == 1 broadcasts a scalar to rows elements).
template <class T>
void broadcast_rows(const T* v, T alpha, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = alpha * v[c];
}

// y[c] = sum_r x[r,c].
template <class T>
void sum_rows(const T* x, T* y, int64_t rows, int64_t cols) {
  for (int64_t c = 0; c < cols; ++c) {
    double acc = 0.0;
    for (int64_t r = 0; r < rows; ++r) acc += x[r * cols + c];
    y[c] = static_cast<T>(acc);
  }
}

// Sum of all n elements.
template <class T>
T sum_all(const T* x, int64_t n) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) acc += x[i];
  return static_cast<T>(acc);
}

namespace detail {

// max_c x[c] and log(sum_c exp(x[c] - max)) of one row, in double.
template <class T>
void row_max_logsumexp(const T* x, int64_t cols, double* max_out, double* log_sum_out) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < cols; ++c) m = std::max(m, static_cast<double>(x[c]));
  double s = 0.0;
  for (int64_t c = 0; c < cols; ++c) s += std::exp(static_cast<double>(x[c]) - m);
  *max_out = m;
  *log_sum_out = std::log(s);
}

// The target probability of class c in row r.
template <class T>
double target(const T* labels, bool sparse, int64_t r, int64_t c, int64_t cols) {
  if (sparse) return static_cast<int64_t>(labels[r]) == c ? 1.0 : 0.0;
  return static_cast<double>(labels[r * cols + c]);
}

}  // namespace detail

// y[r,:] = softmax(x[r,:]), computed as exp(x - max) / sum so that large logits stay finite.
template <class T>
void softmax_rows(const T* x, T* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m, log_sum;
    detail::row_max_logsumexp(xr, cols, &m, &log_sum);
    for (int64_t c = 0; c < cols; ++c)
      y[r * cols + c] = static_cast<T>(std::exp(static_cast<double>(xr[c]) - m - log_sum));
  }
}

// Backward of softmax given its output y: dx = y * (dy - sum_c(dy * y)) per row.
template <class T>
void softmax_rows_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    double dot = 0.0;
    for (int64_t c = 0; c < cols; ++c) dot += static_cast<double>(dyr[c]) * yr[c];
    for (int64_t c = 0; c < cols; ++c) dx[r * cols + c] = static_cast<T>(yr[c] * (static_cast<double>(dyr[c]) - dot));
  }
}

// Mean over rows of the cross-entropy between softmax(logits[r,:]) and the targets.
// sparse: labels holds `rows` class indices (stored as T, 0..cols-1); otherwise rows*cols target
// probabilities (one-hot or soft). Loss of a row = sum_c t_c * (logsumexp(x) - x_c), times its
// weight w[r] when weights are given.
template <class T>
T softmax_cross_entropy(const T* logits, const T* labels, bool sparse, int64_t rows, int64_t cols,
                        const T* weights = nullptr) {
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = logits + r * cols;
    double m, log_sum;
    detail::row_max_logsumexp(xr, cols, &m, &log_sum);
    const double w = weights ? static_cast<double>(weights[r]) : 1.0;
    for (int64_t c = 0; c < cols; ++c) {
      const double t = detail::target(labels, sparse, r, c, cols);
      if (t != 0.0) total += w * t * (m + log_sum - static_cast<double>(xr[c]));
    }
  }
  return rows > 0 ? static_cast<T>(total / static_cast<double>(rows)) : T(0);
}

// dlogits = (softmax(logits) * sum(target) - target) * dloss / rows: the targets of a row need
// not sum to one (class weights scale them); sparse labels sum to one.
template <class T>
void softmax_cross_entropy_backward(const T* logits, const T* labels, bool sparse, int64_t rows, int64_t cols, T dloss,
                                    T* dlogits, const T* weights = nullptr) {
  const double g0 = static_cast<double>(dloss) / static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double g = weights ? g0 * static_cast<double>(weights[r]) : g0;
    const T* xr = logits + r * cols;
    double m, log_sum, tsum = 0.0;
    detail::row_max_logsumexp(xr, cols, &m, &log_sum);
    for (int64_t c = 0; c < cols; ++c) tsum += detail::target(labels, sparse, r, c, cols);
    for (int64_t c = 0; c < cols; ++c) {
      const double p = std::exp(static_cast<double>(xr[c]) - m - log_sum);
      dlogits[r * cols + c] = static_cast<T>((p * tsum - detail::target(labels, sparse, r, c, cols)) * g);
    }
  }
}

// mean((pred - target)^2) over n elements.
template <class T>
T mean_squared_error(const T* pred, const T* target, int64_t n, const T* w = nullptr, int64_t cols = 1) {
  double acc = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - target[i];
    acc += (w ? static_cast<double>(w[i / cols]) : 1.0) * d * d;
  }
  return n > 0 ? static_cast<T>(acc / static_cast<double>(n)) : T(0);
}

// dpred = 2 * (pred - target) / n * dloss.
template <class T>
void mean_squared_error_backward(const T* pred, const T* target, int64_t n, T dloss, T* dpred, const T* w = nullptr,
                                 int64_t cols = 1) {
  const double g = 2.0 * static_cast<double>(dloss) / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double wi = w ? static_cast<double>(w[i / cols]) : 1.0;
    dpred[i] = static_cast<T>((static_cast<double>(pred[i]) - target[i]) * g * wi);
  }
}

}  // namespace graphrun::reference
