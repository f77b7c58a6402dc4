// conv2d, add_channels and the pools: hand-computed values, "same" padding, and the bad-input
// messages. Their gradients are checked against finite differences, and every backend against
// the reference, by the rows of tests/backends/consistency_image_cases.cc.
#include <gtest/gtest.h>

#include <array>
#include <functional>

#include "backends/reference/evaluate.h"
#include "core/error.h"
#include "ops/conv.h"

namespace graphrun {
namespace {

Node::Window window(int kh, int kw, int sh = 1, int sw = 1, std::array<int, 4> pad = {0, 0, 0, 0}, int dh = 1,
                    int dw = 1, int groups = 1) {
  Node::Window w;
  w.kernel[0] = kh, w.kernel[1] = kw;
  w.stride[0] = sh, w.stride[1] = sw;
  w.dilation[0] = dh, w.dilation[1] = dw;
  for (int i = 0; i < 4; ++i) w.pad[i] = pad[static_cast<size_t>(i)];
  w.groups = groups;
  return w;
}

TEST(ConvForward, HandComputedValue) {
  // x = 1..9 in a 3x3 plane, w = the 2x2 kernel [[1, 0], [0, -1]], stride 1, no padding:
  // y[i,j] = x[i,j] - x[i+1,j+1] = -4 everywhere.
  Graph g;
  NodeId x = g.input("x", {1, 1, 3, 3});
  NodeId w = g.input("w", {1, 1, 2, 2});
  NodeId y = ops::conv2d(g, x, w, window(2, 2));
  const auto v = reference::evaluate_f64(
      g, 1, {{"x", {{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}}}, {"w", {{1, 1, 2, 2}, {1, 0, 0, -1}}}});
  EXPECT_EQ(v[static_cast<size_t>(y)].values, (std::vector<double>{-4, -4, -4, -4}));
}

Node::Window include_pad(Node::Window w) {
  w.count_include_pad = true;
  return w;
}

TEST(PoolForward, HandComputedValues) {
  // 1..16 in a 4x4 plane; 2x2 windows, stride 2.
  std::vector<double> plane(16);
  for (int i = 0; i < 16; ++i) plane[static_cast<size_t>(i)] = i + 1;
  Graph g;
  NodeId x = g.input("x", {1, 1, 4, 4});
  NodeId mx = ops::max_pool2d(g, x, window(2, 2, 2, 2));
  NodeId av = ops::avg_pool2d(g, x, window(2, 2, 2, 2));
  // 3x3 average with padding 1 at the corner: excl. padding (1+2+5+6)/4, incl. (1+2+5+6)/9.
  NodeId ex = ops::avg_pool2d(g, x, window(3, 3, 3, 3, {1, 1, 1, 1}));
  NodeId in = ops::avg_pool2d(g, x, include_pad(window(3, 3, 3, 3, {1, 1, 1, 1})));
  NodeId gp = ops::global_avg_pool(g, x);
  const auto v = reference::evaluate_f64(g, 1, {{"x", {{1, 1, 4, 4}, plane}}});
  EXPECT_EQ(v[static_cast<size_t>(mx)].values, (std::vector<double>{6, 8, 14, 16}));
  EXPECT_EQ(v[static_cast<size_t>(av)].values, (std::vector<double>{3.5, 5.5, 11.5, 13.5}));
  EXPECT_DOUBLE_EQ(v[static_cast<size_t>(ex)].values[0], 14.0 / 4);
  EXPECT_DOUBLE_EQ(v[static_cast<size_t>(in)].values[0], 14.0 / 9);
  EXPECT_DOUBLE_EQ(v[static_cast<size_t>(gp)].values[0], 8.5);
}

TEST(ConvShapes, SamePadding) {
  auto pads = [](int64_t h, int64_t w, Node::Window win) {
    const Node::Window s = ops::same_padding(h, w, win);
    return std::vector<int>{s.pad[0], s.pad[1], s.pad[2], s.pad[3]};
  };
  EXPECT_EQ(pads(28, 28, window(3, 3)), (std::vector<int>{1, 1, 1, 1}));
  EXPECT_EQ(pads(7, 6, window(3, 3, 2, 2)), (std::vector<int>{1, 0, 1, 1}));  // totals 2 and 1: extra at the end
  EXPECT_EQ(pads(9, 9, window(3, 3, 1, 1, {}, 2, 2)), (std::vector<int>{2, 2, 2, 2}));
  EXPECT_EQ(pads(5, 5, window(2, 2, 2, 2)), (std::vector<int>{0, 0, 1, 1}));
}

// Bad input: Error(Shape) naming the op, the node and what was expected.
void expect_shape_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << part;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Shape) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ConvShapes, BadInputNamesTheNode) {
  Graph g;
  NodeId x = g.input("x", {Shape::kBatch, 4, 5, 5});
  NodeId w3 = g.parameter("w3", {2, 4, 3, 3}, Initializer::zeros());
  NodeId w7 = g.parameter("w7", {2, 4, 7, 7}, Initializer::zeros());
  NodeId wg = g.parameter("wg", {3, 2, 3, 3}, Initializer::zeros());
  expect_shape_error([&] { ops::conv2d(g, x, w3, window(3, 3, 0, 1), "c1"); },
                     "conv2d 'c1': stride height must be at least 1, got 0");
  expect_shape_error(
      [&] {
        ops::conv2d(g, x, w7, window(7, 7, 1, 1, {1, 0, 0, 0}), "c2");
      },
      "conv2d 'c2': kernel 7x7 (dilation 1x1) is larger than its padded input 6x5");
  expect_shape_error([&] { ops::conv2d(g, x, wg, window(3, 3, 1, 1, {}, 1, 1, 2), "c3"); },
                     "conv2d 'c3': input channels 4 and filters 3 must both be divisible by groups 2");
  expect_shape_error([&] { ops::conv2d(g, x, w3, window(3, 2), "c4"); }, "does not match kernel 3x2");
  expect_shape_error(
      [&] {
        ops::max_pool2d(g, x, window(2, 2, 1, 1, {2, 0, 0, 0}), "p1");
      },
      "max_pool2d 'p1': padding 2 must be smaller than the kernel 2");
  expect_shape_error([&] { ops::avg_pool2d(g, x, window(6, 6), "p2"); }, "avg_pool2d 'p2': kernel 6x6");
  NodeId flat = g.input("flat", {Shape::kBatch, 10});
  expect_shape_error([&] { ops::global_avg_pool(g, flat, "gp"); }, "global_avg_pool 'gp': needs an [N,C,H,W] input");
  NodeId bias = g.parameter("bias", {3}, Initializer::zeros());
  expect_shape_error([&] { ops::add_channels(g, x, bias, "b"); }, "add_channels 'b': needs x [N,C,...] and a bias [C]");
}

}  // namespace
}  // namespace graphrun
