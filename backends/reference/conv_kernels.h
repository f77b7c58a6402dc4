// graphrun::reference, the image ops (NCHW): conv2d and its gradients, the channel bias, the
// pools and their gradients. Plain loops over the definitions (ops/window.h), templated on
// T = float or double, every sum in double; each output element is computed on its own
// (gradients gather rather than scatter), so no kernel needs scratch or zeroing. The oracle of
// the Highway and oneDNN kernels. Header-only, single-threaded, never allocates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ops/window.h"

namespace graphrun::reference {

using ops::WindowGeometry;

namespace detail {

// The output position o (row or column) whose window puts kernel tap `tap` on input position
// `in`, or -1 when none does.
inline int64_t window_source(int64_t in, int64_t tap, int64_t stride, int64_t dilation, int64_t pad, int64_t out) {
  const int64_t t = in + pad - tap * dilation;
  if (t < 0 || t % stride != 0 || t / stride >= out) return -1;
  return t / stride;
}

}  // namespace detail

// y[n,o,oh,ow] = sum_{c in o's group, i, j} x[n,c,oh*sh-pt+i*dh, ow*sw-pl+j*dw] * w[o,c',i,j].
template <class T>
void conv2d(const WindowGeometry& g, const T* x, const T* w, T* y) {
  const int64_t cg = g.group_in(), og = g.group_out();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t o = 0; o < g.out_channels; ++o) {
      const int64_t c0 = o / og * cg;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          double acc = 0.0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
              if (ih < 0 || ih >= g.in_h) continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t iw = ow * g.sw - g.pad_left + j * g.dw;
                if (iw < 0 || iw >= g.in_w) continue;
                acc += static_cast<double>(x[((n * g.channels + c0 + c) * g.in_h + ih) * g.in_w + iw]) *
                       static_cast<double>(w[((o * cg + c) * g.kh + i) * g.kw + j]);
              }
            }
          y[((n * g.out_channels + o) * g.out_h + oh) * g.out_w + ow] = static_cast<T>(acc);
        }
    }
}

// dx[n,c,ih,iw] = sum over the outputs whose window reads it of dy * w.
template <class T>
void conv2d_backward_input(const WindowGeometry& g, const T* dy, const T* w, T* dx) {
  const int64_t cg = g.group_in(), og = g.group_out();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c) {
      const int64_t o0 = c / cg * og, cl = c % cg;
      for (int64_t ih = 0; ih < g.in_h; ++ih)
        for (int64_t iw = 0; iw < g.in_w; ++iw) {
          double acc = 0.0;
          for (int64_t o = o0; o < o0 + og; ++o)
            for (int64_t i = 0; i < g.kh; ++i) {
              const int64_t oh = detail::window_source(ih, i, g.sh, g.dh, g.pad_top, g.out_h);
              if (oh < 0) continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                const int64_t ow = detail::window_source(iw, j, g.sw, g.dw, g.pad_left, g.out_w);
                if (ow < 0) continue;
                acc += static_cast<double>(dy[((n * g.out_channels + o) * g.out_h + oh) * g.out_w + ow]) *
                       static_cast<double>(w[((o * cg + cl) * g.kh + i) * g.kw + j]);
              }
            }
          dx[((n * g.channels + c) * g.in_h + ih) * g.in_w + iw] = static_cast<T>(acc);
        }
    }
}

// dw[o,c',i,j] = sum_{n,oh,ow} dy[n,o,oh,ow] * x[n, group(o) + c', oh*sh-pt+i*dh, ow*sw-pl+j*dw].
template <class T>
void conv2d_backward_weight(const WindowGeometry& g, const T* x, const T* dy, T* dw) {
  const int64_t cg = g.group_in(), og = g.group_out();
  for (int64_t o = 0; o < g.out_channels; ++o)
    for (int64_t c = 0; c < cg; ++c) {
      const int64_t cx = o / og * cg + c;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          double acc = 0.0;
          for (int64_t n = 0; n < g.batch; ++n)
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
              const int64_t ih = oh * g.sh - g.pad_top + i * g.dh;
              if (ih < 0 || ih >= g.in_h) continue;
              for (int64_t ow = 0; ow < g.out_w; ++ow) {
                const int64_t iw = ow * g.sw - g.pad_left + j * g.dw;
                if (iw < 0 || iw >= g.in_w) continue;
                acc += static_cast<double>(dy[((n * g.out_channels + o) * g.out_h + oh) * g.out_w + ow]) *
                       static_cast<double>(x[((n * g.channels + cx) * g.in_h + ih) * g.in_w + iw]);
              }
            }
          dw[((o * cg + c) * g.kh + i) * g.kw + j] = static_cast<T>(acc);
        }
    }
}

// y[n,c,p] = x[n,c,p] + b[c] for p over the `plane` elements of a channel (y may alias x).
template <class T>
void add_channels(const T* x, const T* b, T* y, int64_t batch, int64_t channels, int64_t plane) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        const int64_t at = (n * channels + c) * plane + p;
        y[at] = x[at] + b[c];
      }
}

