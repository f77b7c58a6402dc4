// The ONNX ops graphrun maps, one handler each: ONNX semantics (opsets 9-17) in terms of the
// graph builders of ops/. A form graphrun cannot express (an attribute value, a broadcast, a
// tensor computed at run time where one known at load time is needed) is ctx.unsupported().
#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "onnx/import_context.h"
#include "ops/conv.h"
#include "ops/layers.h"
#include "ops/ops.h"

namespace graphrun::onnx_io {
namespace {

using Ctx = ImportContext;

std::string out_name(Ctx& c, int i = 0) { return c.output_name(i); }

int64_t product(const Shape& s, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; ++i) p *= s[i];
  return p;
}

bool concrete(const Shape& s) { return !s.has_batch(); }

// Normalises an axis attribute against a rank, or fails naming it.
int norm_axis(Ctx& c, int64_t axis, int rank, bool inclusive_end = false) {
  const int64_t r = rank + (inclusive_end ? 1 : 0);
  if (axis < -rank || axis >= r) c.fail(fmt::format("axis {} is out of range for rank {}", axis, rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

void identity(Ctx& c) {
  const OnnxTensor* k = c.known_input(0);
  if (k && !k->is_float()) {  // an integer tensor (a shape): stays known
    c.values[out_name(c)].known = *k;
    return;
  }
  c.set_output(0, c.input(0));
}

void dropout(Ctx& c) {
  if (c.opset >= 12 && c.has_input(2)) {
    const OnnxTensor* mode = c.known_input(2);
    if (!mode || mode->numel() != 1 || (mode->is_float() ? mode->floats[0] : static_cast<float>(mode->ints[0])) != 0) {
      c.unsupported("Dropout in training mode");
    }
  }
  if (c.output_used(1)) c.unsupported("Dropout's mask output");
  c.set_output(0, c.input(0));
}

void constant(Ctx& c) {
  Value v;
  const std::string where = c.where();
  if (const auto* a = c.attr("value")) {
    v.known = decode_tensor(a->t(), "", where + ": value");
  } else if (const auto* f = c.attr("value_float")) {
    v.known = OnnxTensor{::onnx::TensorProto::FLOAT, {}, {f->f()}, {}};
  } else if (const auto* fs = c.attr("value_floats")) {
    v.known =
        OnnxTensor{::onnx::TensorProto::FLOAT, {fs->floats_size()}, {fs->floats().begin(), fs->floats().end()}, {}};
  } else if (const auto* i = c.attr("value_int")) {
    v.known = OnnxTensor{::onnx::TensorProto::INT64, {}, {}, {i->i()}};
  } else if (const auto* is = c.attr("value_ints")) {
    v.known = OnnxTensor{::onnx::TensorProto::INT64, {is->ints_size()}, {}, {is->ints().begin(), is->ints().end()}};
  } else {
    c.unsupported("Constant form (graphrun reads value, value_float(s) and value_int(s))");
  }
  c.values[out_name(c)] = std::move(v);
}

void unary(Ctx& c, const std::string& fn, std::vector<std::pair<std::string, double>> params = {}) {
  c.set_output(0, c.activation(c.input(0), fn, std::move(params), out_name(c)));
}
void relu(Ctx& c) { unary(c, "relu"); }
void sigmoid(Ctx& c) { unary(c, "sigmoid"); }
void tanh_op(Ctx& c) { unary(c, "tanh"); }
void softplus(Ctx& c) { unary(c, "softplus"); }
void leaky_relu(Ctx& c) {
  const float alpha = c.attr_float("alpha", 0.01f);
  if (!(alpha >= 0 && alpha <= 1)) c.unsupported(fmt::format("LeakyRelu alpha {} (graphrun's is in [0, 1])", alpha));
  unary(c, "leaky_relu", {{"alpha", alpha}});
}
void elu(Ctx& c) {
  const float alpha = c.attr_float("alpha", 1.0f);
  if (!(alpha >= 0 && alpha <= 100)) c.unsupported(fmt::format("Elu alpha {} (graphrun's is in [0, 100])", alpha));
  unary(c, "elu", {{"alpha", alpha}});
}
void selu(Ctx& c) {
  // graphrun's selu has the fixed constants of Klambauer et al., ONNX's defaults.
  const float alpha = c.attr_float("alpha", 1.67326319217681884765625f);
  const float gamma = c.attr_float("gamma", 1.05070102214813232421875f);
  if (std::fabs(alpha - 1.6732632f) > 1e-6f || std::fabs(gamma - 1.0507010f) > 1e-6f) {
    c.unsupported(fmt::format("Selu alpha {} gamma {} (graphrun's selu has the default constants)", alpha, gamma));
  }
  unary(c, "selu");
}

// Softmax and LogSoftmax. Opset 13 normalises over one axis: graphrun's is the last. Before,
// the input is seen as a matrix [prod(dims < axis), prod(dims >= axis)] and normalised by row.
void softmax_like(Ctx& c, bool log) {
  const NodeId x = c.input(0);
  const Shape s = c.g.shape(x);
  const int rank = std::max(1, s.rank());
  const int axis = norm_axis(c, c.attr_int("axis", c.opset >= 13 ? -1 : 1), rank);
  const auto apply = [&](NodeId in, const std::string& name) {
    return log ? c.activation(in, "log_softmax", {}, name) : ops::softmax(c.g, in, name);
  };
  if (s.rank() == 0) c.unsupported("softmax of a scalar");
  if (axis == s.rank() - 1) {
    c.set_output(0, apply(x, out_name(c)));
    return;
  }
  if (c.opset >= 13)
    c.unsupported(fmt::format("{} over axis {} of rank {} (graphrun normalises the last axis)", c.node->op_type(), axis,
                              s.rank()));
  Shape flat;
  if (s.has_batch() && axis == 1) {
    flat = Shape{Shape::kBatch, s.inner()};
  } else if (concrete(s)) {
    flat = Shape{product(s, 0, axis), product(s, axis, s.rank())};
  } else {
    c.unsupported(fmt::format("{} over axis {} with a symbolic batch", c.node->op_type(), axis));
  }
  const NodeId y = apply(ops::reshape(c.g, x, flat, out_name(c) + "/2d"), out_name(c) + "/rows");
  c.set_output(0, ops::reshape(c.g, y, s, out_name(c)));
}
void softmax(Ctx& c) { softmax_like(c, false); }
void log_softmax(Ctx& c) { softmax_like(c, true); }

// A shape that broadcasts as a bias over `to`'s last dimension: all ones but the last, which
// is to's column count, and no higher rank than `to`.
bool bias_like(const Shape& b, const Shape& to) {
  if (b.rank() == 0 || b.rank() > to.rank() || to.rank() == 0 || b[b.rank() - 1] != to.cols()) return false;
  for (int i = 0; i + 1 < b.rank(); ++i) {
    if (b[i] != 1) return false;
  }
  return true;
}

enum class Binary { Add, Sub, Mul, Div };
constexpr int64_t kMaxDiagonal = 4096;

void binary(Ctx& c, Binary op) {
  NodeId a = c.input(0);
  const OnnxTensor* kb = c.known_input(1);
  const Shape sa = c.g.shape(a);
  const std::string name = out_name(c);
  // A known scalar: a scale, or a bias filled with it.
  if (kb && kb->is_float() && kb->numel() == 1 && c.g.shape(c.input(1)) != sa) {
    const float v = kb->floats[0];
    if (op == Binary::Mul || op == Binary::Div) {
      c.set_output(0, ops::scale(c.g, a, op == Binary::Mul ? v : 1.0f / v, name));
      return;
    }
    if (sa.rank() == 0) c.unsupported("add of two scalars");
    Tensor fill(Shape{sa.cols()});
    for (float& f : fill.span()) f = op == Binary::Add ? v : -v;
    c.set_output(0, ops::add(c.g, a, c.g.constant(name + "/scalar", std::move(fill)), name));
    return;
  }
  NodeId b = c.input(1);
  Shape sb = c.g.shape(b);
  const bool commutative = op == Binary::Add || op == Binary::Mul;
  if (commutative && sa != sb && bias_like(sa, sb)) {
    std::swap(a, b);
    sb = sa;
  }
  const Shape& s0 = c.g.shape(a);
  if (s0 == sb) {
    switch (op) {
      case Binary::Add:
        c.set_output(0, ops::add(c.g, a, b, name));
        return;
      case Binary::Sub:
        c.set_output(0, ops::add(c.g, a, ops::scale(c.g, b, -1.0f, name + "/neg"), name));
        return;
      case Binary::Mul:
        c.set_output(0, ops::mul(c.g, a, b, name));
        return;
      case Binary::Div:
        break;
    }
  }
  if ((op == Binary::Add || op == Binary::Sub) && bias_like(sb, s0)) {
    NodeId bias = sb.rank() == 1 ? b : ops::reshape(c.g, b, Shape{s0.cols()}, name + "/bias");
    if (op == Binary::Sub) bias = ops::scale(c.g, bias, -1.0f, name + "/neg");
    c.set_output(0, ops::add(c.g, a, bias, name));
    return;
  }
  // A known per-column factor (a scaler's scale): x times the diagonal matrix diag(v), exact
  // in float (each output is one product plus zeros).
  const OnnxTensor* kv = c.known_input(1);
  if ((op == Binary::Mul || op == Binary::Div) && kv && kv->is_float() && bias_like(sb, s0) && s0.rank() == 2 &&
      s0.cols() <= kMaxDiagonal) {
    const int64_t n = s0.cols();
    Tensor diag(Shape{n, n});
    for (int64_t i = 0; i < n; ++i) {
      const float v = kv->floats[static_cast<size_t>(i)];
      diag[i * n + i] = op == Binary::Mul ? v : 1.0f / v;
    }
    c.set_output(0, ops::matmul(c.g, a, c.g.constant(name + "/diagonal", std::move(diag)), false, false, name));
    return;
  }
  c.unsupported(
      fmt::format("{} of {} and {} (graphrun has equal shapes, a last-axis bias for Add and Sub, "
                  "a known last-axis factor for Mul and Div, and a known scalar)",
                  c.node->op_type(), s0.str(), sb.str()));
}
void add(Ctx& c) { binary(c, Binary::Add); }
void sub(Ctx& c) { binary(c, Binary::Sub); }
void mul(Ctx& c) { binary(c, Binary::Mul); }
void div(Ctx& c) { binary(c, Binary::Div); }

void gemm(Ctx& c) {
  const NodeId a = c.input(0), b = c.input(1);
  const bool ta = c.attr_int("transA", 0) != 0, tb = c.attr_int("transB", 0) != 0;
  const float alpha = c.attr_float("alpha", 1.0f), beta = c.attr_float("beta", 1.0f);
  const std::string name = out_name(c);
  const bool has_c = c.has_input(2) && beta != 0.0f;
  NodeId y = ops::matmul(c.g, a, b, ta, tb, has_c || alpha != 1.0f ? name + "/matmul" : name);
  if (alpha != 1.0f) y = ops::scale(c.g, y, alpha, has_c ? name + "/alpha" : name);
  if (!has_c) {
    c.set_output(0, y);
    return;
  }
  const Shape sy = c.g.shape(y);
  const OnnxTensor* kc = c.known_input(2);
  if (kc && kc->is_float() && kc->numel() == 1 && sy.cols() != 1) {  // a scalar bias: a [N] filled with it
    Tensor fill(Shape{sy.cols()});
    for (float& f : fill.span()) f = kc->floats[0] * beta;
    c.set_output(0, ops::add(c.g, y, c.g.constant(name + "/bias", std::move(fill)), name));
    return;
  }
  NodeId bias = c.input(2);
  const Shape sc = c.g.shape(bias);
  if (sc != sy && !bias_like(sc, sy)) {
    c.unsupported(
        fmt::format("Gemm bias of shape {} for a result {} (graphrun adds [N], [1,N] or [M,N])", sc.str(), sy.str()));
  }
  if (sc != sy && sc.rank() != 1) bias = ops::reshape(c.g, bias, Shape{sy.cols()}, name + "/bias");
  if (beta != 1.0f) bias = ops::scale(c.g, bias, beta, name + "/beta");
  c.set_output(0, ops::add(c.g, y, bias, name));
}

void matmul(Ctx& c) {
  const NodeId a = c.input(0), b = c.input(1);
  const Shape sa = c.g.shape(a), sb = c.g.shape(b);
  const std::string name = out_name(c);
  if (sa.rank() == 2 && sb.rank() == 2) {
    c.set_output(0, ops::matmul(c.g, a, b, false, false, name));
    return;
  }
  if (sa.rank() > 2 && sb.rank() == 2 && concrete(sa)) {
    const NodeId a2 = ops::reshape(c.g, a, Shape{sa.rows(), sa.cols()}, name + "/2d");
    const NodeId y = ops::matmul(c.g, a2, b, false, false, name + "/matmul");
    Shape sy = sa;
    sy[sy.rank() - 1] = sb[1];
    c.set_output(0, ops::reshape(c.g, y, sy, name));
    return;
  }
  c.unsupported(fmt::format("MatMul of {} and {} (graphrun multiplies [M,K] or [...,K] by [K,N])", sa.str(), sb.str()));
}

void flatten(Ctx& c) {
  const NodeId x = c.input(0);
  const Shape s = c.g.shape(x);
  const int axis = norm_axis(c, c.attr_int("axis", 1), s.rank(), /*inclusive_end=*/true);
  if (axis == 1 && s.rank() >= 1) {
    c.set_output(0, ops::flatten(c.g, x, out_name(c)));
    return;
  }
  if (!concrete(s)) c.unsupported(fmt::format("Flatten at axis {} with a symbolic batch", axis));
  c.set_output(0, ops::reshape(c.g, x, Shape{product(s, 0, axis), product(s, axis, s.rank())}, out_name(c)));
}

void reshape(Ctx& c) {
  const NodeId x = c.input(0);
  const Shape s = c.g.shape(x);
  const std::vector<int64_t> want = c.known_ints(1);
  const bool allowzero = c.attr_int("allowzero", 0) != 0;
  if (want.size() > static_cast<size_t>(Shape::kMaxRank)) c.unsupported(fmt::format("Reshape to rank {}", want.size()));
  Shape out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    int64_t d = want[i];
    if (d == 0 && !allowzero) {
      if (static_cast<int>(i) >= s.rank()) c.fail(fmt::format("shape[{}] = 0 copies a dimension the input lacks", i));
      d = s[static_cast<int>(i)];
      if (d == Shape::kBatch) {  // the copied batch dimension stays symbolic
        out.push_back(d);
        continue;
      }
    }
    if (d == -1) {
      if (infer >= 0) c.fail("more than one -1 in the shape");
      infer = static_cast<int>(i);
    } else if (d < 0 && !(i == 0 && d == Shape::kBatch && s.has_batch())) {
      c.fail(fmt::format("shape[{}] = {} is negative", i, d));
    } else if (d != Shape::kBatch) {
      if (d > static_cast<int64_t>(kOnnxMaxElements) ||
          (known != 0 && d > static_cast<int64_t>(kOnnxMaxElements) / known)) {
        c.fail("the shape is too large");
      }
      known *= d;
    }
    out.push_back(d);
  }
  const int64_t total = s.has_batch() ? s.inner() : s.numel();
  if (s.has_batch() && !(out.rank() > 0 && (out[0] == Shape::kBatch || infer == 0))) {
    c.unsupported("Reshape that moves the symbolic batch dimension");
  }
  if (s.has_batch() && infer == 0) {
    out[0] = Shape::kBatch;
    infer = -1;
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0) c.fail(fmt::format("cannot reshape {} to {} elements", s.str(), known));
    out[infer] = total / known;
  }
  c.set_output(0, ops::reshape(c.g, x, out, out_name(c)));
}

// The window of Conv and the pools: kernel_shape (or the weight's), strides, dilations, pads
// [top, left, bottom, right] or auto_pad. 2-D (NCHW) only.
Node::Window window(Ctx& c, const Shape& x, int64_t kh, int64_t kw, bool dilations) {
  if (x.rank() != 4)
    c.unsupported(fmt::format("{} of rank {} (graphrun's image ops are 2-D, NCHW)", c.node->op_type(), x.rank()));
  Node::Window w;
  const std::vector<int64_t> kernel = c.attr_ints("kernel_shape");
  if (!kernel.empty() && (kernel.size() != 2 || (kh > 0 && (kernel[0] != kh || kernel[1] != kw)))) {
    c.fail("kernel_shape does not match the weight's");
  }
  const int64_t k0 = kernel.empty() ? kh : kernel[0], k1 = kernel.empty() ? kw : kernel[1];
  const auto pair = [&](const char* name, int64_t fallback, int32_t out[2]) {
    std::vector<int64_t> v = c.attr_ints(name);
    if (v.empty()) v = {fallback, fallback};
    if (v.size() != 2) c.fail(fmt::format("{} needs 2 values", name));
    for (int i = 0; i < 2; ++i) {
      if (v[i] < 1 || v[i] > 65536) c.fail(fmt::format("{}[{}] = {} is outside 1..65536", name, i, v[i]));
      out[i] = static_cast<int32_t>(v[i]);
    }
  };
  if (k0 < 1 || k1 < 1 || k0 > 65536 || k1 > 65536) c.fail("kernel_shape is missing or outside 1..65536");
  w.kernel[0] = static_cast<int32_t>(k0);
  w.kernel[1] = static_cast<int32_t>(k1);
  pair("strides", 1, w.stride);
  if (dilations)
    pair("dilations", 1, w.dilation);
  else if (c.has_attr("dilations") && c.attr_ints("dilations") != std::vector<int64_t>{1, 1}) {
    c.unsupported(fmt::format("{} with dilations", c.node->op_type()));
  }
  const std::string auto_pad = c.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int d = 0; d < 2; ++d) {
      const int64_t in = x[2 + d], s = w.stride[d];
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + (w.kernel[d] - 1) * w.dilation[d] + 1 - in);
      const int64_t small = total / 2, large = total - small;
      w.pad[d] = static_cast<int32_t>(auto_pad == "SAME_UPPER" ? small : large);
      w.pad[d + 2] = static_cast<int32_t>(auto_pad == "SAME_UPPER" ? large : small);
    }
  } else if (auto_pad == "NOTSET") {
    const std::vector<int64_t> pads = c.attr_ints("pads");
    if (!pads.empty()) {
      if (pads.size() != 4) c.fail("pads needs 4 values");
      for (int i = 0; i < 4; ++i) {
        if (pads[i] < 0 || pads[i] > 65536) c.fail(fmt::format("pads[{}] = {} is outside 0..65536", i, pads[i]));
        w.pad[i] = static_cast<int32_t>(pads[i]);
      }
    }
  } else if (auto_pad != "VALID") {
    c.fail("auto_pad '" + auto_pad + "' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  }
  return w;
}

void conv(Ctx& c) {
  const NodeId x = c.input(0), w = c.input(1);
  const Shape sx = c.g.shape(x), sw = c.g.shape(w);
  if (sw.rank() != 4) c.unsupported(fmt::format("Conv with a weight of rank {} (graphrun's is 2-D)", sw.rank()));
  Node::Window win = window(c, sx, sw[2], sw[3], true);
  const int64_t groups = c.attr_int("group", 1);
  if (groups < 1 || groups > 65536) c.fail(fmt::format("group {} is outside 1..65536", groups));
  win.groups = static_cast<int32_t>(groups);
  const std::string name = out_name(c);
  const bool bias = c.has_input(2);
  NodeId y = ops::conv2d(c.g, x, w, win, bias ? name + "/conv" : name);
  if (bias) y = ops::add_channels(c.g, y, c.input(2), name);
  c.set_output(0, y);
}

void pool(Ctx& c, bool max) {
  const NodeId x = c.input(0);
  Node::Window win = window(c, c.g.shape(x), 0, 0, false);
  if (c.attr_int("ceil_mode", 0) != 0) c.unsupported(fmt::format("{} with ceil_mode", c.node->op_type()));
  if (max && c.output_used(1)) c.unsupported("MaxPool's Indices output");
  win.count_include_pad = !max && c.attr_int("count_include_pad", 0) != 0;
  c.set_output(0, max ? ops::max_pool2d(c.g, x, win, out_name(c)) : ops::avg_pool2d(c.g, x, win, out_name(c)));
}
void max_pool(Ctx& c) { pool(c, true); }
void average_pool(Ctx& c) { pool(c, false); }

void global_average_pool(Ctx& c) {
  const NodeId x = c.input(0);
  if (c.g.shape(x).rank() != 4)
    c.unsupported(fmt::format("GlobalAveragePool of rank {} (graphrun's is 2-D)", c.g.shape(x).rank()));
  c.set_output(0, ops::global_avg_pool(c.g, x, out_name(c)));
}

// BatchNormalization (inference, ONNX's default): graphrun's batch_norm with the file's scale,
// B (trainable) and running mean and variance (state parameters, not trained). ONNX's momentum
// is the same convention as graphrun's.
void batch_normalization(Ctx& c) {
  if (c.attr_int("training_mode", 0) != 0) c.unsupported("BatchNormalization in training mode");
  for (int i = 1; i < 5; ++i) {
    if (c.output_used(i)) c.unsupported("BatchNormalization's running-statistics outputs");
  }
  const NodeId x = c.input(0);
  NodeId in[5] = {x};
  for (int i = 1; i < 5; ++i) {
    in[i] = c.input(i);
    if (c.g.node(in[i]).op != OpKind::Parameter) {
      c.unsupported(fmt::format("BatchNormalization with input {} that is not an initializer", i));
    }
  }
  for (int i = 3; i < 5; ++i) c.g.mutable_node(in[i]).trainable = false;
  c.set_output(0, ops::batch_norm(c.g, x, in[1], in[2], in[3], in[4], c.attr_float("momentum", 0.9f),
                                  c.attr_float("epsilon", 1e-5f), out_name(c)));
}

void layer_normalization(Ctx& c) {
  if (c.output_used(1) || c.output_used(2)) c.unsupported("LayerNormalization's Mean and InvStdDev outputs");
  const NodeId x = c.input(0);
  const int rank = c.g.shape(x).rank();
  const int axis = norm_axis(c, c.attr_int("axis", -1), std::max(rank, 1));
  if (axis == 0) c.unsupported("LayerNormalization over axis 0 (graphrun normalises within a sample)");
  NodeId beta = kNoNode;
  if (c.has_input(2)) {
    beta = c.input(2);
  } else {  // no B: a zero one
    Shape s;
    for (int i = axis; i < rank; ++i) s.push_back(c.g.shape(x)[i]);
    beta = c.g.constant(out_name(c) + "/beta", Tensor(s));
  }
  c.set_output(0, ops::layer_norm(c.g, x, c.input(1), beta, axis, c.attr_float("epsilon", 1e-5f), out_name(c)));
}

void concat(Ctx& c) {
  std::vector<NodeId> inputs;
  for (int i = 0; i < c.input_count(); ++i) inputs.push_back(c.input(i));
  if (inputs.empty()) c.fail("no inputs");
  if (!c.has_attr("axis")) c.fail("the axis attribute is required");
  const int axis = norm_axis(c, c.attr_int("axis", 1), std::max(c.g.shape(inputs[0]).rank(), 1));
  if (inputs.size() == 1) {
    c.set_output(0, inputs[0]);
    return;
  }
  c.set_output(0, ops::concat(c.g, inputs, axis, out_name(c)));
}

struct OpEntry {
  const char* name;
  OpHandler handler;
};
constexpr OpEntry kOps[] = {
    {"Add", add},
    {"AveragePool", average_pool},
    {"BatchNormalization", batch_normalization},
    {"Concat", concat},
    {"Constant", constant},
    {"Conv", conv},
    {"Div", div},
    {"GlobalAveragePool", global_average_pool},
    {"MaxPool", max_pool},
    {"Dropout", dropout},
    {"Elu", elu},
    {"Flatten", flatten},
    {"Gemm", gemm},
    {"Identity", identity},
    {"LeakyRelu", leaky_relu},
    {"LayerNormalization", layer_normalization},
    {"LogSoftmax", log_softmax},
    {"MatMul", matmul},
    {"Mul", mul},
    {"Relu", relu},
    {"Reshape", reshape},
    {"Selu", selu},
    {"Sigmoid", sigmoid},
    {"Softmax", softmax},
    {"Softplus", softplus},
    {"Sub", sub},
    {"Tanh", tanh_op},
};

}  // namespace

OpHandler find_op(const std::string& op_type) {
  for (const OpEntry& e : kOps) {
    if (op_type == e.name) return e.handler;
  }
  return nullptr;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const OpEntry& e : kOps) names.emplace_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace graphrun::onnx_io
