#include "backends/onednn/conv.h"

#include <utility>
#include <vector>

#include "backends/onednn/primitives.h"
#include "core/error.h"
#include "ops/window.h"

namespace graphrun::onednn {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using Args = std::vector<std::pair<int, dnnl::memory>>;

// One or more prepared primitives run in order, each a C-API execute over a prebuilt argument
// array; owns the memory wrappers (and any workspace) its arguments name.
class PrimitivesKernel final : public Kernel {
 public:
  void add(dnnl::primitive p, Args args) {
    std::vector<dnnl_exec_arg_t> c_args;
    for (auto& [arg, mem] : args) {
      c_args.push_back({arg, mem.get()});
      memories_.push_back(std::move(mem));
    }
    steps_.push_back({std::move(p), std::move(c_args)});
  }
  void run() override {
    for (const Step& s : steps_) {
      const dnnl_status_t status =
          dnnl_primitive_execute(s.primitive.get(), stream().get(), static_cast<int>(s.args.size()), s.args.data());
      GRAPHRUN_CHECK(status == dnnl_success);  // shapes were validated when the primitive was built
    }
  }

 private:
  struct Step {
    dnnl::primitive primitive;
    std::vector<dnnl_exec_arg_t> args;
  };
  std::vector<Step> steps_;
  std::vector<dnnl::memory> memories_;
};

std::unique_ptr<Kernel> single(const std::string& key, const std::function<dnnl::primitive()>& make, Args args) {
  auto k = std::make_unique<PrimitivesKernel>();
  k->add(cached(key, make), std::move(args));
  return k;
}

dnnl::memory wrap(const dnnl::memory::desc& d, const float* p) {
  return dnnl::memory(d, engine(), const_cast<float*>(p));  // inputs are only read
}

// name + key, appended (GCC 12 warns falsely on "literal" + std::string at -O3).
std::string named(const char* name, const std::string& key) {
  std::string s(name);
  s.append(key);
  return s;
}

std::string key_of(const ops::WindowGeometry& g) {
  std::string s;
  for (int64_t v : {g.batch, g.channels, g.in_h, g.in_w, g.out_channels, g.out_h, g.out_w, g.kh, g.kw, g.sh, g.sw, g.dh,
                    g.dw, g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, g.groups}) {
    s += ' ';
    s += std::to_string(v);
  }
  if (g.count_include_pad) s.append(" incl");
  return s;
}

// The shapes and window in oneDNN's terms (dilation counts the gaps: ours minus one).
struct ConvDescs {
  dnnl::memory::desc x, w, y;
  dims strides, dilates, pad_l, pad_r;
};
ConvDescs conv_descs(const ops::WindowGeometry& g) {
  ConvDescs d;
  d.x = f32_desc({g.batch, g.channels, g.in_h, g.in_w}, tag::nchw);
  d.y = f32_desc({g.batch, g.out_channels, g.out_h, g.out_w}, tag::nchw);
  d.w = g.groups == 1 ? f32_desc({g.out_channels, g.channels, g.kh, g.kw}, tag::oihw)
                      : f32_desc({g.groups, g.group_out(), g.group_in(), g.kh, g.kw}, tag::goihw);
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};
  d.pad_l = {g.pad_top, g.pad_left};
  d.pad_r = {g.pad_bottom, g.pad_right};
  return d;
}

dnnl::convolution_forward::primitive_desc conv_fwd_pd(const ConvDescs& d) {
  return {{prop_kind::forward_training, algorithm::convolution_direct, d.x, d.w, d.y, d.strides, d.dilates, d.pad_l,
           d.pad_r},
          engine()};
}