// y[c] = sum_{n,p} x[n,c,p].
template <class T>
void sum_channels(const T* x, T* y, int64_t batch, int64_t channels, int64_t plane) {
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0.0;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t p = 0; p < plane; ++p) acc += x[(n * channels + c) * plane + p];
    y[c] = static_cast<T>(acc);
  }
}

namespace detail {

// Index within the plane of the first maximum of window (oh, ow) (padding never wins).
template <class T>
int64_t window_argmax(const WindowGeometry& g, const T* plane, int64_t oh, int64_t ow) {
  int64_t best = -1;
  T max = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t ih = oh * g.sh - g.pad_top + i;
    if (ih < 0 || ih >= g.in_h) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t iw = ow * g.sw - g.pad_left + j;
      if (iw < 0 || iw >= g.in_w) continue;
      const T v = plane[ih * g.in_w + iw];
      if (best < 0 || v > max) {
        max = v;
        best = ih * g.in_w + iw;
      }
    }
  }
  return best;
}

// The avg_pool divisor of window (oh, ow): the kernel area, or its part inside the input.
inline double window_count(const WindowGeometry& g, int64_t oh, int64_t ow) {
  if (g.count_include_pad) return static_cast<double>(g.kh * g.kw);
  const int64_t h0 = oh * g.sh - g.pad_top, w0 = ow * g.sw - g.pad_left;
  const int64_t h = std::min(h0 + g.kh, g.in_h) - std::max<int64_t>(h0, 0);
  const int64_t w = std::min(w0 + g.kw, g.in_w) - std::max<int64_t>(w0, 0);
  return static_cast<double>(h * w);
}

}  // namespace detail

// Pools: the window slides over each of the batch * channels planes.
template <class T>
void max_pool2d(const WindowGeometry& g, const T* x, T* y) {
  for (int64_t p = 0; p < g.batch * g.channels; ++p) {
    const T* plane = x + p * g.in_plane();
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow)
        y[(p * g.out_h + oh) * g.out_w + ow] = plane[detail::window_argmax(g, plane, oh, ow)];
  }
}

// dx[i] = sum of dy over the windows whose first maximum is x[i].
template <class T>
void max_pool2d_backward(const WindowGeometry& g, const T* x, const T* dy, T* dx) {
  for (int64_t p = 0; p < g.batch * g.channels; ++p) {
    const T* plane = x + p * g.in_plane();
    for (int64_t ih = 0; ih < g.in_h; ++ih)
      for (int64_t iw = 0; iw < g.in_w; ++iw) {
        double acc = 0.0;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t oh = detail::window_source(ih, i, g.sh, 1, g.pad_top, g.out_h);
          if (oh < 0) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t ow = detail::window_source(iw, j, g.sw, 1, g.pad_left, g.out_w);
            if (ow < 0 || detail::window_argmax(g, plane, oh, ow) != ih * g.in_w + iw) continue;
            acc += dy[(p * g.out_h + oh) * g.out_w + ow];
          }
        }
        dx[p * g.in_plane() + ih * g.in_w + iw] = static_cast<T>(acc);
      }
  }
}

template <class T>
void avg_pool2d(const WindowGeometry& g, const T* x, T* y) {
  for (int64_t p = 0; p < g.batch * g.channels; ++p) {
    const T* plane = x + p * g.in_plane();
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        double acc = 0.0;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t ih = oh * g.sh - g.pad_top + i;
          if (ih < 0 || ih >= g.in_h) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t iw = ow * g.sw - g.pad_left + j;
            if (iw >= 0 && iw < g.in_w) acc += plane[ih * g.in_w + iw];
          }
        }
        y[(p * g.out_h + oh) * g.out_w + ow] = static_cast<T>(acc / detail::window_count(g, oh, ow));
      }
  }
}

template <class T>
void avg_pool2d_backward(const WindowGeometry& g, const T* dy, T* dx) {
  for (int64_t p = 0; p < g.batch * g.channels; ++p)
    for (int64_t ih = 0; ih < g.in_h; ++ih)
      for (int64_t iw = 0; iw < g.in_w; ++iw) {
        double acc = 0.0;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t oh = detail::window_source(ih, i, g.sh, 1, g.pad_top, g.out_h);
          if (oh < 0) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t ow = detail::window_source(iw, j, g.sw, 1, g.pad_left, g.out_w);
            if (ow >= 0) acc += dy[(p * g.out_h + oh) * g.out_w + ow] / detail::window_count(g, oh, ow);
          }
        }
        dx[p * g.in_plane() + ih * g.in_w + iw] = static_cast<T>(acc);
      }
}

// y[r] = mean of the `plane` elements of row r (rows = batch * channels).
template <class T>
void global_avg_pool(const T* x, T* y, int64_t rows, int64_t plane) {
  for (int64_t r = 0; r < rows; ++r) {
    double acc = 0.0;
    for (int64_t p = 0; p < plane; ++p) acc += x[r * plane + p];
    y[r] = static_cast<T>(acc / static_cast<double>(plane));
  }
}

// dx[r,p] = dy[r] / plane.
template <class T>
void global_avg_pool_backward(const T* dy, T* dx, int64_t rows, int64_t plane) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < plane; ++p)
      dx[r * plane + p] = static_cast<T>(static_cast<double>(dy[r]) / static_cast<double>(plane));
}

}  // namespace graphrun::reference
