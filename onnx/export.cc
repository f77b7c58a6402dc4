#include "onnx/export.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <set>

#include "core/error.h"
#include "graphrun/plugin.h"
#include "onnx/import.h"
#include "onnx/tensor_proto.h"

namespace graphrun::onnx_io {
namespace {

using ::onnx::NodeProto;

class Exporter {
 public:
  Exporter(const Graph& g, const ParameterStore& params, int64_t opset) : g_(g), params_(params), opset_(opset) {
    readers_.assign(static_cast<size_t>(g.size()), 0);
    for (const Node& n : g.nodes()) {
      for (NodeId in : n.inputs) ++readers_[static_cast<size_t>(in)];
    }
  }

  std::string run(NodeId input, NodeId output, const io::Scaler* scaler) {
    ::onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("graphrun");
    model.add_opset_import()->set_version(opset_);
    graph_ = model.mutable_graph();
    graph_->set_name("graphrun");
    add_value_info(graph_->add_input(), g_.node(input).name, g_.shape(input));
    names_[input] = g_.node(input).name;
    if (scaler && scaler->kind != io::Scaling::None) {
      const std::string x = g_.node(input).name;
      initializer(scaler->offset, "scaler.offset");
      initializer(scaler->scale, "scaler.scale");
      node("Sub", "scaler.sub", {x, "scaler.offset"}, "scaler.centered");
      node("Mul", "scaler", {"scaler.centered", "scaler.scale"}, "scaled_" + x);
      names_[input] = "scaled_" + x;
    }
    std::vector<bool> needed(static_cast<size_t>(g_.size()), false);
    needed[static_cast<size_t>(output)] = true;
    for (NodeId id = output; id >= 0; --id) {
      if (!needed[static_cast<size_t>(id)]) continue;
      for (NodeId in : g_.node(id).inputs) needed[static_cast<size_t>(in)] = true;
    }
    for (NodeId id = 0; id <= output; ++id) {
      if (needed[static_cast<size_t>(id)] && !names_.count(id)) visit(id, input);
    }
    add_value_info(graph_->add_output(), name(output), g_.shape(output));
    return model.SerializeAsString();
  }

 private:
  [[noreturn]] void fail(NodeId id, const std::string& what) const {
    throw Error(ErrorKind::BadInput,
                fmt::format("export: node '{}' ({}): {}", g_.node(id).name, op_name(g_.node(id).op), what));
  }

  const std::string& name(NodeId id) const { return names_.at(id); }

  void add_value_info(::onnx::ValueInfoProto* v, const std::string& name, const Shape& s) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    auto* shape = t->mutable_shape();
    for (int i = 0; i < s.rank(); ++i) {
      if (i == 0 && s.has_batch())
        shape->add_dim()->set_dim_param("N");
      else
        shape->add_dim()->set_dim_value(s[i]);
    }
  }

  void initializer(const Tensor& t, const std::string& name) { encode_tensor(t, name, *graph_->add_initializer()); }

  NodeProto* node(const std::string& op, const std::string& node_name, std::vector<std::string> inputs,
                  const std::string& output) {
    NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(node_name);
    for (auto& in : inputs) n->add_input(in);
    n->add_output(output);
    return n;
  }

  static void attr_int(NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_float(NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }

  std::string layer_of(NodeId w) const {
    const std::string& n = g_.node(w).name;
    const std::string suffix = ".weight";
    if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return n.substr(0, n.size() - suffix.size());
    }
    return n;
  }

  // Softmax over the last axis: opsets before 13 coerce to 2-D at `axis`, the same for rank 2.
  void softmax(NodeId id, const std::string& op) {
    const Node& n = g_.node(id);
    if (opset_ < 13 && n.shape.rank() != 2) fail(id, fmt::format("{} of rank {} needs opset 13", op, n.shape.rank()));
    NodeProto* p = node(op, n.name, {name(n.inputs[0])}, n.name);
    attr_int(p, "axis", opset_ < 13 ? 1 : -1);
    names_[id] = n.name;
  }

  void activation(NodeId id) {
    const Node& n = g_.node(id);
    const std::string fn = n.activation->name;
    const std::string x = name(n.inputs[0]);
    const auto& p = n.activation_params;
    names_[id] = n.name;
    if (fn == "relu")
      node("Relu", n.name, {x}, n.name);
    else if (fn == "sigmoid")
      node("Sigmoid", n.name, {x}, n.name);
    else if (fn == "tanh")
      node("Tanh", n.name, {x}, n.name);
    else if (fn == "selu")
      node("Selu", n.name, {x}, n.name);
    else if (fn == "leaky_relu")
      attr_float(node("LeakyRelu", n.name, {x}, n.name), "alpha", static_cast<float>(p[0]));
    else if (fn == "elu")
      attr_float(node("Elu", n.name, {x}, n.name), "alpha", static_cast<float>(p[0]));
    else if (fn == "softplus" && p[0] == 1.0)
      node("Softplus", n.name, {x}, n.name);
    else if (fn == "softmax")
      softmax(id, "Softmax");
    else if (fn == "log_softmax")
      softmax(id, "LogSoftmax");
    else if (fn == "silu" || (fn == "swish" && p[0] == 1.0)) {
      node("Sigmoid", n.name + ".sigmoid", {x}, n.name + ".sigmoid");
      node("Mul", n.name, {x, n.name + ".sigmoid"}, n.name);
    } else {
      fail(id, fmt::format("activation '{}' with these parameters has no ONNX op here", fn));
    }
  }

