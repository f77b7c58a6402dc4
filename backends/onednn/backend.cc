#include "backends/onednn/backend.h"

#include <omp.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "backends/onednn/conv.h"
#include "backends/onednn/layers.h"
#include "backends/onednn/primitives.h"
#include "core/activation_kernels.h"
#include "core/error.h"
#include "graphrun/plugin.h"

namespace graphrun::onednn {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;

// One prepared primitive with its arguments bound to the Program's buffers. run() is a single
// C-API execute over a prebuilt argument array (the C++ wrapper would build a map per call).
class PrimitiveKernel final : public Kernel {
 public:
  PrimitiveKernel(dnnl::primitive p, std::vector<std::pair<int, dnnl::memory>> args)
      : primitive_(std::move(p)), stream_(stream().get()) {
    for (auto& [arg, mem] : args) {
      c_args_.push_back({arg, mem.get()});
      memories_.push_back(std::move(mem));
    }
  }
  void run() override {
    const dnnl_status_t s =
        dnnl_primitive_execute(primitive_.get(), stream_, static_cast<int>(c_args_.size()), c_args_.data());
    GRAPHRUN_CHECK(s == dnnl_success);  // shapes were validated when the primitive was built
  }

 private:
  dnnl::primitive primitive_;
  dnnl_stream_t stream_;
  std::vector<dnnl::memory> memories_;  // keeps the wrappers of the arena buffers alive
  std::vector<dnnl_exec_arg_t> c_args_;
};

dnnl::memory wrap(const dnnl::memory::desc& d, const float* p) {
  return dnnl::memory(d, engine(), const_cast<float*>(p));  // inputs are only read
}

std::string dims_key(const dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(d[i]);
  }
  s += ']';
  return s;
}
std::string float_key(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return std::to_string(bits);
}

// The oneDNN algorithm a plugin's declared equivalent names; false for values this build does
// not know (a newer plugin).
bool eltwise_algorithm(graphrun_onednn_eltwise e, algorithm* out) {
  switch (e) {
    case GRAPHRUN_ONEDNN_NONE:
      return false;
    case GRAPHRUN_ONEDNN_RELU:
      *out = algorithm::eltwise_relu;
      return true;
    case GRAPHRUN_ONEDNN_TANH:
      *out = algorithm::eltwise_tanh;
      return true;
    case GRAPHRUN_ONEDNN_LOGISTIC:
      *out = algorithm::eltwise_logistic;
      return true;
    case GRAPHRUN_ONEDNN_ELU:
      *out = algorithm::eltwise_elu;
      return true;
    case GRAPHRUN_ONEDNN_SWISH:
      *out = algorithm::eltwise_swish;
      return true;
    case GRAPHRUN_ONEDNN_GELU_TANH:
      *out = algorithm::eltwise_gelu_tanh;
      return true;
    case GRAPHRUN_ONEDNN_GELU_ERF:
      *out = algorithm::eltwise_gelu_erf;
      return true;
    case GRAPHRUN_ONEDNN_SOFT_RELU:
      *out = algorithm::eltwise_soft_relu;
      return true;
  }
  return false;
}

using Args = std::vector<std::pair<int, dnnl::memory>>;
std::unique_ptr<Kernel> kernel(const std::string& key, const std::function<dnnl::primitive()>& make, Args args) {
  return std::make_unique<PrimitiveKernel>(cached(key, make), std::move(args));
}

