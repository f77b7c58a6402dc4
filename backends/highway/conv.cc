// conv2d and its gradients for graphrun::highway: im2col feeding the packed GEMM, one sample
// at a time per thread. Plain C++ (the SIMD is in the GEMM, gemm_kernels.cc), compiled once.
//
// NCHW makes each sample's convolution one GEMM per group with no transposes:
//   forward       y[n] (O x OH*OW)    = W (O x C*kh*kw) . col(x[n]) (C*kh*kw x OH*OW)
//   input grad    dcol (C*kh*kw x OHW) = W^T . dy[n], then col2im adds dcol into dx[n]
//   weight grad   dW (O x C*kh*kw)   += dy[n] . col(x[n])^T, summed over n in order
// A 1x1 kernel with stride 1 and no padding reads x[n] itself as col. Threads take whole
// samples (forward, input gradient) or rows of dW (weight gradient: each thread sums its rows
// over every sample in the same order), so results do not depend on the thread count.
// Scratch: one col buffer per thread, sized at compile time (reserve_conv_scratch, then
// prepare_thread_buffers on every pool thread), so no step allocates.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "backends/highway/kernels.h"
#include "core/partition.h"

namespace graphrun::highway {
namespace {

std::atomic<int64_t> g_col_floats{0};  // the largest col buffer any prepared kernel needs
thread_local std::vector<float> t_col;

float* col_buffer(int64_t floats) {
  if (static_cast<int64_t>(t_col.size()) < floats) t_col.resize(static_cast<size_t>(floats));  // first use only
  return t_col.data();
}

bool is_pointwise(const WindowGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pad_top == 0 && g.pad_left == 0 &&
         g.pad_bottom == 0 && g.pad_right == 0;
}

// The output columns [lo, hi) whose input column ow*s - pad + tap is inside [0, in).
void valid_range(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t offset, int64_t* lo, int64_t* hi) {
  // ow*s + offset - pad in [0, in)  <=>  ow in [ceil((pad - offset) / s), ceil((in + pad - offset) / s))
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  *lo = std::clamp<int64_t>(ceil_div(pad - offset, stride), 0, out);
  *hi = std::clamp<int64_t>(ceil_div(in + pad - offset, stride), *lo, out);
}

// col[(c*kh + i)*kw + j, oh*OW + ow] = x[c, oh*sh - pt + i*dh, ow*sw - pl + j*dw] (0 outside),
// for the C channels of one sample.
void im2col(const WindowGeometry& g, const float* x, float* col) {
  const int64_t ohw = g.out_plane();
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* xc = x + c * g.in_plane();
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = col + ((c * g.kh + i) * g.kw + j) * ohw;
        int64_t w0, w1;
        valid_range(g.in_w, g.out_w, g.sw, g.pad_left, j * g.dw, &w0, &w1);
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          float* r = row + oh * g.out_w;
          const int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
          if (ih < 0 || ih >= g.in_h || w0 >= w1) {
            std::memset(r, 0, sizeof(float) * static_cast<size_t>(g.out_w));
            continue;
          }
          std::fill(r, r + w0, 0.0f);
          const float* src = xc + ih * g.in_w - g.pad_left + j * g.dw;
          if (g.sw == 1) {
            std::memcpy(r + w0, src + w0, sizeof(float) * static_cast<size_t>(w1 - w0));
          } else {
            for (int64_t ow = w0; ow < w1; ++ow) r[ow] = src[ow * g.sw];
          }
          std::fill(r + w1, r + g.out_w, 0.0f);
        }
      }
  }
}

// dx[c, ...] += col[...]: im2col's adjoint; dx must be zeroed first.
void col2im(const WindowGeometry& g, const float* col, float* dx) {
  const int64_t ohw = g.out_plane();
  for (int64_t c = 0; c < g.channels; ++c) {
    float* xc = dx + c * g.in_plane();
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const float* row = col + ((c * g.kh + i) * g.kw + j) * ohw;
        int64_t w0, w1;
        valid_range(g.in_w, g.out_w, g.sw, g.pad_left, j * g.dw, &w0, &w1);
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
          if (ih < 0 || ih >= g.in_h) continue;
          const float* r = row + oh * g.out_w;
          float* dst = xc + ih * g.in_w - g.pad_left + j * g.dw;
          for (int64_t ow = w0; ow < w1; ++ow) dst[ow * g.sw] += r[ow];
        }
      }
  }
}

