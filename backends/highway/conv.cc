// conv2d and its gradients for graphrun::highway: im2col feeding the packed GEMM, one sample
// at a time per thread. Plain C++ (the SIMD is in the GEMM, gemm_kernels.cc), compiled once.
//
// NCHW makes each sample's convolution one GEMM per group with no transposes:
//   forward       y[n] (O x OH*OW)    = W (O x C*kh*kw) . col(x[n]) (C*kh*kw x OH*OW)
//   input grad    dcol (C*kh*kw x OHW) = W^T . dy[n], then col2im adds dcol into dx[n]
//   weight grad   dW (O x C*kh*kw)   += dy[n] . col(x[n])^T, summed over n in order
// A 1x1 kernel with stride 1 and no padding reads x[n] itself as col. Threads take whole
// samples: the forward and the input gradient one sample per output, the weight gradient a
// fixed number of parts of the batch (each summed in order into its own buffer, then the parts
// added in order), so results do not depend on the thread count.
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
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 &&
         g.pad_right == 0;
}

// The output columns [lo, hi) whose input column ow*s - pad + tap is inside [0, in).
void valid_range(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t offset, int64_t* lo, int64_t* hi) {
  // ow*s + offset - pad in [0, in)  <=>  ow in [ceil((pad - offset) / s), ceil((in + pad - offset) / s))
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  *lo = std::clamp<int64_t>(ceil_div(pad - offset, stride), 0, out);
  *hi = std::clamp<int64_t>(ceil_div(in + pad - offset, stride), *lo, out);
}

// Stride 1 with the output as wide as the input ("same" padding, stride 1: the usual case):
// each col row is then the input plane shifted by one offset, so its valid part is one
// contiguous copy (one memcpy per kernel tap instead of one per output row), after which the
// columns that wrapped around from the neighbouring row are zeroed.
bool is_shifted_plane(const WindowGeometry& g) { return g.sh == 1 && g.sw == 1 && g.out_w == g.in_w; }

// For kernel tap (i, j): output rows [*h0, *h1) and columns [*w0, *w1) read the input, at
// plane offset *shift + oh * W + ow.
struct TapRange {
  int64_t h0, h1, w0, w1, shift;
};
TapRange tap_range(const WindowGeometry& g, int64_t i, int64_t j) {
  TapRange t;
  valid_range(g.in_h, g.out_h, g.sh, g.pad_top, i * g.dh, &t.h0, &t.h1);
  valid_range(g.in_w, g.out_w, g.sw, g.pad_left, j * g.dw, &t.w0, &t.w1);
  t.shift = (i * g.dh - g.pad_top) * g.in_w + j * g.dw - g.pad_left;
  return t;
}

// In a shifted-plane col row, zeroes the columns outside [w0, w1) of rows h0 < oh < h1 - 1 and
// the edge rows' inner sides (what a contiguous copy brought in from the neighbouring rows).
// Plain loops: usually one or two floats per row, where a call to fill costs more than the stores.
void zero_wrapped(const WindowGeometry& g, const TapRange& t, float* row) {
  if (t.w0 == 0 && t.w1 == g.out_w) return;
  for (int64_t oh = t.h0; oh < t.h1; ++oh) {
    float* r = row + oh * g.out_w;
    if (oh > t.h0)
      for (int64_t ow = 0; ow < t.w0; ++ow) r[ow] = 0.0f;
    if (oh + 1 < t.h1)
      for (int64_t ow = t.w1; ow < g.out_w; ++ow) r[ow] = 0.0f;
  }
}