// op(A)[M,K] x op(B)[K,N] -> C[M,N]; a transposed operand is the same buffer seen through
// format_tag::ba (strides {1, rows}), so no copy is made. A fused Epilogue (core/epilogue.h):
// the bias is the primitive's own; the activation (a plugin's function, forward or backward)
// runs over C after it, on the Program's pool.
std::unique_ptr<Kernel> prepare_matmul(const NodeContext& c) {
  const bool ta = c.node.trans_a, tb = c.node.trans_b;
  const Shape& sa = c.inputs[0].shape;
  const int64_t m = c.output.shape[0], n = c.output.shape[1], k = ta ? sa[0] : sa[1];
  const auto a_md = f32_desc({m, k}, ta ? tag::ba : tag::ab);
  const auto b_md = f32_desc({k, n}, tb ? tag::ba : tag::ab);
  const auto c_md = f32_desc({m, n}, tag::ab);
  const Epilogue* e = c.epilogue;
  const bool bias = e && e->bias;
  const auto bias_md = f32_desc({1, n}, tag::ab);
  const std::string key = "matmul m" + std::to_string(m) + " n" + std::to_string(n) + " k" + std::to_string(k) +
                          (ta ? " ta" : "") + (tb ? " tb" : "") + (bias ? " bias" : "");
  Args args{{DNNL_ARG_SRC, wrap(a_md, c.inputs[0].data)},
            {DNNL_ARG_WEIGHTS, wrap(b_md, c.inputs[1].data)},
            {DNNL_ARG_DST, wrap(c_md, c.output.data)}};
  if (bias) args.emplace_back(DNNL_ARG_BIAS, wrap(bias_md, e->bias));
  std::unique_ptr<Kernel> product = kernel(
      key,
      [&] {
        return dnnl::primitive(dnnl::matmul(bias ? dnnl::matmul::primitive_desc({a_md, b_md, bias_md, c_md}, engine())
                                                 : dnnl::matmul::primitive_desc({a_md, b_md, c_md}, engine())));
      },
      std::move(args));
  if (!e || !e->activation) return product;
  const Epilogue ep = *e;
  float* y = c.output.data;
  ThreadPool* pool = &c.pool;
  return make_kernel([product = std::shared_ptr<Kernel>(std::move(product)), ep, y, m, n, pool] {
    product->run();
    if (ep.backward_x) {
      activation_backward(*ep.activation, ep.activation_params, ep.backward_x, ep.backward_fx, y, y, m, n, *pool);
    } else {
      activation_forward(*ep.activation, ep.activation_params, y, ep.activation_out ? ep.activation_out : y, m, n,
                         *pool);
    }
  });
}

// y = a (op) b, same shape (a flat 1-D view), or b [C] broadcast over the rows of a.
std::unique_ptr<Kernel> prepare_binary(const NodeContext& c, algorithm alg, const char* name) {
  const int64_t n = c.output.numel();
  dnnl::memory::desc a_md, b_md;
  if (c.inputs[0].shape == c.inputs[1].shape) {
    a_md = b_md = plain_desc({n});
  } else {
    const int64_t cols = c.inputs[1].numel();
    a_md = plain_desc({n / cols, cols});
    b_md = plain_desc({1, cols});
  }
  const std::string key = std::string(name) + " " + dims_key(a_md.dims()) + dims_key(b_md.dims());
  return kernel(key,
                [&] {
                  return dnnl::primitive(dnnl::binary(dnnl::binary::primitive_desc({alg, a_md, b_md, a_md}, engine())));
                },
                {{DNNL_ARG_SRC_0, wrap(a_md, c.inputs[0].data)},
                 {DNNL_ARG_SRC_1, wrap(b_md, c.inputs[1].data)},
                 {DNNL_ARG_DST, wrap(a_md, c.output.data)}});
}

dnnl::eltwise_forward::primitive_desc eltwise_fwd_pd(algorithm alg, const dnnl::memory::desc& md, float alpha,
                                                     float beta) {
  return {{prop_kind::forward_training, alg, md, alpha, beta}, engine()};
}

