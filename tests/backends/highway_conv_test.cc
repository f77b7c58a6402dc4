// Highway conv2d (forward, input and weight gradients), channel bias and pools against the
// reference kernels, on odd shapes: 1, 3, 7, 17, 31 in each spatial and channel dimension,
// strides 1-3, padding valid / same / explicit, dilation 2, groups 1 / 2 / depthwise, a
// pointwise kernel, with 1, 2 and 3 threads, on every compiled Highway target. Each case is a
// row (shapes and window) so it can move into the backend consistency table as it is.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "backends/highway/kernels.h"
#include "backends/reference/conv_kernels.h"
#include "core/thread_pool.h"
#include "ops/conv.h"
#include "tests/backends/highway_targets.h"

namespace graphrun {
namespace {

using ops::WindowGeometry;

class HighwayConv : public HighwayTargetTest {};
GRAPHRUN_INSTANTIATE_FOR_HIGHWAY_TARGETS(HighwayConv);

ThreadPool& pool_of(int threads) {
  static ThreadPool one(1), two(2), three(3);
  return threads == 1 ? one : threads == 2 ? two : three;
}

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// The parts written one after another (GCC 12 warns falsely on chains of std::string +).
template <class... A>
std::string cat(const A&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// |got - want| <= tol * (1 + |want|): float sums of `depth` products of values in [-1, 1]
// against the reference's double sums.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, int64_t depth,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double tol = 1e-6 * static_cast<double>(4 + depth);
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(double(got[i]) - want[i]) <= tol * (1 + std::abs(double(want[i]))))) {
      ADD_FAILURE() << what << ": [" << i << "] = " << got[i] << ", reference " << want[i];
      return;
    }
  }
}

struct Case {
  std::string name;
  WindowGeometry g;
};

// x [n, c, h, w], o filters, a k x k window with stride s, dilation d, groups, padding:
// "valid", "same" or explicit {top, left, bottom, right}.
Case make_case(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int k, int s, const std::string& padding,
               std::array<int, 4> pad = {}, int d = 1, int groups = 1) {
  Node::Window win;
  win.kernel[0] = win.kernel[1] = k;
  win.stride[0] = win.stride[1] = s;
  win.dilation[0] = win.dilation[1] = d;
  win.groups = groups;
  if (padding == "same") win = ops::same_padding(h, w, win);
  if (padding == "explicit")
    for (int i = 0; i < 4; ++i) win.pad[i] = pad[static_cast<size_t>(i)];
  const int64_t oh = ops::window_output_size(h, k, s, d, win.pad[0], win.pad[2]);
  const int64_t ow = ops::window_output_size(w, k, s, d, win.pad[1], win.pad[3]);
  std::ostringstream name;
  name << "x[" << n << "," << c << "," << h << "," << w << "] o" << o << " k" << k << " s" << s << " d" << d << " g"
       << groups << " " << padding;
  const Case out{name.str(), ops::window_geometry(Shape{n, c, h, w}, Shape{n, o, oh, ow}, win)};
  return out;
}

