#include "backends/onednn/layers.h"

#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "backends/onednn/primitives.h"
#include "core/error.h"

namespace graphrun::onednn {
namespace {

using dnnl::prop_kind;
using flags = dnnl::normalization_flags;

// One primitive over prebuilt C arguments; for training batch norm, then the running-statistics
// update from the batch statistics the primitive wrote into mean_/var_ (sized once, here).
class LayerKernel final : public Kernel {
 public:
  LayerKernel(dnnl::primitive p, std::vector<std::pair<int, dnnl::memory>> args) : primitive_(std::move(p)) {
    for (auto& [arg, mem] : args) {
      c_args_.push_back({arg, mem.get()});
      memories_.push_back(std::move(mem));
    }
  }
  // Makes the kernel fold batch statistics into running ones: returns where the primitive
  // must write the batch's mean and variance.
  std::pair<float*, float*> update_running(float* running_mean, float* running_var, int64_t channels, float momentum,
                                           int64_t count) {
    batch_mean_.assign(static_cast<size_t>(channels), 0.0f);
    batch_var_.assign(static_cast<size_t>(channels), 0.0f);
    running_mean_ = running_mean;
    running_var_ = running_var;
    momentum_ = momentum;
    unbias_ = count > 1 ? static_cast<double>(count) / static_cast<double>(count - 1) : 1.0;
    return {batch_mean_.data(), batch_var_.data()};
  }
  void add_argument(int arg, dnnl::memory mem) {
    c_args_.push_back({arg, mem.get()});
    memories_.push_back(std::move(mem));
  }
  void run() override {
    const dnnl_status_t s =
        dnnl_primitive_execute(primitive_.get(), stream().get(), static_cast<int>(c_args_.size()), c_args_.data());
    GRAPHRUN_CHECK(s == dnnl_success);  // shapes were validated when the primitive was built
    if (!running_mean_) return;
    const double m = momentum_;
    for (size_t c = 0; c < batch_mean_.size(); ++c) {
      running_mean_[c] = static_cast<float>(m * running_mean_[c] + (1 - m) * batch_mean_[c]);
      running_var_[c] = static_cast<float>(m * running_var_[c] + (1 - m) * batch_var_[c] * unbias_);
    }
  }