std::unique_ptr<Kernel> prepare_eltwise(const NodeContext& c, algorithm alg, float alpha, float beta) {
  const auto md = plain_desc({c.output.numel()});
  const std::string attrs = std::to_string(static_cast<int>(alg)) + " " + dims_key(md.dims()) + " " + float_key(alpha) +
                            " " + float_key(beta);
  if (c.node.op != OpKind::ActivationGrad) {
    return kernel("eltwise_fwd " + attrs,
                  [&] { return dnnl::primitive(dnnl::eltwise_forward(eltwise_fwd_pd(alg, md, alpha, beta))); },
                  {{DNNL_ARG_SRC, wrap(md, c.inputs[0].data)}, {DNNL_ARG_DST, wrap(md, c.output.data)}});
  }
  // Inputs (x, y = f(x), dy): the src-based backward reads x and dy.
  return kernel("eltwise_bwd " + attrs,
                [&] {
                  dnnl::eltwise_backward::primitive_desc pd({alg, md, md, alpha, beta}, engine(),
                                                            eltwise_fwd_pd(alg, md, alpha, beta));
                  return dnnl::primitive(dnnl::eltwise_backward(pd));
                },
                {{DNNL_ARG_SRC, wrap(md, c.inputs[0].data)},
                 {DNNL_ARG_DIFF_DST, wrap(md, c.inputs[2].data)},
                 {DNNL_ARG_DIFF_SRC, wrap(md, c.output.data)}});
}

std::unique_ptr<Kernel> prepare_activation(const NodeContext& c, std::string* why_not) {
  const graphrun_activation* fn = c.node.activation;
  if (fn->kind != GRAPHRUN_ACTIVATION_ELEMENTWISE) {
    *why_not = std::string("activation '") + fn->name + "' is row-wise; oneDNN eltwise is elementwise";
    return nullptr;
  }
  float alpha = 0.0f, beta = 0.0f;
  algorithm alg{};
  if (!fn->onednn_equivalent ||
      !eltwise_algorithm(fn->onednn_equivalent(c.node.activation_params.data(), &alpha, &beta), &alg)) {
    *why_not = std::string("activation '") + fn->name + "' has no oneDNN equivalent";
    return nullptr;
  }
  return prepare_eltwise(c, alg, alpha, beta);
}

// Softmax over the last dimension: a [rows, cols] view, axis 1.
std::unique_ptr<Kernel> prepare_softmax(const NodeContext& c) {
  const int64_t cols = c.output.shape.cols();
  const auto md = plain_desc({c.output.numel() / cols, cols});
  const std::string shape = dims_key(md.dims());
  dnnl::softmax_forward::desc fwd(prop_kind::forward_training, md, 1);
  if (c.node.op == OpKind::Softmax) {
    return kernel("softmax_fwd " + shape,
                  [&] {
                    return dnnl::primitive(dnnl::softmax_forward({fwd, engine()}));
                  },
                  {{DNNL_ARG_SRC, wrap(md, c.inputs[0].data)}, {DNNL_ARG_DST, wrap(md, c.output.data)}});
  }
  // Inputs (y, dy).
  return kernel("softmax_bwd " + shape,
                [&] {
                  dnnl::softmax_forward::primitive_desc hint(fwd, engine());
                  return dnnl::primitive(dnnl::softmax_backward({{md, md, 1}, engine(), hint}));
                },
                {{DNNL_ARG_DST, wrap(md, c.inputs[0].data)},
                 {DNNL_ARG_DIFF_DST, wrap(md, c.inputs[1].data)},
                 {DNNL_ARG_DIFF_SRC, wrap(md, c.output.data)}});
}

// sum_rows: [rows, C] -> [1, C]; sum and mean: [n] -> [1]. oneDNN refuses a reduction that
// reduces nothing (one row, one element): that is a copy, run as eltwise_linear(1, 0).
std::unique_ptr<Kernel> prepare_reduction(const NodeContext& c) {
  const int64_t out = c.output.numel(), in = c.inputs[0].numel();
  if (in == out) return prepare_eltwise(c, algorithm::eltwise_linear, 1.0f, 0.0f);
  const bool rows = c.node.op == OpKind::SumRows;
  const auto src = rows ? plain_desc({in / out, out}) : plain_desc({in});
  const auto dst = rows ? plain_desc({1, out}) : plain_desc({1});
  const algorithm alg = c.node.op == OpKind::Mean ? algorithm::reduction_mean : algorithm::reduction_sum;
  return kernel(
      std::string("reduction ") + (c.node.op == OpKind::Mean ? "mean " : "sum ") + dims_key(src.dims()) +
          dims_key(dst.dims()),
      [&] {
        return dnnl::primitive(dnnl::reduction(dnnl::reduction::primitive_desc({alg, src, dst, 0.0f, 0.0f}, engine())));
      },
      {{DNNL_ARG_SRC, wrap(src, c.inputs[0].data)}, {DNNL_ARG_DST, wrap(dst, c.output.data)}});
}