// col[(c*kh + i)*kw + j, oh*OW + ow] = x[c, oh*sh - pt + i*dh, ow*sw - pl + j*dw] (0 outside),
// for the C channels of one sample.
void im2col(const WindowGeometry& g, const float* x, float* col) {
  const int64_t ohw = g.out_plane();
  const bool shifted = is_shifted_plane(g);
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* xc = x + c * g.in_plane();
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = col + ((c * g.kh + i) * g.kw + j) * ohw;
        const TapRange t = tap_range(g, i, j);
        if (t.h0 >= t.h1 || t.w0 >= t.w1) {
          std::memset(row, 0, sizeof(float) * static_cast<size_t>(ohw));
          continue;
        }
        if (shifted) {
          const int64_t begin = t.h0 * g.out_w + t.w0, end = (t.h1 - 1) * g.out_w + t.w1;
          std::fill(row, row + begin, 0.0f);
          std::memcpy(row + begin, xc + t.shift + begin, sizeof(float) * static_cast<size_t>(end - begin));
          std::fill(row + end, row + ohw, 0.0f);
          zero_wrapped(g, t, row);
          continue;
        }
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          float* r = row + oh * g.out_w;
          if (oh < t.h0 || oh >= t.h1) {
            std::memset(r, 0, sizeof(float) * static_cast<size_t>(g.out_w));
            continue;
          }
          std::fill(r, r + t.w0, 0.0f);
          // Input index of column ow: base + ow * sw (in the plane for ow in [w0, w1)).
          const int64_t base = (oh * g.sh - g.pad_top + i * g.dh) * g.in_w - g.pad_left + j * g.dw;
          if (g.sw == 1) {
            std::memcpy(r + t.w0, xc + base + t.w0, sizeof(float) * static_cast<size_t>(t.w1 - t.w0));
          } else {
            for (int64_t ow = t.w0; ow < t.w1; ++ow) r[ow] = xc[base + ow * g.sw];
          }
          std::fill(r + t.w1, r + g.out_w, 0.0f);
        }
      }
  }
}

// dx[c, ...] += col[...]: im2col's adjoint; dx must be zeroed first. In the shifted-plane case
// the entries of col that im2col would have zeroed are zeroed here too (col is scratch), so
// the rest is added in one contiguous pass.
void col2im(const WindowGeometry& g, float* col, float* dx) {
  const int64_t ohw = g.out_plane();
  const bool shifted = is_shifted_plane(g);
  for (int64_t c = 0; c < g.channels; ++c) {
    float* xc = dx + c * g.in_plane();
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        float* row = col + ((c * g.kh + i) * g.kw + j) * ohw;
        const TapRange t = tap_range(g, i, j);
        if (t.h0 >= t.h1 || t.w0 >= t.w1) continue;
        if (shifted) {
          zero_wrapped(g, t, row);
          const int64_t begin = t.h0 * g.out_w + t.w0, end = (t.h1 - 1) * g.out_w + t.w1;
          float* __restrict__ dst = xc + t.shift + begin;
          const float* __restrict__ src = row + begin;
          for (int64_t k = 0; k < end - begin; ++k) dst[k] += src[k];
          continue;
        }
        for (int64_t oh = t.h0; oh < t.h1; ++oh) {
          const float* r = row + oh * g.out_w;
          const int64_t base = (oh * g.sh - g.pad_top + i * g.dh) * g.in_w - g.pad_left + j * g.dw;
          for (int64_t ow = t.w0; ow < t.w1; ++ow) xc[base + ow * g.sw] += r[ow];
        }
      }
  }
}

// Tasks for work over `items` samples of `macs` multiply-adds in total: one when the pool's cost
// model (core/partition.h) says the work is too small to share, else up to 4 per thread, claimed
// as threads come free, so a thread the OS deschedules (a busy machine) holds up at most a small
// share of the batch. The operands' bytes are small beside the im2col work.
int64_t tasks_for_items(int64_t items, int64_t macs, ThreadPool& pool) {
  const int64_t threads = tasks_for(2.0 * static_cast<double>(macs), 0.0, pool.size());
  return threads == 1 ? 1 : std::min(items, 4 * threads);
}

// The weight gradient's parts: a fixed count (not the thread count, so the sums do not depend
// on it), enough for 8 threads, each part at least kSamplesPerPart samples.
constexpr int64_t kWeightParts = 8, kSamplesPerPart = 2;
int64_t weight_parts(int64_t batch) { return std::clamp<int64_t>(batch / kSamplesPerPart, 1, kWeightParts); }

int64_t conv_macs(const WindowGeometry& g) {
  return g.batch * g.out_channels * g.out_plane() * g.group_in() * g.kernel_area();
}

}  // namespace

// A thread's buffer: col (C*kh*kw x OH*OW), then W^T for the input gradient.
int64_t col_floats(const WindowGeometry& g) {
  return is_pointwise(g) ? 0 : g.channels * g.kernel_area() * g.out_plane();
}
int64_t weight_floats(const WindowGeometry& g) { return g.out_channels * g.group_in() * g.kernel_area(); }

