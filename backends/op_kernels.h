// The mapping from graph ops to kernel calls, shared by the backends whose kernels have the
// reference signature (reference, Highway). K is a kernel set: a struct of static functions
// named like backends/reference/kernels.h with the ThreadPool as last argument.
//
// Everything that depends only on shapes (sizes, leading dimensions, the scale of a mean's
// gradient) is computed here, once, at compile time; the lambdas capture plain pointers.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/activation_kernels.h"
#include "core/backend.h"
#include "core/error.h"
#include "graphrun/plugin.h"
#include "ops/window.h"

namespace graphrun::backends {

// A loss or its gradient: (pred, target[, dloss][, weights]). Per-sample weights w [N] run the
// kernel sample by sample (tabular batches are small): the loss sum_i w_i loss_i / N, and
// sample i's gradient that of its own mean loss scaled by dloss w_i / N.
template <class K>
std::unique_ptr<Kernel> prepare_loss(const NodeContext& c, bool backward) {
  const Node& node = c.node;
  ThreadPool* pool = &c.pool;
  float* y = c.output.data;
  const float *p = c.inputs[0].data, *t = c.inputs[1].data, *dloss = backward ? c.inputs[2].data : nullptr;
  const size_t weights_at = backward ? 3 : 2;
  const float* w = c.inputs.size() > weights_at ? c.inputs[weights_at].data : nullptr;
  const Shape& shape = c.inputs[0].shape;  // [N, ...], or a scalar: one row
  const int64_t rows = shape.rank() == 0 ? 1 : shape[0], cols = shape.numel() / std::max<int64_t>(rows, 1);
  const bool sparse = node.sparse_labels;
  const OpKind op = node.op;
  const float delta = node.alpha;
  const std::vector<float> pos_weight = node.pos_weight;  // BCE: per label, or empty
  // One call over rows [r0, r0 + count) scaled by `scale` (backward) or returning their mean (forward).
  auto forward = [=](int64_t r0, int64_t count) -> float {
    const float* pw = pos_weight.empty() ? nullptr : pos_weight.data();
    switch (op) {
      case OpKind::SoftmaxCrossEntropy:
        return K::softmax_cross_entropy(p + r0 * cols, sparse ? t + r0 : t + r0 * cols, sparse, count, cols, *pool);
      case OpKind::MeanSquaredError:
        return K::mean_squared_error(p + r0 * cols, t + r0 * cols, count * cols, *pool);
      default:
        return K::elementwise_loss(op, p + r0 * cols, t + r0 * cols, count * cols, delta, pw, cols, *pool);
    }
  };
  auto back = [=](int64_t r0, int64_t count, float g) {
    const float* pw = pos_weight.empty() ? nullptr : pos_weight.data();
    float* out = y + r0 * cols;
    switch (op) {
      case OpKind::SoftmaxCrossEntropyGrad:
        return K::softmax_cross_entropy_backward(p + r0 * cols, sparse ? t + r0 : t + r0 * cols, sparse, count, cols, g,
                                                 out, *pool);
      case OpKind::MeanSquaredErrorGrad:
        return K::mean_squared_error_backward(p + r0 * cols, t + r0 * cols, count * cols, g, out, *pool);
      default:
        return K::elementwise_loss_backward(op, p + r0 * cols, t + r0 * cols, count * cols, delta, pw, cols, g, out,
                                            *pool);
    }
  };
  if (!w) {
    if (backward) return make_kernel([=] { back(0, rows, *dloss); });
    return make_kernel([=] { *y = forward(0, rows); });
  }
  const float inv_rows = 1.0f / static_cast<float>(rows);
  if (backward) {
    return make_kernel([=] {
      for (int64_t r = 0; r < rows; ++r) back(r, 1, *dloss * w[r] * inv_rows);
    });
  }
  return make_kernel([=] {
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      if (w[r] != 0.0f) total += static_cast<double>(w[r]) * forward(r, 1);
    }
    *y = static_cast<float>(total / static_cast<double>(rows));
  });
}

