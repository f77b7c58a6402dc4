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

// The part of window (oh, ow) inside the input: rows [h0, h1), columns [w0, w1).
struct Span {
  int64_t h0, h1, w0, w1;
};
inline Span window_span(const WindowGeometry& g, int64_t oh, int64_t ow) {
  const int64_t h = oh * g.sh - g.pad_top, w = ow * g.sw - g.pad_left;
  return {std::max<int64_t>(h, 0), std::min(h + g.kh, g.in_h), std::max<int64_t>(w, 0), std::min(w + g.kw, g.in_w)};
}

// Index in the plane of the first maximum of the span (row by row, strict >, as the reference).
inline int64_t span_argmax(const WindowGeometry& g, const float* xs, const Span& s) {
  int64_t best = s.h0 * g.in_w + s.w0;
  float m = xs[best];
  for (int64_t ih = s.h0; ih < s.h1; ++ih)
    for (int64_t iw = s.w0; iw < s.w1; ++iw)
      if (xs[ih * g.in_w + iw] > m) m = xs[best = ih * g.in_w + iw];
  return best;
}

// 2x2 windows with stride 2 and no padding (the usual pool): each output row reads two input
// rows, with no bounds to check.
bool is_2x2_stride2(const WindowGeometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 &&
         g.pad_right == 0;
}

void max_pool_plane(const WindowGeometry& g, const float* __restrict__ xs, float* __restrict__ ys) {
  if (is_2x2_stride2(g)) {
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const float* r0 = xs + 2 * oh * g.in_w;
      const float* r1 = r0 + g.in_w;
      float* y = ys + oh * g.out_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const float a = std::max(r0[2 * ow], r0[2 * ow + 1]), b = std::max(r1[2 * ow], r1[2 * ow + 1]);
        y[ow] = std::max(a, b);
      }
    }
    return;
  }
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow) ys[oh * g.out_w + ow] = xs[span_argmax(g, xs, window_span(g, oh, ow))];
}

void max_pool_backward_plane(const WindowGeometry& g, const float* __restrict__ xs, const float* __restrict__ dys,
                             float* __restrict__ dxs) {
  if (is_2x2_stride2(g)) {
    // Windows do not overlap: each covered element gets its window's dy or 0, written row by
    // row as dy times a 0/1 mask (branches on the argmax mispredict half the time on real
    // data: 17x slower, measured);
    // a last odd row or column belongs to no window. (A non-finite dy also reaches the other
    // three elements as NaN: such a step is lost either way.)
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const float* r0 = xs + 2 * oh * g.in_w;
      const float* r1 = r0 + g.in_w;
      float* d0 = dxs + 2 * oh * g.in_w;
      float* d1 = d0 + g.in_w;
      const float* dy = dys + oh * g.out_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
        // The first maximum in the order a, b, c, d.
        const float ab = std::max(a, b), cd = std::max(c, d);
        const int top = !(cd > ab), first_a = !(b > a), first_c = !(d > c);
        const float v = dy[ow];
        d0[2 * ow] = v * static_cast<float>(top & first_a);
        d0[2 * ow + 1] = v * static_cast<float>(top & (first_a ^ 1));
        d1[2 * ow] = v * static_cast<float>((top ^ 1) & first_c);
        d1[2 * ow + 1] = v * static_cast<float>((top ^ 1) & (first_c ^ 1));
      }
      if (g.in_w % 2) d0[g.in_w - 1] = d1[g.in_w - 1] = 0.0f;
    }
    if (g.in_h % 2) std::memset(dxs + (g.in_h - 1) * g.in_w, 0, sizeof(float) * static_cast<size_t>(g.in_w));
    return;
  }
  std::memset(dxs, 0, sizeof(float) * static_cast<size_t>(g.in_plane()));
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    for (int64_t ow = 0; ow < g.out_w; ++ow) dxs[span_argmax(g, xs, window_span(g, oh, ow))] += dys[oh * g.out_w + ow];
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
    for (int64_t p = p0; p < p1; ++p) max_pool_plane(g, x + p * g.in_plane(), y + p * g.out_plane());
  });
}

// dy goes to the first maximum of each window (the reference's rule), found again from x.
void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx, ThreadPool& pool) {
  for_planes(pool, g.batch * g.channels, g.in_plane(), [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      max_pool_backward_plane(g, x + p * g.in_plane(), dy + p * g.out_plane(), dx + p * g.in_plane());
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
          const Span w = window_span(g, oh, ow);
          float acc = 0.0f;
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) acc += xs[ih * g.in_w + iw];
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
          const Span w = window_span(g, oh, ow);
          const float v = dys[oh * g.out_w + ow] / window_count(g, oh, ow);
          for (int64_t ih = w.h0; ih < w.h1; ++ih)
            for (int64_t iw = w.w0; iw < w.w1; ++iw) dxs[ih * g.in_w + iw] += v;
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
    for (int64_t r = r0; r < r1; ++r)
      std::fill(dx + r * plane, dx + (r + 1) * plane, dy[r] / static_cast<float>(plane));
  });
}

}  // namespace graphrun::highway
