// The image ops' rows of the consistency table (conv2d with its bias, the pools): odd shapes
// (1, 3, 7, 17, 31 in each spatial and channel dimension), strides 1-3, padding valid / same /
// explicit, dilation 2, groups 2 and depthwise, pointwise and whole-input kernels. The small
// rows are also the finite-difference checks of these ops' gradients.
#include <algorithm>
#include <array>
#include <sstream>

#include "ops/conv.h"
#include "tests/backends/consistency.h"

namespace graphrun::testing {
namespace {

Node::Window window(int kh, int kw, int sh, int sw, std::array<int, 4> pad = {}, int dilation = 1, int groups = 1) {
  Node::Window w;
  w.kernel[0] = kh, w.kernel[1] = kw;
  w.stride[0] = sh, w.stride[1] = sw;
  w.dilation[0] = w.dilation[1] = dilation;
  for (int i = 0; i < 4; ++i) w.pad[i] = pad[static_cast<size_t>(i)];
  w.groups = groups;
  return w;
}

Node::Window same(const Shape& x, Node::Window w) { return ops::same_padding(x[2], x[3], w); }

std::string describe(const Shape& x, const Node::Window& w) {
  std::ostringstream s;
  s << x.str() << " k" << w.kernel[0] << "x" << w.kernel[1] << " s" << w.stride[0] << "x" << w.stride[1] << " d"
    << w.dilation[0] << " g" << w.groups << " pad" << w.pad[0] << "," << w.pad[1] << "," << w.pad[2] << "," << w.pad[3]
    << (w.count_include_pad ? " incl" : "");
  return s.str();
}

// conv2d(x, w) + b over channels; the tolerance grows with the longest sum (a weight gradient
// sums batch x output plane products).
void conv_row(Table& t, const Shape& xs, int64_t filters, const Node::Window& w) {
  const Shape ws{filters, xs[1] / w.groups, w.kernel[0], w.kernel[1]};
  const double longest = static_cast<double>(std::max(ws[1] * ws[2] * ws[3], xs[0] * xs[2] * xs[3]));
  t.add("conv2d " + describe(xs, w) + " o" + std::to_string(filters), {in(xs), in(ws), in({filters})},
        BUILD(ops::add_channels(g, ops::conv2d(g, x[0], x[1], w), x[2])))
      .tolerance(2e-6 * longest + 1e-5, 1e-5)
      .fd(2e-6);
}

void pool_row(Table& t, const char* op, const Shape& xs, const Node::Window& w) {
  const bool max = std::string(op) == "max_pool2d";
  t.add(std::string(op) + " " + describe(xs, w), {in(xs)},
        max ? Build(BUILD(ops::max_pool2d(g, x[0], w))) : Build(BUILD(ops::avg_pool2d(g, x[0], w))));
}

}  // namespace

void image_rows(Table& t) {
  // Each channel and spatial size over 1, 3, 7, 17, 31 with the others small.
  for (int64_t n : {1, 3, 7, 17, 31}) {
    conv_row(t, {2, n, 7, 5}, 3, same({2, n, 7, 5}, window(3, 3, 1, 1)));
    conv_row(t, {3, 3, 6, 5}, n, same({3, 3, 6, 5}, window(3, 3, 2, 2)));
    conv_row(t, {2, 2, n, 9}, 4, same({2, 2, n, 9}, window(3, 3, 1, 1)));
    conv_row(t, {2, 2, 5, n}, 4, same({2, 2, 5, n}, window(3, 3, 3, 3)));
  }
  conv_row(t, {2, 3, 7, 5}, 4, window(3, 3, 1, 1));  // valid
  conv_row(t, {2, 3, 17, 31}, 5, window(3, 3, 1, 1));
  conv_row(t, {1, 2, 9, 8}, 3, window(3, 2, 3, 2, {1, 0, 2, 1}));  // explicit, asymmetric
  conv_row(t, {2, 4, 7, 7}, 3, window(2, 2, 2, 2, {0, 1, 1, 0}));
  conv_row(t, {2, 2, 9, 7}, 2, window(3, 3, 1, 1, {2, 2, 2, 2}, 2));  // dilation 2
  conv_row(t, {2, 3, 17, 13}, 5, same({2, 3, 17, 13}, window(3, 3, 1, 1, {}, 2)));
  conv_row(t, {2, 4, 6, 5}, 6, window(3, 3, 1, 1, {1, 1, 1, 1}, 1, 2));  // groups 2
  conv_row(t, {2, 3, 6, 7}, 3, window(3, 3, 2, 2, {1, 1, 1, 1}, 1, 3));  // depthwise
  conv_row(t, {3, 7, 17, 9}, 7, same({3, 7, 17, 9}, window(3, 3, 2, 2, {}, 1, 7)));
  conv_row(t, {2, 3, 4, 5}, 5, window(1, 1, 1, 1));  // pointwise
  conv_row(t, {2, 3, 7, 9}, 5, window(1, 1, 2, 2));
  conv_row(t, {3, 2, 3, 4}, 1, window(3, 4, 1, 1));                             // kernel = input
  conv_row(t, {4, 32, 14, 14}, 64, same({4, 32, 14, 14}, window(3, 3, 1, 1)));  // the CNN's conv2

  for (const char* op : {"max_pool2d", "avg_pool2d"}) {
    for (int64_t n : {1, 3, 7, 17, 31}) {
      pool_row(t, op, {2, n, 7, 6}, window(2, 2, 2, 2));
      pool_row(t, op, {2, 3, n, 9}, same({2, 3, n, 9}, window(3, 3, 1, 1)));
      pool_row(t, op, {3, 2, 8, n}, same({3, 2, 8, n}, window(3, 3, 3, 3)));
    }
    pool_row(t, op, {2, 1, 8, 5}, window(3, 2, 3, 1, {1, 0, 2, 1}));
    pool_row(t, op, {2, 3, 17, 31}, window(3, 3, 2, 2, {1, 0, 2, 1}));
    pool_row(t, op, {4, 32, 28, 28}, window(2, 2, 2, 2));  // the CNN's first pool
  }
  Node::Window incl = window(3, 3, 2, 1, {1, 1, 1, 1});
  incl.count_include_pad = true;
  pool_row(t, "avg_pool2d", {1, 2, 5, 4}, incl);
  pool_row(t, "avg_pool2d", {2, 3, 17, 31}, same({2, 3, 17, 31}, incl));

  for (const Shape& xs : {Shape{1, 1, 1, 1}, Shape{2, 3, 5, 7}, Shape{3, 17, 7, 7}, Shape{2, 31, 1, 3}}) {
    t.add("global_avg_pool " + xs.str(), {in(xs)}, BUILD(ops::global_avg_pool(g, x[0])));
  }
  t.add("global_avg_pool batch [N,3,5,7]", {in({Shape::kBatch, 3, 5, 7})}, BUILD(ops::global_avg_pool(g, x[0])))
      .with_batch(3);
}

}  // namespace graphrun::testing