std::unique_ptr<Kernel> prepare_conv(const NodeContext& c) {
  const OpKind op = c.node.op;
  const Shape& x = op == OpKind::Conv2dGradInput ? c.output.shape : c.inputs[0].shape;
  const Shape& y = op == OpKind::Conv2d            ? c.output.shape
                   : op == OpKind::Conv2dGradInput ? c.inputs[0].shape
                                                   : c.inputs[1].shape;
  const ops::WindowGeometry g = ops::window_geometry(x, y, c.node.window);
  const ConvDescs d = conv_descs(g);
  const std::string key = key_of(g);
  switch (op) {
    case OpKind::Conv2d:
      return single(named("conv_fwd", key), [&] { return dnnl::primitive(dnnl::convolution_forward(conv_fwd_pd(d))); },
                    {{DNNL_ARG_SRC, wrap(d.x, c.inputs[0].data)},
                     {DNNL_ARG_WEIGHTS, wrap(d.w, c.inputs[1].data)},
                     {DNNL_ARG_DST, wrap(d.y, c.output.data)}});
    case OpKind::Conv2dGradInput:
      return single(named("conv_bwd_data", key),
                    [&] {
                      return dnnl::primitive(dnnl::convolution_backward_data(
                          {{algorithm::convolution_direct, d.x, d.w, d.y, d.strides, d.dilates, d.pad_l, d.pad_r},
                           engine(),
                           conv_fwd_pd(d)}));
                    },
                    {{DNNL_ARG_DIFF_DST, wrap(d.y, c.inputs[0].data)},
                     {DNNL_ARG_WEIGHTS, wrap(d.w, c.inputs[1].data)},
                     {DNNL_ARG_DIFF_SRC, wrap(d.x, c.output.data)}});
    default:
      return single(named("conv_bwd_weights", key),
                    [&] {
                      return dnnl::primitive(dnnl::convolution_backward_weights(
                          {{algorithm::convolution_direct, d.x, d.w, d.y, d.strides, d.dilates, d.pad_l, d.pad_r},
                           engine(),
                           conv_fwd_pd(d)}));
                    },
                    {{DNNL_ARG_SRC, wrap(d.x, c.inputs[0].data)},
                     {DNNL_ARG_DIFF_DST, wrap(d.y, c.inputs[1].data)},
                     {DNNL_ARG_DIFF_WEIGHTS, wrap(d.w, c.output.data)}});
  }
}

std::unique_ptr<Kernel> prepare_pool(const NodeContext& c) {
  const OpKind op = c.node.op;
  const bool forward = op == OpKind::MaxPool2d || op == OpKind::AvgPool2d || op == OpKind::GlobalAvgPool;
  const Shape& x = forward || op == OpKind::MaxPool2dGrad ? c.inputs[0].shape : c.output.shape;
  const Shape& y = forward ? c.output.shape : c.inputs[op == OpKind::MaxPool2dGrad ? 1 : 0].shape;
  Node::Window window = c.node.window;
  if (op == OpKind::GlobalAvgPool || op == OpKind::GlobalAvgPoolGrad) {
    window = Node::Window{};
    window.kernel[0] = static_cast<int32_t>(x[2]);
    window.kernel[1] = static_cast<int32_t>(x[3]);
  }
  const ops::WindowGeometry g = ops::window_geometry(x, y, window);
  const bool max = op == OpKind::MaxPool2d || op == OpKind::MaxPool2dGrad;
  const algorithm alg = max                   ? algorithm::pooling_max
                        : g.count_include_pad ? algorithm::pooling_avg_include_padding
                                              : algorithm::pooling_avg_exclude_padding;
  const auto x_md = f32_desc({g.batch, g.channels, g.in_h, g.in_w}, tag::nchw);
  const auto y_md = f32_desc({g.batch, g.channels, g.out_h, g.out_w}, tag::nchw);
  const dims strides{g.sh, g.sw}, kernel{g.kh, g.kw}, dilation{0, 0}, pad_l{g.pad_top, g.pad_left},
      pad_r{g.pad_bottom, g.pad_right};
  const std::string key = named(max ? " max" : " avg", key_of(g));
  auto fwd_pd = [&](prop_kind kind) {
    return dnnl::pooling_v2_forward::primitive_desc({kind, alg, x_md, y_md, strides, kernel, dilation, pad_l, pad_r},
                                                    engine());
  };
  if (forward) {
    return single(named("pool_fwd", key),
                  [&] { return dnnl::primitive(dnnl::pooling_v2_forward(fwd_pd(prop_kind::forward_inference))); },
                  {{DNNL_ARG_SRC, wrap(x_md, c.inputs[0].data)}, {DNNL_ARG_DST, wrap(y_md, c.output.data)}});
  }
  const auto training = fwd_pd(prop_kind::forward_training);
  auto bwd = [&] {
    return dnnl::primitive(
        dnnl::pooling_v2_backward({{alg, x_md, y_md, strides, kernel, dilation, pad_l, pad_r}, engine(), training}));
  };
  auto k = std::make_unique<PrimitivesKernel>();
  if (!max) {
    k->add(cached(named("pool_bwd", key), bwd),
           {{DNNL_ARG_DIFF_DST, wrap(y_md, c.inputs[0].data)}, {DNNL_ARG_DIFF_SRC, wrap(x_md, c.output.data)}});
    return k;
  }
  // Max: the forward again, into a destination and workspace of its own (allocated here, once).
  dnnl::memory dst(y_md, engine()), workspace(training.workspace_desc(), engine());
  k->add(cached(named("pool_fwd_training", key), [&] { return dnnl::primitive(dnnl::pooling_v2_forward(training)); }),
         {{DNNL_ARG_SRC, wrap(x_md, c.inputs[0].data)}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, workspace}});
  k->add(cached(named("pool_bwd", key), bwd), {{DNNL_ARG_DIFF_DST, wrap(y_md, c.inputs[1].data)},
                                               {DNNL_ARG_WORKSPACE, workspace},
                                               {DNNL_ARG_DIFF_SRC, wrap(x_md, c.output.data)}});
  return k;
}

