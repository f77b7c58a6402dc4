// Pools and the channel bias for graphrun::highway (NCHW). Plain C++ loops the compiler
// vectorizes: these ops read each element a few times and are bound by memory, not arithmetic.
// Work is split over the batch * channels planes (or, for the channel sums, over channels), so
// each output element is computed by one thread in one order, whatever the thread count.
#include <algorithm>
#include <cstring>
#include <limits>

#include "backends/highway/kernels.h"
#include "backends/highway/parallel.h"

namespace graphrun::highway {
namespace {

// Runs f(p0, p1) over ranges of the `planes` planes of `plane` elements each.
template <class F>
void for_planes(ThreadPool& pool, int64_t planes, int64_t plane, F&& f) {
  pool.parallel_for(planes, detail::row_grain(plane), [&](int64_t p0, int64_t p1) { f(p0, p1); });
}

// The avg_pool divisor of window (oh, ow).
float window_count(const WindowGeometry& g, int64_t oh, int64_t ow) {
  if (g.count_include_pad) return static_cast<float>(g.kh * g.kw);
  const int64_t h0 = oh * g.sh - g.pad_top, w0 = ow * g.sw - g.pad_left;
  const int64_t h = std::min(h0 + g.kh, g.in_h) - std::max<int64_t>(h0, 0);
  const int64_t w = std::min(w0 + g.kw, g.in_w) - std::max<int64_t>(w0, 0);
  return static_cast<float>(h * w);
}

// f(oh, ow, index) for every input element of window (oh, ow), row by row.
template <class F>
inline void for_window(const WindowGeometry& g, int64_t oh, int64_t ow, F&& f) {
  const int64_t h0 = std::max<int64_t>(oh * g.sh - g.pad_top, 0), h1 = std::min(oh * g.sh - g.pad_top + g.kh, g.in_h);
  const int64_t w0 = std::max<int64_t>(ow * g.sw - g.pad_left, 0), w1 = std::min(ow * g.sw - g.pad_left + g.kw, g.in_w);
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) f(ih * g.in_w + iw);
}

}  // namespace

void add_channels(const float* x, const float* b, float* y, int64_t batch, int64_t channels, int64_t plane,
                  ThreadPool& pool) {
  for_planes(pool, batch * channels, plane, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float v = b[p % channels];
      const float* __restrict__ xs = x + p * plane;
      float* __restrict__ ys = y + p * plane;
      for (int64_t i = 0; i < plane; ++i) ys[i] = xs[i] + v;
    }
  });
}

void sum_channels(const float* x, float* y, int64_t batch, int64_t channels, int64_t plane, ThreadPool& pool) {
  pool.parallel_for(channels, detail::row_grain(batch * plane), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double total = 0.0;
      for (int64_t n = 0; n < batch; ++n) {
        const float* xs = x + (n * channels + c) * plane;
        float acc[8] = {};
        int64_t i = 0;
        for (; i + 8 <= plane; i += 8)
          for (int k = 0; k < 8; ++k) acc[k] += xs[i + k];
        for (; i < plane; ++i) acc[0] += xs[i];
        for (float a : acc) total += a;
      }
      y[c] = static_cast<float>(total);
    }
  });
}

void max_pool2d(const WindowGeometry& g, const float* x, float* y, ThreadPool& pool) {
  for_planes(pool, g.batch * g.channels, g.in_plane(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xs = x + p * g.in_plane();
      float* ys = y + p * g.out_plane();
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          float m = -std::numeric_limits<float>::infinity();
          bool first = true;
          for_window(g, oh, ow, [&](int64_t i) {
            if (first || xs[i] > m) m = xs[i];
            first = false;
          });
          ys[oh * g.out_w + ow] = m;
        }
    }
  });
}

// dy goes to the first maximum of each window (the reference's rule), found again from x.
void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx, ThreadPool& pool) {
  for_planes(pool, g.batch * g.channels, g.in_plane(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xs = x + p * g.in_plane();
      const float* dys = dy + p * g.out_plane();
      float* dxs = dx + p * g.in_plane();
      std::memset(dxs, 0, sizeof(float) * static_cast<size_t>(g.in_plane()));
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          int64_t best = -1;
          for_window(g, oh, ow, [&](int64_t i) {
            if (best < 0 || xs[i] > xs[best]) best = i;
          });
          dxs[best] += dys[oh * g.out_w + ow];
        }
    }
  });
}

void avg_pool2d(const WindowGeometry& g, const float* x, float* y, ThreadPool& pool) {
  for_planes(pool, g.batch * g.channels, g.in_plane(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* xs = x + p * g.in_plane();
      float* ys = y + p * g.out_plane();
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          float acc = 0.0f;
          for_window(g, oh, ow, [&](int64_t i) { acc += xs[i]; });
          ys[oh * g.out_w + ow] = acc / window_count(g, oh, ow);
        }
    }
  });
}

void avg_pool2d_backward(const WindowGeometry& g, const float* dy, float* dx, ThreadPool& pool) {
  for_planes(pool, g.batch * g.channels, g.in_plane(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const float* dys = dy + p * g.out_plane();
      float* dxs = dx + p * g.in_plane();
      std::memset(dxs, 0, sizeof(float) * static_cast<size_t>(g.in_plane()));
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          const float v = dys[oh * g.out_w + ow] / window_count(g, oh, ow);
          for_window(g, oh, ow, [&](int64_t i) { dxs[i] += v; });
        }
    }
  });
}

void global_avg_pool(const float* x, float* y, int64_t rows, int64_t plane, ThreadPool& pool) {
  for_planes(pool, rows, plane, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double acc = 0.0;
      for (int64_t i = 0; i < plane; ++i) acc += x[r * plane + i];
      y[r] = static_cast<float>(acc / static_cast<double>(plane));
    }
  });
}

void global_avg_pool_backward(const float* dy, float* dx, int64_t rows, int64_t plane, ThreadPool& pool) {
  for_planes(pool, rows, plane, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::fill(dx + r * plane, dx + (r + 1) * plane, dy[r] / static_cast<float>(plane));
  });
}

}  // namespace graphrun::highway
