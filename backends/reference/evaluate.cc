#include "backends/reference/evaluate.h"

#include "backends/reference/conv_kernels.h"
#include "backends/reference/kernels.h"
#include "backends/reference/layer_kernels.h"
#include "backends/reference/loss_kernels.h"
#include "core/error.h"
#include "graphrun/plugin.h"

namespace graphrun::reference {

std::vector<DoubleTensor> evaluate_f64(const Graph& g, int64_t batch, const std::map<std::string, DoubleTensor>& values,
                                       bool training, RunState run) {
  std::vector<DoubleTensor> v(static_cast<size_t>(g.size()));
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& node = g.node(id);
    DoubleTensor& out = v[static_cast<size_t>(id)];
    out.shape = node.shape.resolved(batch);
    const int64_t n = out.shape.numel();
    out.values.assign(static_cast<size_t>(n), 0.0);
    double* y = out.values.data();
    auto in = [&](size_t i) -> const DoubleTensor& { return v[static_cast<size_t>(node.inputs[i])]; };
    auto x = [&](size_t i) { return in(i).values.data(); };
    // A loss's optional per-sample weights (input i) and input i's elements per sample.
    auto w = [&](size_t i) -> const double* { return node.inputs.size() > i ? x(i) : nullptr; };
    auto cols = [&](size_t i) { return in(i).shape.rank() == 0 ? int64_t{1} : in(i).shape.numel() / in(i).shape[0]; };
    switch (node.op) {
      case OpKind::Input:
      case OpKind::Parameter: {
        auto it = values.find(node.name);
        if (it == values.end() || it->second.shape != out.shape) {
          throw Error(ErrorKind::BadInput,
                      "evaluate_f64: no value of shape " + out.shape.str() + " for '" + node.name + "'");
        }
        out.values = it->second.values;
        break;
      }
      case OpKind::Constant:
        for (int64_t i = 0; i < n; ++i) y[i] = node.value[i];
        break;
      case OpKind::MatMul: {
        const Shape& sa = in(0).shape;
        const Shape& sb = in(1).shape;
        gemm<double>(node.trans_a, node.trans_b, out.shape[0], out.shape[1], node.trans_a ? sa[0] : sa[1], x(0), sa[1],
                     x(1), sb[1], y, out.shape[1], false);
        break;
      }
      case OpKind::Add:
        if (in(0).shape == in(1).shape) {
          add<double>(x(0), x(1), y, n);
        } else {
          add_bias_rows<double>(x(0), x(1), y, n / in(1).shape[0], in(1).shape[0]);
        }
        break;
      case OpKind::Mul:
        mul<double>(x(0), x(1), y, n);
        break;
      case OpKind::Scale:
        scale<double>(x(0), node.alpha, y, n);
        break;
      case OpKind::BroadcastRows: {
        const int64_t cols = in(0).shape.rank() == 0 ? 1 : in(0).shape[0];
        const double alpha = node.divide_by_count ? double(node.alpha) / double(n) : double(node.alpha);
        broadcast_rows<double>(x(0), alpha, y, n / cols, cols);
        break;
      }
      case OpKind::Activation:
      case OpKind::ActivationGrad: {
        const graphrun_activation* fn = node.activation;
        if (!fn->forward_f64 || !fn->backward_f64) {
          throw Error(ErrorKind::BadInput,
                      std::string("evaluate_f64: activation '") + fn->name + "' has no f64 kernels");
        }
        const size_t cols = static_cast<size_t>(out.shape.cols());
        const size_t rows = static_cast<size_t>(n) / std::max<size_t>(cols, 1);
        if (node.op == OpKind::Activation) {
          fn->forward_f64(x(0), y, rows, cols, node.activation_params.data());
        } else {
          fn->backward_f64(x(0), x(1), x(2), y, rows, cols, node.activation_params.data());
        }
        break;
      }
      case OpKind::Softmax:
        softmax_rows<double>(x(0), y, n / out.shape.cols(), out.shape.cols());
        break;
      case OpKind::SoftmaxGrad:
        softmax_rows_backward<double>(x(0), x(1), y, n / out.shape.cols(), out.shape.cols());
        break;
      case OpKind::SoftmaxCrossEntropy:
        y[0] = softmax_cross_entropy<double>(x(0), x(1), node.sparse_labels, in(0).shape[0], in(0).shape[1], w(2));
        break;
      case OpKind::SoftmaxCrossEntropyGrad:
        softmax_cross_entropy_backward<double>(x(0), x(1), node.sparse_labels, in(0).shape[0], in(0).shape[1], x(2)[0],
                                               y, w(3));
        break;
      case OpKind::MeanSquaredError:
        y[0] = mean_squared_error<double>(x(0), x(1), in(0).shape.numel(), w(2), cols(0));
        break;
      case OpKind::MeanSquaredErrorGrad:
        mean_squared_error_backward<double>(x(0), x(1), n, x(2)[0], y, w(3), cols(0));
        break;
      case OpKind::MeanAbsoluteError:
        y[0] = mean_absolute_error<double>(x(0), x(1), in(0).shape.numel(), w(2), cols(0));
        break;
      case OpKind::MeanAbsoluteErrorGrad:
        mean_absolute_error_backward<double>(x(0), x(1), n, x(2)[0], y, w(3), cols(0));
        break;
      case OpKind::Huber:
        y[0] = huber<double>(x(0), x(1), in(0).shape.numel(), node.alpha, w(2), cols(0));
        break;
      case OpKind::HuberGrad:
        huber_backward<double>(x(0), x(1), n, node.alpha, x(2)[0], y, w(3), cols(0));
        break;
      case OpKind::BinaryCrossEntropy: {
        const std::vector<double> pos(node.pos_weight.begin(), node.pos_weight.end());
        y[0] = binary_cross_entropy<double>(x(0), x(1), in(0).shape.numel(), w(2), cols(0),
                                            pos.empty() ? nullptr : pos.data());
        break;
      }
      case OpKind::BinaryCrossEntropyGrad: {
        const std::vector<double> pos(node.pos_weight.begin(), node.pos_weight.end());
        binary_cross_entropy_backward<double>(x(0), x(1), n, x(2)[0], y, w(3), cols(0),
                                              pos.empty() ? nullptr : pos.data());
        break;
      }
      case OpKind::Reshape:
        out.values = in(0).values;
        break;
      case OpKind::SumRows:
        sum_rows<double>(x(0), y, in(0).shape.numel() / n, n);
        break;
      case OpKind::Sum:
        y[0] = sum_all<double>(x(0), in(0).shape.numel());
        break;
      case OpKind::Mean:
        y[0] = sum_all<double>(x(0), in(0).shape.numel()) / double(in(0).shape.numel());
        break;
      case OpKind::Conv2d:
        conv2d<double>(ops::window_geometry(in(0).shape, out.shape, node.window), x(0), x(1), y);
        break;
      case OpKind::Conv2dGradInput:
        conv2d_backward_input<double>(ops::window_geometry(out.shape, in(0).shape, node.window), x(0), x(1), y);
        break;
      case OpKind::Conv2dGradWeight:
        conv2d_backward_weight<double>(ops::window_geometry(in(0).shape, in(1).shape, node.window), x(0), x(1), y);
        break;
      case OpKind::AddChannels:
      case OpKind::SumChannels: {
        const Shape& sx = in(0).shape;
        const int64_t plane = sx.numel() / (sx[0] * sx[1]);
        if (node.op == OpKind::AddChannels) {
          add_channels<double>(x(0), x(1), y, sx[0], sx[1], plane);
        } else {
          sum_channels<double>(x(0), y, sx[0], sx[1], plane);
        }
        break;
      }
      case OpKind::MaxPool2d:
        max_pool2d<double>(ops::window_geometry(in(0).shape, out.shape, node.window), x(0), y);
        break;
      case OpKind::AvgPool2d:
        avg_pool2d<double>(ops::window_geometry(in(0).shape, out.shape, node.window), x(0), y);
        break;
      case OpKind::MaxPool2dGrad:
        max_pool2d_backward<double>(ops::window_geometry(in(0).shape, in(1).shape, node.window), x(0), x(1), y);
        break;
      case OpKind::AvgPool2dGrad:
        avg_pool2d_backward<double>(ops::window_geometry(out.shape, in(0).shape, node.window), x(0), y);
        break;
      case OpKind::GlobalAvgPool:
        global_avg_pool<double>(x(0), y, out.shape[0] * out.shape[1], in(0).shape[2] * in(0).shape[3]);
        break;
      case OpKind::GlobalAvgPoolGrad:
        global_avg_pool_backward<double>(x(0), y, out.shape[0] * out.shape[1], out.shape[2] * out.shape[3]);
        break;
      case OpKind::BatchNorm:
      case OpKind::BatchNormGrad:
      case OpKind::BatchNormGradParams: {
        const Shape& sx = in(0).shape;
        const int64_t nb = sx[0], c = sx[1], s = sx.numel() / (nb * c);
        if (node.op == OpKind::BatchNorm) {
          batch_norm_forward<double>(x(0), x(1), x(2), x(3), x(4), y, nb, c, s, node.epsilon, training, nullptr,
                                     nullptr, node.momentum);
        } else if (node.op == OpKind::BatchNormGrad) {
          batch_norm_backward<double>(x(0), x(1), x(2), x(3), x(4), y, nb, c, s, node.epsilon, training);
        } else {
          batch_norm_param_grads<double>(x(0), x(1), x(2), x(3), y, nb, c, s, node.epsilon, training);
        }
        break;
      }
      case OpKind::LayerNorm:
      case OpKind::LayerNormGrad:
      case OpKind::LayerNormGradParams: {
        int64_t rows = 1;
        for (int i = 0; i < node.axis; ++i) rows *= in(0).shape[i];
        const int64_t cols = in(0).shape.numel() / rows;
        if (node.op == OpKind::LayerNorm)
          layer_norm_forward<double>(x(0), x(1), x(2), y, rows, cols, node.epsilon);
        else if (node.op == OpKind::LayerNormGrad)
          layer_norm_backward<double>(x(0), x(1), x(2), y, rows, cols, node.epsilon);
        else
          layer_norm_param_grads<double>(x(0), x(1), y, rows, cols, node.epsilon);
        break;
      }
      case OpKind::Dropout:
        if (training)
          dropout<double>(x(0), y, n, node.rate, dropout_key(run.seed, run.step, node.stream));
        else
          out.values = in(0).values;
        break;
      case OpKind::Concat:
      case OpKind::Slice: {
        int64_t outer = 1;
        for (int i = 0; i < node.axis; ++i) outer *= out.shape[i];
        const int64_t ld_out = n / outer;
        if (node.op == OpKind::Slice) {
          copy_rows<double>(x(0) + node.offset * (ld_out / out.shape[node.axis]), in(0).shape.numel() / outer, y,
                            ld_out, outer, ld_out);
          break;
        }
        int64_t col = 0;
        for (size_t i = 0; i < node.inputs.size(); ++i) {
          const int64_t cols = in(i).shape.numel() / outer;
          copy_rows<double>(x(i), cols, y + col, ld_out, outer, cols);
          col += cols;
        }
        break;
      }
    }
  }
  return v;
}

}  // namespace graphrun::reference