std::vector<Case> conv_cases() {
  std::vector<Case> cases;
  for (int64_t size : {1, 3, 7, 17, 31}) {
    cases.push_back(make_case(2, size, 7, 5, 3, 3, 1, "same"));  // input channels
    cases.push_back(make_case(3, 3, 6, 5, size, 3, 2, "same"));  // filters
    cases.push_back(make_case(2, 2, size, 9, 4, 3, 1, "same"));  // height
    cases.push_back(make_case(2, 2, 5, size, 4, 3, 3, "same"));  // width
    cases.push_back(make_case(size, 2, 5, 4, 3, 3, 2, "same"));  // batch (threads split samples)
  }
  cases.push_back(make_case(2, 3, 17, 31, 5, 3, 1, "valid"));
  cases.push_back(make_case(3, 7, 31, 17, 17, 5, 2, "valid"));
  cases.push_back(make_case(2, 3, 9, 8, 4, 3, 3, "explicit", {1, 0, 2, 1}));
  cases.push_back(make_case(2, 4, 7, 7, 3, 2, 2, "explicit", {0, 1, 1, 0}));
  cases.push_back(make_case(2, 3, 17, 13, 5, 3, 1, "same", {}, 2));  // dilation 2
  cases.push_back(make_case(2, 3, 9, 9, 4, 3, 2, "valid", {}, 2));
  cases.push_back(make_case(2, 6, 9, 7, 4, 3, 1, "same", {}, 1, 2));   // groups 2
  cases.push_back(make_case(3, 7, 17, 9, 7, 3, 2, "same", {}, 1, 7));  // depthwise
  cases.push_back(make_case(2, 17, 7, 9, 31, 1, 1, "valid"));          // pointwise: no im2col
  cases.push_back(make_case(2, 3, 7, 9, 5, 1, 2, "valid"));            // 1x1 with stride
  cases.push_back(make_case(4, 32, 14, 14, 64, 3, 1, "same"));         // the CNN's second conv
  return cases;
}

TEST_P(HighwayConv, Conv2dForwardAndGradientsMatchReference) {
  for (const Case& c : conv_cases()) {
    const WindowGeometry& g = c.g;
    const int64_t xn = g.batch * g.channels * g.in_plane(), yn = g.batch * g.out_channels * g.out_plane();
    const int64_t wn = g.out_channels * g.group_in() * g.kernel_area();
    const auto x = random_vector(xn, 1), w = random_vector(wn, 2), dy = random_vector(yn, 3);
    std::vector<float> y_ref(static_cast<size_t>(yn)), dx_ref(static_cast<size_t>(xn)), dw_ref(static_cast<size_t>(wn));
    reference::conv2d(g, x.data(), w.data(), y_ref.data());
    reference::conv2d_backward_input(g, dy.data(), w.data(), dx_ref.data());
    reference::conv2d_backward_weight(g, x.data(), dy.data(), dw_ref.data());
    highway::reserve_conv_scratch(g);
    std::vector<float> dw1;
    for (int threads : {1, 2, 3}) {
      const std::string what = cat(c.name, " threads ", threads);
      std::vector<float> y(static_cast<size_t>(yn), NAN), dx(static_cast<size_t>(xn), NAN),
          dw(static_cast<size_t>(wn), NAN);
      highway::conv2d(g, x.data(), w.data(), y.data(), pool_of(threads));
      highway::conv2d_backward_input(g, dy.data(), w.data(), dx.data(), pool_of(threads));
      std::vector<float> partials(static_cast<size_t>(highway::conv2d_weight_partials(g)), NAN);
      highway::conv2d_backward_weight(g, x.data(), dy.data(), dw.data(), partials.data(), pool_of(threads));
      expect_close(y, y_ref, g.group_in() * g.kernel_area(), cat("conv2d ", what));
      expect_close(dx, dx_ref, g.group_out() * g.kernel_area(), cat("conv2d_backward_input ", what));
      expect_close(dw, dw_ref, g.batch * g.out_plane(), cat("conv2d_backward_weight ", what));
    }
  }
}

std::vector<Case> pool_cases() {
  std::vector<Case> cases;
  for (int64_t size : {1, 3, 7, 17, 31}) {
    cases.push_back(make_case(2, size, 7, 6, size, 2, 2, "valid"));
    cases.push_back(make_case(2, 3, size, 9, 3, 3, 1, "same"));
    cases.push_back(make_case(3, 2, 8, size, 2, 3, 3, "same"));
  }
  cases.push_back(make_case(2, 3, 17, 31, 3, 3, 2, "explicit", {1, 0, 2, 1}));
  cases.push_back(make_case(4, 32, 28, 28, 32, 2, 2, "valid"));  // the CNN's first pool
  return cases;
}