// x [N, C, P] + b [1, C, 1] (binary add with broadcast), or the sum [N, C, P] -> [1, C, 1].
std::unique_ptr<Kernel> prepare_channels(const NodeContext& c, std::string* why_not) {
  const Shape& sx = c.inputs[0].shape;
  const int64_t n = sx[0], ch = sx[1], plane = sx.numel() / (n * ch);
  const auto x_md = f32_desc({n, ch, plane}, tag::abc);
  const auto b_md = f32_desc({1, ch, 1}, tag::abc);
  std::string key;
  for (int64_t v : {n, ch, plane}) key.append(" ").append(std::to_string(v));
  if (c.node.op == OpKind::AddChannels) {
    return single(named("binary_add_channels", key),
                  [&] {
                    return dnnl::primitive(dnnl::binary(
                        dnnl::binary::primitive_desc({algorithm::binary_add, x_md, b_md, x_md}, engine())));
                  },
                  {{DNNL_ARG_SRC_0, wrap(x_md, c.inputs[0].data)},
                   {DNNL_ARG_SRC_1, wrap(b_md, c.inputs[1].data)},
                   {DNNL_ARG_DST, wrap(x_md, c.output.data)}});
  }
  // sum_channels: oneDNN 2.6's reduction over dims 0 and 2 of [32, 32, 784] took 28 ms on 2
  // threads (measured), Highway's sum 0.08 ms: decline.
  *why_not =
      "oneDNN 2.6's reduction over the batch and the plane is slow (28 ms for [32,32,28,28]); Highway sums the "
      "channels";
  return nullptr;
}

}  // namespace

std::unique_ptr<Kernel> prepare_image_op(const NodeContext& c, std::string* why_not) {
  switch (c.node.op) {
    case OpKind::Conv2d:
    case OpKind::Conv2dGradInput:
    case OpKind::Conv2dGradWeight:
      return prepare_conv(c);
    case OpKind::AddChannels:
    case OpKind::SumChannels:
      return prepare_channels(c, why_not);
    default:
      return prepare_pool(c);
  }
}

}  // namespace graphrun::onednn