std::unique_ptr<Kernel> prepare_node(const NodeContext& c, std::string* why_not) {
  auto no_primitive = [&]() -> std::unique_ptr<Kernel> {
    *why_not = std::string("op '") + op_name(c.node.op) + "' has no oneDNN primitive";
    return nullptr;
  };
  switch (c.node.op) {
    case OpKind::Input:
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Reshape:
      *why_not = std::string("op '") + op_name(c.node.op) + "' is not a kernel";
      return nullptr;
    case OpKind::MatMul:
      if (c.inputs[0].shape.rank() != 2 || c.inputs[1].shape.rank() != 2) return no_primitive();
      return prepare_matmul(c);
    case OpKind::Add:
      return prepare_binary(c, algorithm::binary_add, "binary_add");
    case OpKind::Mul:
      return prepare_binary(c, algorithm::binary_mul, "binary_mul");
    case OpKind::Scale:
      return prepare_eltwise(c, algorithm::eltwise_linear, c.node.alpha, 0.0f);
    case OpKind::Activation:
    case OpKind::ActivationGrad:
      return prepare_activation(c, why_not);
    case OpKind::Softmax:
    case OpKind::SoftmaxGrad:
      return prepare_softmax(c);
    case OpKind::SumRows:
    case OpKind::Sum:
    case OpKind::Mean:
      return prepare_reduction(c);
    case OpKind::SoftmaxCrossEntropy:
    case OpKind::SoftmaxCrossEntropyGrad:
    case OpKind::MeanSquaredError:
    case OpKind::MeanSquaredErrorGrad:
    case OpKind::MeanAbsoluteError:
    case OpKind::MeanAbsoluteErrorGrad:
    case OpKind::Huber:
    case OpKind::HuberGrad:
    case OpKind::BinaryCrossEntropy:
    case OpKind::BinaryCrossEntropyGrad:
    case OpKind::BroadcastRows:
      return no_primitive();
    case OpKind::Conv2d:
    case OpKind::Conv2dGradInput:
    case OpKind::Conv2dGradWeight:
    case OpKind::AddChannels:
    case OpKind::SumChannels:
    case OpKind::MaxPool2d:
    case OpKind::MaxPool2dGrad:
    case OpKind::AvgPool2d:
    case OpKind::AvgPool2dGrad:
    case OpKind::GlobalAvgPool:
    case OpKind::GlobalAvgPoolGrad:
      return prepare_image_op(c, why_not);
    case OpKind::BatchNorm:
    case OpKind::BatchNormGrad:
    case OpKind::BatchNormGradParams:
    case OpKind::LayerNorm:
    case OpKind::LayerNormGrad:
    case OpKind::LayerNormGradParams:
    case OpKind::Concat:
    case OpKind::Slice:
    case OpKind::Dropout:
      return prepare_layer_op(c, why_not);
  }
  return no_primitive();
}

class OnednnBackend final : public Backend {
 public:
  const char* name() const override { return "onednn"; }
  bool fuses_epilogue(const Node& node) const override { return node.op == OpKind::MatMul; }
  std::unique_ptr<Kernel> prepare(const NodeContext& ctx, std::string* why_not) override {
    try {
      return prepare_node(ctx, why_not);
    } catch (const dnnl::error& e) {
      *why_not = std::string("oneDNN has no implementation for op '") + op_name(ctx.node.op) + "' here: " + e.what();
      return nullptr;
    }
  }
  // oneDNN's OpenMP runtime gets the Program's thread count (set on this thread).
  void configure_threads(int threads) override { omp_set_num_threads(threads > 0 ? threads : 1); }
  bool runs_on_pool() const override { return false; }
};

}  // namespace

Backend& backend() {
  static OnednnBackend b;
  return b;
}

}  // namespace graphrun::onednn
