// The geometry of a sliding window over an NCHW tensor (conv2d and the pools), shared by the
// shape rules and every backend's kernels. Header-only; depends on core alone.
//
// Output size per spatial dim: (in + pad_lo + pad_hi - dilation * (kernel - 1) - 1) / stride + 1.
// Input row of output row oh and kernel row i: oh * stride - pad_top + i * dilation (outside
// [0, in) it is padding: zero for conv and avg_pool, never the max for max_pool).
#pragma once

#include <cstdint>

#include "core/graph.h"

namespace graphrun::ops {

struct WindowGeometry {
  int64_t batch = 0, channels = 0, in_h = 0, in_w = 0;  // x [N, C, H, W]
  int64_t out_channels = 0, out_h = 0, out_w = 0;       // y [N, O, OH, OW] (pools: O == C)
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t groups = 1;
  bool count_include_pad = false;

  int64_t in_plane() const { return in_h * in_w; }
  int64_t out_plane() const { return out_h * out_w; }
  int64_t kernel_area() const { return kh * kw; }
  int64_t group_in() const { return channels / groups; }       // input channels per group
  int64_t group_out() const { return out_channels / groups; }  // output channels per group
};

// Output length of one spatial dimension; <= 0 when the dilated kernel is larger than the
// padded input.
inline int64_t window_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_lo,
                                  int64_t pad_hi) {
  const int64_t span = dilation * (kernel - 1) + 1;
  const int64_t padded = in + pad_lo + pad_hi;
  if (padded < span || stride <= 0) return 0;
  return (padded - span) / stride + 1;
}

// x and y are concrete [N, C, H, W] and [N, O, OH, OW] shapes.
inline WindowGeometry window_geometry(const Shape& x, const Shape& y, const Node::Window& w) {
  WindowGeometry g;
  g.batch = x[0];
  g.channels = x[1];
  g.in_h = x[2];
  g.in_w = x[3];
  g.out_channels = y[1];
  g.out_h = y[2];
  g.out_w = y[3];
  g.kh = w.kernel[0];
  g.kw = w.kernel[1];
  g.sh = w.stride[0];
  g.sw = w.stride[1];
  g.dh = w.dilation[0];
  g.dw = w.dilation[1];
  g.pad_top = w.pad[0];
  g.pad_left = w.pad[1];
  g.pad_bottom = w.pad[2];
  g.pad_right = w.pad[3];
  g.groups = w.groups;
  g.count_include_pad = w.count_include_pad;
  return g;
}

}  // namespace graphrun::ops