// Threads for work over `items` (samples or row blocks) of `macs` multiply-adds in total.
int64_t tasks_for(int64_t items, int64_t macs, ThreadPool& pool) {
  return std::max<int64_t>(1, std::min(items, threads_for(macs, pool.size())));
}

int64_t conv_macs(const WindowGeometry& g) {
  return g.batch * g.out_channels * g.out_plane() * g.group_in() * g.kernel_area();
}

}  // namespace

void reserve_conv_scratch(const WindowGeometry& g) {
  const int64_t floats = is_pointwise(g) ? 0 : g.channels * g.kernel_area() * g.out_plane();
  int64_t seen = g_col_floats.load();
  while (seen < floats && !g_col_floats.compare_exchange_weak(seen, floats)) {
  }
}

void prepare_conv_thread() { col_buffer(g_col_floats.load()); }

void conv2d(const WindowGeometry& g, const float* x, const float* w, float* y, ThreadPool& pool) {
  const int64_t kg = g.group_in() * g.kernel_area(), og = g.group_out(), ohw = g.out_plane();
  const bool pointwise = is_pointwise(g);
  const int64_t tasks = tasks_for(g.batch, conv_macs(g), pool);
  pool.run(tasks, [&](int64_t t) {
    float* col = pointwise ? nullptr : col_buffer(g.channels * g.kernel_area() * ohw);
    for (int64_t n = g.batch * t / tasks; n < g.batch * (t + 1) / tasks; ++n) {
      const float* xn = x + n * g.channels * g.in_plane();
      if (!pointwise) im2col(g, xn, col);
      const float* b = pointwise ? xn : col;
      float* yn = y + n * g.out_channels * ohw;
      for (int64_t k = 0; k < g.groups; ++k) {
        gemm_serial(false, false, og, ohw, kg, w + k * og * kg, kg, b + k * kg * ohw, ohw, yn + k * og * ohw, ohw,
                    false);
      }
    }
  });
}

void conv2d_backward_input(const WindowGeometry& g, const float* dy, const float* w, float* dx, ThreadPool& pool) {
  const int64_t kg = g.group_in() * g.kernel_area(), og = g.group_out(), ohw = g.out_plane();
  const bool pointwise = is_pointwise(g);
  const int64_t tasks = tasks_for(g.batch, conv_macs(g), pool);
  pool.run(tasks, [&](int64_t t) {
    float* col = pointwise ? nullptr : col_buffer(g.channels * g.kernel_area() * ohw);
    for (int64_t n = g.batch * t / tasks; n < g.batch * (t + 1) / tasks; ++n) {
      const float* dyn = dy + n * g.out_channels * ohw;
      float* dxn = dx + n * g.channels * g.in_plane();
      float* dcol = pointwise ? dxn : col;
      for (int64_t k = 0; k < g.groups; ++k) {
        gemm_serial(true, false, kg, ohw, og, w + k * og * kg, kg, dyn + k * og * ohw, ohw, dcol + k * kg * ohw, ohw,
                    false);
      }
      if (pointwise) continue;
      std::memset(dxn, 0, sizeof(float) * static_cast<size_t>(g.channels * g.in_plane()));
      col2im(g, dcol, dxn);
    }
  });
}

void conv2d_backward_weight(const WindowGeometry& g, const float* x, const float* dy, float* dw, ThreadPool& pool) {
  const int64_t kg = g.group_in() * g.kernel_area(), og = g.group_out(), ohw = g.out_plane();
  const bool pointwise = is_pointwise(g);
  constexpr int64_t kRows = 8;  // rows of dW per task at least
  const int64_t tasks = tasks_for((g.out_channels + kRows - 1) / kRows, conv_macs(g), pool);
  pool.run(tasks, [&](int64_t t) {
    const int64_t o0 = g.out_channels * t / tasks, o1 = g.out_channels * (t + 1) / tasks;
    if (o0 >= o1) return;
    float* col = pointwise ? nullptr : col_buffer(g.channels * g.kernel_area() * ohw);
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* xn = x + n * g.channels * g.in_plane();
      if (!pointwise) im2col(g, xn, col);
      const float* b = pointwise ? xn : col;
      const float* dyn = dy + n * g.out_channels * ohw;
      for (int64_t k = o0 / og; k <= (o1 - 1) / og; ++k) {
        const int64_t r0 = std::max(o0, k * og), r1 = std::min(o1, (k + 1) * og);
        gemm_serial(false, true, r1 - r0, kg, ohw, dyn + r0 * ohw, ohw, b + k * kg * ohw, ohw, dw + r0 * kg, kg,
                    n > 0);
      }
    }
  });
}

}  // namespace graphrun::highway