void reserve_conv_scratch(const WindowGeometry& g) {
  const int64_t floats = col_floats(g) + weight_floats(g);
  int64_t seen = g_col_floats.load();
  while (seen < floats && !g_col_floats.compare_exchange_weak(seen, floats)) {}
}

void prepare_conv_thread() { col_buffer(g_col_floats.load()); }

void conv2d(const WindowGeometry& g, const float* x, const float* w, float* y, ThreadPool& pool) {
  const int64_t kg = g.group_in() * g.kernel_area(), og = g.group_out(), ohw = g.out_plane();
  const bool pointwise = is_pointwise(g);
  const int64_t tasks = tasks_for_items(g.batch, conv_macs(g), pool);
  pool.run(tasks, [&](int64_t t) {
    float* col = pointwise ? nullptr : col_buffer(col_floats(g));
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
  const int64_t tasks = tasks_for_items(g.batch, conv_macs(g), pool);
  // Each group's W^T [kg, og], made once per call in the calling thread's buffer (after its
  // col) and read by every task: the GEMM reads a plain A ~10 % faster than a transposed one
  // (measured at conv2's 288 x 196 x 64).
  float* wt = col_buffer(col_floats(g) + weight_floats(g)) + col_floats(g);
  for (int64_t k = 0; k < g.groups; ++k)
    for (int64_t o = 0; o < og; ++o)
      for (int64_t r = 0; r < kg; ++r) wt[(k * kg + r) * og + o] = w[(k * og + o) * kg + r];
  pool.run(tasks, [&](int64_t t) {
    float* col = col_buffer(col_floats(g) + weight_floats(g));  // its col part (the caller's W^T follows it)
    for (int64_t n = g.batch * t / tasks; n < g.batch * (t + 1) / tasks; ++n) {
      const float* dyn = dy + n * g.out_channels * ohw;
      float* dxn = dx + n * g.channels * g.in_plane();
      float* dcol = pointwise ? dxn : col;
      for (int64_t k = 0; k < g.groups; ++k) {
        gemm_serial(false, false, kg, ohw, og, wt + k * kg * og, og, dyn + k * og * ohw, ohw, dcol + k * kg * ohw, ohw,
                    false);
      }
      if (pointwise) continue;
      std::memset(dxn, 0, sizeof(float) * static_cast<size_t>(g.channels * g.in_plane()));
      col2im(g, dcol, dxn);
    }
  });
}

int64_t conv2d_weight_partials(const WindowGeometry& g) {
  return (weight_parts(g.batch) - 1) * g.out_channels * g.group_in() * g.kernel_area();
}

void conv2d_backward_weight(const WindowGeometry& g, const float* x, const float* dy, float* dw, float* partials,
                            ThreadPool& pool) {
  const int64_t kg = g.group_in() * g.kernel_area(), og = g.group_out(), ohw = g.out_plane();
  const int64_t size = g.out_channels * kg;
  const bool pointwise = is_pointwise(g);
  const int64_t parts = weight_parts(g.batch);
  // Part p sums samples [N p / P, N (p + 1) / P) into dw (part 0) or its partials slice.
  pool.run(parts, [&](int64_t p) {
    float* out = p == 0 ? dw : partials + (p - 1) * size;
    float* col = pointwise ? nullptr : col_buffer(col_floats(g));
    const int64_t n0 = g.batch * p / parts, n1 = g.batch * (p + 1) / parts;
    for (int64_t n = n0; n < n1; ++n) {
      const float* xn = x + n * g.channels * g.in_plane();
      if (!pointwise) im2col(g, xn, col);
      const float* b = pointwise ? xn : col;
      const float* dyn = dy + n * g.out_channels * ohw;
      for (int64_t k = 0; k < g.groups; ++k) {
        gemm_serial(false, true, og, kg, ohw, dyn + k * og * ohw, ohw, b + k * kg * ohw, ohw, out + k * og * kg, kg,
                    n > n0);
      }
    }
  });
  if (parts == 1) return;
  // dw += the parts in order, each thread a range of elements.
  pool.parallel_for(size, 16 * 1024, [&](int64_t i0, int64_t i1) {
    for (int64_t p = 1; p < parts; ++p) {
      const float* __restrict__ src = partials + (p - 1) * size;
      float* __restrict__ d = dw;
      for (int64_t i = i0; i < i1; ++i) d[i] += src[i];
    }
  });
}

}  // namespace graphrun::highway