  void visit(NodeId id, NodeId input) {
    const Node& n = g_.node(id);
    switch (n.op) {
      case OpKind::Input:
        if (id != input) fail(id, "a second input (export takes one)");
        return;
      case OpKind::Parameter:
        initializer(params_.at(n.name), n.name);
        names_[id] = n.name;
        return;
      case OpKind::Constant:
        initializer(n.value, n.name);
        names_[id] = n.name;
        return;
      case OpKind::MatMul: {
        // Gemm: the matmul and, when only it reads the product, its bias add.
        const NodeId b = n.inputs[1];
        const std::string layer = g_.node(b).op == OpKind::Parameter ? layer_of(b) : n.name;
        if (!names_.count(b)) visit(b, input);
        std::vector<std::string> ins = {name(n.inputs[0]), name(b)};
        std::string out = n.name;
        NodeId bias_add = kNoNode;
        if (readers_[static_cast<size_t>(id)] == 1) {
          for (NodeId k = id + 1; k < g_.size(); ++k) {
            const Node& a = g_.node(k);
            if (a.op == OpKind::Add && a.inputs[0] == id && g_.shape(a.inputs[1]).rank() == 1) bias_add = k;
            if (std::find(a.inputs.begin(), a.inputs.end(), id) != a.inputs.end()) break;
          }
        }
        if (bias_add != kNoNode) {
          const NodeId bias = g_.node(bias_add).inputs[1];
          if (!names_.count(bias)) visit(bias, input);
          ins.push_back(name(bias));
          out = g_.node(bias_add).name;
          names_[bias_add] = out;
        }
        NodeProto* p = node("Gemm", layer, ins, out);
        if (n.trans_a) attr_int(p, "transA", 1);
        if (n.trans_b) attr_int(p, "transB", 1);
        names_[id] = out;
        return;
      }
      case OpKind::Add:
        if (g_.shape(n.inputs[0]) != g_.shape(n.inputs[1]) && g_.shape(n.inputs[1]).rank() != 1) fail(id, "broadcast");
        node("Add", n.name, {name(n.inputs[0]), name(n.inputs[1])}, n.name);
        names_[id] = n.name;
        return;
      case OpKind::Mul:
        node("Mul", n.name, {name(n.inputs[0]), name(n.inputs[1])}, n.name);
        names_[id] = n.name;
        return;
      case OpKind::Scale: {
        Tensor s(Shape{}, std::vector<float>{n.alpha});
        initializer(s, n.name + ".alpha");
        node("Mul", n.name, {name(n.inputs[0]), n.name + ".alpha"}, n.name);
        names_[id] = n.name;
        return;
      }
      case OpKind::Activation:
        activation(id);
        return;
      case OpKind::Softmax:
        softmax(id, "Softmax");
        return;
      case OpKind::Reshape: {
        // int64 shape initializer: 0 keeps the batch dimension (allowzero is off).
        ::onnx::TensorProto* t = graph_->add_initializer();
        t->set_name(n.name + ".shape");
        t->set_data_type(::onnx::TensorProto::INT64);
        t->add_dims(n.shape.rank());
        for (int i = 0; i < n.shape.rank(); ++i) t->add_int64_data(i == 0 && n.shape.has_batch() ? 0 : n.shape[i]);
        node("Reshape", n.name, {name(n.inputs[0]), n.name + ".shape"}, n.name);
        names_[id] = n.name;
        return;
      }
      default:
        fail(id, "no ONNX export for this op");
    }
  }

  const Graph& g_;
  const ParameterStore& params_;
  int64_t opset_;
  ::onnx::GraphProto* graph_ = nullptr;
  std::map<NodeId, std::string> names_;
  std::vector<int> readers_;
};

}  // namespace

std::string export_onnx(const Graph& g, const ParameterStore& params, NodeId input, NodeId output,
                        const io::Scaler* scaler, int64_t opset) {
  if (opset < kOnnxMinOpset || opset > kOnnxMaxOpset) {
    throw Error(ErrorKind::BadInput,
                fmt::format("export: opset {} is outside {} to {}", opset, kOnnxMinOpset, kOnnxMaxOpset));
  }
  return Exporter(g, params, opset).run(input, output, scaler);
}

}  // namespace graphrun::onnx_io