 private:
  dnnl::primitive primitive_;
  std::vector<dnnl::memory> memories_;
  std::vector<dnnl_exec_arg_t> c_args_;
  std::vector<float> batch_mean_, batch_var_;
  float* running_mean_ = nullptr;
  float* running_var_ = nullptr;
  float momentum_ = 0.0f;
  double unbias_ = 1.0;
};

dnnl::memory wrap(const dnnl::memory::desc& d, const float* p) {
  return dnnl::memory(d, engine(), const_cast<float*>(p));  // inputs are only read
}

std::string key(const char* op, const dims& d, float eps) {
  std::string s(op);
  for (int64_t v : d) s.append(" ").append(std::to_string(v));
  s.append(" eps ").append(std::to_string(eps));
  return s;
}

std::unique_ptr<Kernel> batch_norm(const NodeContext& c) {
  const Shape& sx = c.inputs[0].shape;
  const int64_t n = sx[0], ch = sx[1], s = sx.numel() / (n * ch);
  const dims d = s == 1 ? dims{n, ch} : dims{n, ch, s};
  const auto data = plain_desc(d);
  const auto vec = plain_desc({ch});
  const float eps = c.node.epsilon;
  const bool training = c.training;
  const flags f =
      training ? flags::use_scale | flags::use_shift : flags::use_scale | flags::use_shift | flags::use_global_stats;
  const prop_kind pk = training ? prop_kind::forward_training : prop_kind::forward_inference;
  dnnl::primitive p = cached(key(training ? "bnorm_fwd_training" : "bnorm_fwd_inference", d, eps), [&] {
    return dnnl::primitive(
        dnnl::batch_normalization_forward({dnnl::batch_normalization_forward::desc(pk, data, eps, f), engine()}));
  });
  auto k = std::make_unique<LayerKernel>(
      std::move(p), std::vector<std::pair<int, dnnl::memory>>{{DNNL_ARG_SRC, wrap(data, c.inputs[0].data)},
                                                              {DNNL_ARG_DST, wrap(data, c.output.data)},
                                                              {DNNL_ARG_SCALE, wrap(vec, c.inputs[1].data)},
                                                              {DNNL_ARG_SHIFT, wrap(vec, c.inputs[2].data)}});
  float *mean = c.inputs[3].data, *var = c.inputs[4].data;
  if (training) std::tie(mean, var) = k->update_running(mean, var, ch, c.node.momentum, n * s);
  k->add_argument(DNNL_ARG_MEAN, wrap(vec, mean));
  k->add_argument(DNNL_ARG_VARIANCE, wrap(vec, var));
  return k;
}

std::unique_ptr<Kernel> layer_norm(const NodeContext& c) {
  const Shape& sx = c.inputs[0].shape;
  int64_t rows = 1;
  for (int i = 0; i < c.node.axis; ++i) rows *= sx[i];
  const dims d{rows, sx.numel() / rows};
  const auto data = plain_desc(d);
  const auto vec = plain_desc({d[1]});
  const float eps = c.node.epsilon;
  dnnl::primitive p = cached(key("lnorm_fwd", d, eps), [&] {
    return dnnl::primitive(dnnl::layer_normalization_forward(
        {dnnl::layer_normalization_forward::desc(prop_kind::forward_inference, data, eps,
                                                 flags::use_scale | flags::use_shift),
         engine()}));
  });
  return std::make_unique<LayerKernel>(
      std::move(p), std::vector<std::pair<int, dnnl::memory>>{{DNNL_ARG_SRC, wrap(data, c.inputs[0].data)},
                                                              {DNNL_ARG_DST, wrap(data, c.output.data)},
                                                              {DNNL_ARG_SCALE, wrap(vec, c.inputs[1].data)},
                                                              {DNNL_ARG_SHIFT, wrap(vec, c.inputs[2].data)}});
}

// Each input as [outer, d_i, inner], joined along dim 1.
std::unique_ptr<Kernel> concat(const NodeContext& c) {
  const Shape& so = c.output.shape;
  const int axis = c.node.axis;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= so[i];
  for (int i = axis + 1; i < so.rank(); ++i) inner *= so[i];
  std::vector<dnnl::memory::desc> srcs;
  std::string k = "concat";
  for (const TensorView& v : c.inputs) {
    srcs.push_back(plain_desc({outer, v.shape[axis], inner}));
    k.append(" ").append(std::to_string(v.shape[axis]));
  }
  const auto dst = plain_desc({outer, so[axis], inner});
  k.append(" outer ").append(std::to_string(outer)).append(" inner ").append(std::to_string(inner));
  dnnl::primitive p = cached(k, [&] { return dnnl::primitive(dnnl::concat({dst, 1, srcs, engine()})); });
  std::vector<std::pair<int, dnnl::memory>> args{{DNNL_ARG_DST, wrap(dst, c.output.data)}};
  for (size_t i = 0; i < srcs.size(); ++i) {
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), wrap(srcs[i], c.inputs[i].data));
  }
  return std::make_unique<LayerKernel>(std::move(p), std::move(args));
}

}  // namespace

std::unique_ptr<Kernel> prepare_layer_op(const NodeContext& c, std::string* why_not) {
  switch (c.node.op) {
    case OpKind::BatchNorm:
      return batch_norm(c);
    case OpKind::LayerNorm:
      return layer_norm(c);
    case OpKind::Concat:
      return concat(c);
    case OpKind::BatchNormGrad:
    case OpKind::BatchNormGradParams:
    case OpKind::LayerNormGrad:
    case OpKind::LayerNormGradParams:
      *why_not =
          "oneDNN's backward normalization reads the statistics its forward saved; graphrun's gradient ops "
          "recompute them from x";
      return nullptr;
    case OpKind::Slice:
      *why_not = "slice is a strided row copy; oneDNN has no slice primitive";
      return nullptr;
    case OpKind::Dropout:
      *why_not = "oneDNN 2.6 has no dropout primitive";
      return nullptr;
    default:
      *why_not = "not a layer op";
      return nullptr;
  }
}

}  // namespace graphrun::onednn