template <class K>
std::unique_ptr<Kernel> prepare_standard(const NodeContext& c) {
  const Node& node = c.node;
  ThreadPool* pool = &c.pool;
  float* y = c.output.data;
  const int64_t n = c.output.numel();
  auto in = [&](size_t i) -> const float* { return c.inputs[i].data; };
  switch (node.op) {
    case OpKind::Input:
    case OpKind::Parameter:
    case OpKind::Constant:
    case OpKind::Reshape:
      return nullptr;  // not steps: the Program binds their storage
    case OpKind::MatMul: {
      const Shape& sa = c.inputs[0].shape;
      const Shape& sb = c.inputs[1].shape;
      const bool ta = node.trans_a, tb = node.trans_b;
      const int64_t m = c.output.shape[0], cols = c.output.shape[1], k = ta ? sa[0] : sa[1];
      const float *a = in(0), *b = in(1);
      const int64_t lda = sa[1], ldb = sb[1];
      if (c.epilogue) {
        const Epilogue e = *c.epilogue;
        return make_kernel([=] { K::gemm_epilogue(ta, tb, m, cols, k, a, lda, b, ldb, y, cols, e, *pool); });
      }
      return make_kernel([=] { K::gemm(ta, tb, m, cols, k, a, lda, b, ldb, y, cols, false, *pool); });
    }
    case OpKind::Add: {
      const float *a = in(0), *b = in(1);
      if (c.inputs[0].shape == c.inputs[1].shape) return make_kernel([=] { K::add(a, b, y, n, *pool); });
      const int64_t cols = c.inputs[1].shape[0];
      return make_kernel([=] { K::add_bias_rows(a, b, y, n / cols, cols, *pool); });
    }
    case OpKind::Mul: {
      const float *a = in(0), *b = in(1);
      return make_kernel([=] { K::mul(a, b, y, n, *pool); });
    }
    case OpKind::Scale: {
      const float* x = in(0);
      const float alpha = node.alpha;
      return make_kernel([=] { K::scale(x, alpha, y, n, *pool); });
    }
    case OpKind::BroadcastRows: {
      const float* v = in(0);
      const int64_t cols = c.inputs[0].shape.rank() == 0 ? 1 : c.inputs[0].shape[0];
      const float alpha = node.divide_by_count ? node.alpha / static_cast<float>(n) : node.alpha;
      return make_kernel([=] { K::broadcast_rows(v, alpha, y, n / cols, cols, *pool); });
    }
    case OpKind::Activation:
    case OpKind::ActivationGrad: {
      const graphrun_activation* fn = node.activation;
      const double* params = node.activation_params.data();
      const int64_t cols = c.output.shape.cols(), rows = n / std::max<int64_t>(cols, 1);
      if (node.op == OpKind::Activation) {
        const float* x = in(0);
        return make_kernel([=] { activation_forward(*fn, params, x, y, rows, cols, *pool); });
      }
      const float *x = in(0), *fx = in(1), *dy = in(2);
      return make_kernel([=] { activation_backward(*fn, params, x, fx, dy, y, rows, cols, *pool); });
    }
    case OpKind::Softmax: {
      const float* x = in(0);
      const int64_t cols = c.output.shape.cols();
      return make_kernel([=] { K::softmax_rows(x, y, n / cols, cols, *pool); });
    }
    case OpKind::SoftmaxGrad: {
      const float *fx = in(0), *dy = in(1);
      const int64_t cols = c.output.shape.cols();
      return make_kernel([=] { K::softmax_rows_backward(fx, dy, y, n / cols, cols, *pool); });
    }
    case OpKind::SoftmaxCrossEntropy:
    case OpKind::MeanSquaredError:
    case OpKind::MeanAbsoluteError:
    case OpKind::Huber:
    case OpKind::BinaryCrossEntropy:
      return prepare_loss<K>(c, false);
    case OpKind::SoftmaxCrossEntropyGrad:
    case OpKind::MeanSquaredErrorGrad:
    case OpKind::MeanAbsoluteErrorGrad:
    case OpKind::HuberGrad:
    case OpKind::BinaryCrossEntropyGrad:
      return prepare_loss<K>(c, true);
    case OpKind::SumRows: {
      const float* x = in(0);
      const int64_t rows = c.inputs[0].numel() / n;
      return make_kernel([=] { K::sum_rows(x, y, rows, n, *pool); });
    }
    case OpKind::Sum:
    case OpKind::Mean: {
      const float* x = in(0);
      const int64_t count = c.inputs[0].numel();
      const float factor = node.op == OpKind::Mean ? 1.0f / static_cast<float>(count) : 1.0f;
      return make_kernel([=] { *y = K::sum_all(x, count, *pool) * factor; });
    }
    case OpKind::Conv2d: {
      const ops::WindowGeometry g = ops::window_geometry(c.inputs[0].shape, c.output.shape, node.window);
      K::reserve_conv_scratch(g);
      const float *x = in(0), *w = in(1);
      return make_kernel([=] { K::conv2d(g, x, w, y, *pool); });
    }
    case OpKind::Conv2dGradInput: {
      const ops::WindowGeometry g = ops::window_geometry(c.output.shape, c.inputs[0].shape, node.window);
      K::reserve_conv_scratch(g);
      const float *dy = in(0), *w = in(1);
      return make_kernel([=] { K::conv2d_backward_input(g, dy, w, y, *pool); });
    }
    case OpKind::Conv2dGradWeight: {
      const ops::WindowGeometry g = ops::window_geometry(c.inputs[0].shape, c.inputs[1].shape, node.window);
      K::reserve_conv_scratch(g);
      // The per-part sums of dW, shared by the pool's threads: the kernel owns them.
      auto partials = std::make_shared<std::vector<float>>(static_cast<size_t>(K::conv2d_weight_partials(g)));
      const float *x = in(0), *dy = in(1);
      return make_kernel([=] { K::conv2d_backward_weight(g, x, dy, y, partials->data(), *pool); });
    }
    case OpKind::AddChannels:
    case OpKind::SumChannels: {
      const Shape& sx = c.inputs[0].shape;
      const int64_t batch = sx[0], channels = sx[1], plane = sx.numel() / (batch * channels);
      const float* x = in(0);
      if (node.op == OpKind::SumChannels)
        return make_kernel([=] { K::sum_channels(x, y, batch, channels, plane, *pool); });
      const float* b = in(1);
      return make_kernel([=] { K::add_channels(x, b, y, batch, channels, plane, *pool); });
    }
    case OpKind::MaxPool2d:
    case OpKind::AvgPool2d: {
      const ops::WindowGeometry g = ops::window_geometry(c.inputs[0].shape, c.output.shape, node.window);
      const float* x = in(0);
      if (node.op == OpKind::MaxPool2d) return make_kernel([=] { K::max_pool2d(g, x, y, *pool); });
      return make_kernel([=] { K::avg_pool2d(g, x, y, *pool); });
    }
    case OpKind::MaxPool2dGrad: {
      const ops::WindowGeometry g = ops::window_geometry(c.inputs[0].shape, c.inputs[1].shape, node.window);
      const float *x = in(0), *dy = in(1);
      return make_kernel([=] { K::max_pool2d_backward(g, x, dy, y, *pool); });
    }
    case OpKind::AvgPool2dGrad: {
      const ops::WindowGeometry g = ops::window_geometry(c.output.shape, c.inputs[0].shape, node.window);
      const float* dy = in(0);
      return make_kernel([=] { K::avg_pool2d_backward(g, dy, y, *pool); });
    }
    case OpKind::GlobalAvgPool:
    case OpKind::GlobalAvgPoolGrad: {
      const Shape& sx = node.op == OpKind::GlobalAvgPool ? c.inputs[0].shape : c.output.shape;
      const int64_t rows = sx[0] * sx[1], plane = sx[2] * sx[3];
      const float* x = in(0);
      if (node.op == OpKind::GlobalAvgPool) return make_kernel([=] { K::global_avg_pool(x, y, rows, plane, *pool); });
      return make_kernel([=] { K::global_avg_pool_backward(x, y, rows, plane, *pool); });
    }
    case OpKind::BatchNorm:
    case OpKind::BatchNormGrad:
    case OpKind::BatchNormGradParams: {
      // x [N, C, S]; training normalises with the batch's statistics (and the forward updates
      // the running ones in place: inputs 3 and 4 are the state parameters' storage).
      const Shape& sx = c.inputs[0].shape;
      const int64_t batch = sx[0], channels = sx[1], inner = sx.numel() / (batch * channels);
      const float eps = node.epsilon, momentum = node.momentum;
      const bool training = c.training;
      const float* x = in(0);
      if (node.op == OpKind::BatchNorm) {
        const float *gamma = in(1), *beta = in(2);
        float *mean = c.inputs[3].data, *var = c.inputs[4].data;
        return make_kernel([=] {
          K::batch_norm_forward(x, gamma, beta, mean, var, y, batch, channels, inner, eps, training, momentum, *pool);
        });
      }
      if (node.op == OpKind::BatchNormGrad) {
        const float *gamma = in(1), *mean = in(2), *var = in(3), *dy = in(4);
        return make_kernel(
            [=] { K::batch_norm_backward(x, gamma, mean, var, dy, y, batch, channels, inner, eps, training, *pool); });
      }
      const float *mean = in(1), *var = in(2), *dy = in(3);
      return make_kernel(
          [=] { K::batch_norm_param_grads(x, mean, var, dy, y, batch, channels, inner, eps, training, *pool); });
    }
    case OpKind::LayerNorm:
    case OpKind::LayerNormGrad:
    case OpKind::LayerNormGradParams: {
      const Shape& sx = c.inputs[0].shape;
      int64_t rows = 1;
      for (int i = 0; i < node.axis; ++i) rows *= sx[i];
      const int64_t cols = sx.numel() / rows;
      const float eps = node.epsilon;
      const float* x = in(0);
      if (node.op == OpKind::LayerNorm) {
        const float *gamma = in(1), *beta = in(2);
        return make_kernel([=] { K::layer_norm_forward(x, gamma, beta, y, rows, cols, eps, *pool); });
      }
      if (node.op == OpKind::LayerNormGrad) {
        const float *gamma = in(1), *dy = in(2);
        return make_kernel([=] { K::layer_norm_backward(x, gamma, dy, y, rows, cols, eps, *pool); });
      }
      const float* dy = in(1);
      return make_kernel([=] { K::layer_norm_param_grads(x, dy, y, rows, cols, eps, *pool); });
    }
    case OpKind::Dropout: {
      if (!c.training || node.rate == 0.0f) return nullptr;  // the identity: the Program makes it a view
      const float* x = in(0);
      const float rate = node.rate;
      const uint64_t stream = node.stream;
      const RunState* run = c.run;
      return make_kernel([=] { K::dropout(x, y, n, rate, dropout_key(run->seed, run->step, stream), *pool); });
    }
    case OpKind::Concat:
    case OpKind::Slice: {
      // Both copy [outer, cols] blocks between row strides: outer = the dims before the axis.
      const int axis = node.axis;
      int64_t outer = 1;
      for (int i = 0; i < axis; ++i) outer *= c.output.shape[i];
      const int64_t ld_out = c.output.numel() / outer;
      if (node.op == OpKind::Slice) {
        const int64_t ld_in = c.inputs[0].numel() / outer;
        const float* x = in(0) + node.offset * (ld_out / c.output.shape[axis]);
        return make_kernel([=] { K::copy_rows(x, ld_in, y, ld_out, outer, ld_out, *pool); });
      }
      std::vector<std::pair<const float*, int64_t>> parts;  // (input, its row length)
      for (size_t i = 0; i < c.inputs.size(); ++i) parts.emplace_back(in(i), c.inputs[i].numel() / outer);
      return make_kernel([=, parts = std::move(parts)] {
        int64_t col = 0;
        for (const auto& [x, cols] : parts) {
          K::copy_rows(x, cols, y + col, ld_out, outer, cols, *pool);
          col += cols;
        }
      });
    }
  }
  return nullptr;
}

}  // namespace graphrun::backends
