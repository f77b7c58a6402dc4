// The image ops on oneDNN against the reference, forward and every gradient, on odd shapes
// (1, 3, 7, 17, 31 in each spatial and channel dimension), strides 1-3, padding valid / same /
// explicit, dilation 2, groups 2 and depthwise; every node runs on oneDNN. Each case is a row
// (shapes and window) so it can move into the backend consistency table as it is.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <sstream>

#include "ops/conv.h"
#include "tests/backends/onednn_check_op.h"

namespace graphrun {
namespace {

using testing::check_op;

Node::Window window(int k, int s, std::array<int, 4> pad = {}, int d = 1, int groups = 1) {
  Node::Window w;
  w.kernel[0] = w.kernel[1] = k;
  w.stride[0] = w.stride[1] = s;
  w.dilation[0] = w.dilation[1] = d;
  for (int i = 0; i < 4; ++i) w.pad[i] = pad[static_cast<size_t>(i)];
  w.groups = groups;
  return w;
}

template <class... A>
std::string cat(const A&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Every image-op node (forward and gradient) ran on oneDNN.
void expect_all_native(const testing::OpCheck& c) {
  for (const ScheduledNode& s : c.onednn->schedule()) {
    const OpKind op = c.g->node(s.node).op;
    const OpKind image_ops[] = {OpKind::Conv2d,         OpKind::Conv2dGradInput, OpKind::Conv2dGradWeight,
                                OpKind::AddChannels,    OpKind::SumChannels,     OpKind::MaxPool2d,
                                OpKind::MaxPool2dGrad,  OpKind::AvgPool2d,       OpKind::AvgPool2dGrad,
                                OpKind::GlobalAvgPool,  OpKind::GlobalAvgPoolGrad};
    if (std::find(std::begin(image_ops), std::end(image_ops), op) == std::end(image_ops)) continue;
    EXPECT_EQ(s.backend, "onednn") << c.g->node(s.node).name << ": " << s.declined;
  }
}

struct ConvRow {
  Shape x;
  int64_t filters;
  Node::Window window;
  bool same;
};

TEST(OnednnConv, Conv2dWithBiasForwardAndGradients) {
  std::vector<ConvRow> rows;
  for (int64_t size : {1, 3, 7, 17, 31}) {
    rows.push_back({{2, size, 7, 5}, 3, window(3, 1), true});
    rows.push_back({{3, 3, 6, 5}, size, window(3, 2), true});
    rows.push_back({{2, 2, size, 9}, 4, window(3, 1), true});
    rows.push_back({{2, 2, 5, size}, 4, window(3, 3), true});
  }
  rows.push_back({{2, 3, 17, 31}, 5, window(3, 1), false});
  rows.push_back({{2, 3, 9, 8}, 4, window(3, 3, {1, 0, 2, 1}), false});
  rows.push_back({{2, 3, 17, 13}, 5, window(3, 1, {}, 2), true});
  rows.push_back({{2, 6, 9, 7}, 4, window(3, 1, {}, 1, 2), true});
  rows.push_back({{3, 7, 17, 9}, 7, window(3, 2, {}, 1, 7), true});
  rows.push_back({{2, 17, 7, 9}, 31, window(1, 1), false});
  rows.push_back({{4, 32, 14, 14}, 64, window(3, 1), true});  // the CNN's second conv
  for (const ConvRow& r : rows) {
    const Node::Window win = r.same ? ops::same_padding(r.x[2], r.x[3], r.window) : r.window;
    const Shape w{r.filters, r.x[1] / win.groups, win.kernel[0], win.kernel[1]};
    const std::string what = cat("conv2d x", r.x.str(), " w", w.str(), " s", win.stride[0], " d", win.dilation[0],
                                 " g", win.groups, " pad ", win.pad[0], ",", win.pad[1], ",", win.pad[2], ",", win.pad[3]);
    const double depth = static_cast<double>(w[1] * w[2] * w[3] + r.x[0] * r.x[2] * r.x[3]);
    auto c = check_op(what, {r.x, w, Shape{r.filters}},
                      [&](Graph& g, const std::vector<NodeId>& in) {
                        return ops::add_channels(g, ops::conv2d(g, in[0], in[1], win), in[2]);
                      },
                      2e-6 * depth + 1e-5, 1e-5);
    expect_all_native(c);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(OnednnConv, PoolsForwardAndGradients) {
  std::vector<std::pair<Shape, Node::Window>> rows;
  for (int64_t size : {1, 3, 7, 17, 31}) {
    rows.push_back({{2, size, 7, 6}, window(2, 2)});
    rows.push_back({{2, 3, size, 9}, ops::same_padding(size, 9, window(3, 1))});
    rows.push_back({{3, 2, 8, size}, ops::same_padding(8, size, window(3, 3))});
  }
  rows.push_back({{2, 3, 17, 31}, window(3, 2, {1, 0, 2, 1})});
  rows.push_back({{32, 32, 28, 28}, window(2, 2)});  // the CNN's first pool
  for (auto [x, win] : rows) {
    for (int kind = 0; kind < 3; ++kind) {
      win.count_include_pad = kind == 2;
      const std::string what = cat(kind == 0 ? "max" : kind == 1 ? "avg excl" : "avg incl", " x", x.str(), " k",
                                   win.kernel[0], " s", win.stride[0], " pad ", win.pad[0], ",", win.pad[1], ",",
                                   win.pad[2], ",", win.pad[3]);
      auto c = check_op(what, {x}, [&](Graph& g, const std::vector<NodeId>& in) {
        return kind == 0 ? ops::max_pool2d(g, in[0], win) : ops::avg_pool2d(g, in[0], win);
      });
      expect_all_native(c);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(OnednnConv, GlobalAvgPoolAndChannelSums) {
  for (const Shape& x : {Shape{1, 1, 1, 1}, Shape{2, 3, 5, 7}, Shape{3, 17, 7, 7}, Shape{2, 31, 1, 3}}) {
    auto c = check_op(cat("global_avg_pool x", x.str()), {x},
                      [](Graph& g, const std::vector<NodeId>& in) { return ops::global_avg_pool(g, in[0]); });
    expect_all_native(c);
    auto s = check_op(cat("sum_channels x", x.str()), {x},
                      [](Graph& g, const std::vector<NodeId>& in) { return ops::sum_channels(g, in[0]); }, 1e-4, 1e-5,
                      -1.0f, 1.0f, 0);
    if (x[0] * x[2] * x[3] > 1) expect_all_native(s);
  }
}

TEST(OnednnConv, DeclineReasonForAChannelSumThatReducesNothing) {
  auto c = check_op("sum_channels [1,5,1,1]", {Shape{1, 5, 1, 1}},
                    [](Graph& g, const std::vector<NodeId>& in) { return ops::sum_channels(g, in[0]); }, 1e-6, 1e-6,
                    -1.0f, 1.0f, 0);
  const ScheduledNode* s = c.scheduled(OpKind::SumChannels);
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s->backend, "onednn");
  EXPECT_NE(s->declined.find("reduces nothing"), std::string::npos) << s->declined;
}

}  // namespace
}  // namespace graphrun