TEST_P(HighwayConv, PoolsMatchReference) {
  for (Case c : pool_cases()) {
    for (bool include_pad : {false, true}) {
      c.g.count_include_pad = include_pad;
      const WindowGeometry& g = c.g;
      const int64_t xn = g.batch * g.channels * g.in_plane(), yn = g.batch * g.channels * g.out_plane();
      const auto x = random_vector(xn, 4), dy = random_vector(yn, 5);
      std::vector<float> max_ref(static_cast<size_t>(yn)), avg_ref(static_cast<size_t>(yn));
      std::vector<float> dmax_ref(static_cast<size_t>(xn)), davg_ref(static_cast<size_t>(xn));
      reference::max_pool2d(g, x.data(), max_ref.data());
      reference::avg_pool2d(g, x.data(), avg_ref.data());
      reference::max_pool2d_backward(g, x.data(), dy.data(), dmax_ref.data());
      reference::avg_pool2d_backward(g, dy.data(), davg_ref.data());
      for (int threads : {1, 3}) {
        const std::string what = cat(c.name, include_pad ? " incl" : " excl", " threads ", threads);
        std::vector<float> mx(static_cast<size_t>(yn), NAN), av(mx), dmx(static_cast<size_t>(xn), NAN), dav(dmx);
        highway::max_pool2d(g, x.data(), mx.data(), pool_of(threads));
        highway::avg_pool2d(g, x.data(), av.data(), pool_of(threads));
        highway::max_pool2d_backward(g, x.data(), dy.data(), dmx.data(), pool_of(threads));
        highway::avg_pool2d_backward(g, dy.data(), dav.data(), pool_of(threads));
        EXPECT_EQ(mx, max_ref) << "max_pool2d " << what;  // a max is exact
        expect_close(av, avg_ref, g.kernel_area(), cat("avg_pool2d ", what));
        expect_close(dmx, dmax_ref, g.kernel_area(), cat("max_pool2d_backward ", what));
        expect_close(dav, davg_ref, g.kernel_area(), cat("avg_pool2d_backward ", what));
      }
    }
  }
}

TEST_P(HighwayConv, ChannelBiasAndGlobalPoolMatchReference) {
  for (int64_t n : {1, 3, 32}) {
    for (int64_t c : {1, 3, 17, 31}) {
      for (int64_t plane : {1, 7, 31, 196, 961}) {
        const std::string what = cat("n", n, " c", c, " plane", plane);
        const int64_t size = n * c * plane;
        const auto x = random_vector(size, 6), b = random_vector(c, 7), dy = random_vector(n * c, 8);
        std::vector<float> y_ref(static_cast<size_t>(size)), s_ref(static_cast<size_t>(c));
        std::vector<float> gp_ref(static_cast<size_t>(n * c)), dgp_ref(static_cast<size_t>(size));
        reference::add_channels(x.data(), b.data(), y_ref.data(), n, c, plane);
        reference::sum_channels(x.data(), s_ref.data(), n, c, plane);
        reference::global_avg_pool(x.data(), gp_ref.data(), n * c, plane);
        reference::global_avg_pool_backward(dy.data(), dgp_ref.data(), n * c, plane);
        for (int threads : {1, 3}) {
          std::vector<float> y(x), s(static_cast<size_t>(c), NAN), gp(gp_ref.size(), NAN), dgp(dgp_ref.size(), NAN);
          highway::add_channels(y.data(), b.data(), y.data(), n, c, plane, pool_of(threads));  // in place
          highway::sum_channels(x.data(), s.data(), n, c, plane, pool_of(threads));
          highway::global_avg_pool(x.data(), gp.data(), n * c, plane, pool_of(threads));
          highway::global_avg_pool_backward(dy.data(), dgp.data(), n * c, plane, pool_of(threads));
          EXPECT_EQ(y, y_ref) << "add_channels " << what;
          expect_close(s, s_ref, n * plane, cat("sum_channels ", what));
          expect_close(gp, gp_ref, plane, cat("global_avg_pool ", what));
          expect_close(dgp, dgp_ref, 1, cat("global_avg_pool_backward ", what));
        }
      }
    }
  }
}

}  // namespace
}  // namespace graphrun
