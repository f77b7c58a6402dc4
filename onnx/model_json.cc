#include "onnx/model_json.h"

#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "plugins/include/graphrun/plugin.h"

namespace graphrun::onnx_io {
namespace {

using Json = nlohmann::ordered_json;

// Model-file names: letters, digits, '_', '.', '-' (ONNX names may hold '/', ':' and spaces).
std::string clean(std::string s) {
  while (!s.empty() && (s[0] == '/' || s[0] == '.')) s.erase(0, 1);
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ch = '_';
  }
  return s.empty() ? "node" : s;
}

std::string strip_suffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0
             ? s.substr(0, s.size() - suffix.size())
             : std::string();
}

class Writer {
 public:
  Writer(const Imported& m, const std::string& source) : m_(m), g_(m.graph), source_(source) {
    readers_.assign(static_cast<size_t>(g_.size()), 0);
    for (const Node& n : g_.nodes()) {
      for (NodeId in : n.inputs) ++readers_[static_cast<size_t>(in)];
    }
    for (NodeId o : m.outputs) ++readers_[static_cast<size_t>(o)];
  }

  ModelFileText write() {
    Json inputs = Json::array();
    for (NodeId id : m_.inputs) {
      const Shape& s = g_.shape(id);
      if (s.rank() < 2) fail(id, "a graph input needs a batch dimension and at least one more");
      Json shape = Json::array();
      for (int i = 1; i < s.rank(); ++i) shape.push_back(s[i]);
      const std::string name = unique(clean(g_.node(id).name));
      names_[id] = name;
      inputs.push_back(Json{{"name", name}, {"shape", shape}});
    }
    for (NodeId id = 0; id < g_.size(); ++id) visit(id);
    Json outputs = Json::array();
    for (NodeId o : m_.outputs) outputs.push_back(name_of(o));
    // A classifier exported with logits out: the model file's cross-entropy loss fuses the
    // softmax of its first output, so that dense node says "softmax" (same argmax, and the
    // model trains and evaluates as one of graphrun's own).
    for (Json& n : nodes_) {
      if (!outputs.empty() && n["name"] == outputs[0] && n["op"] == "dense" && !n.contains("activation")) {
        n["activation"] = "softmax";
      }
    }
    Json doc;
    doc["graph"] = Json{{"inputs", inputs}, {"nodes", nodes_}, {"outputs", outputs}};
    ModelFileText out;
    out.json = doc.dump(2) + "\n";
    out.weights = std::move(weights_);
    return out;
  }

 private:
  [[noreturn]] void fail(NodeId id, const std::string& what) const {
    throw Error(ErrorKind::BadInput, fmt::format("{}: node '{}' ({}): {}; it has no model-file form", source_,
                                                 g_.node(id).name, op_name(g_.node(id).op), what));
  }

  std::string unique(std::string name) {
    std::string n = name;
    for (int k = 2; used_.count(n); ++k) n = fmt::format("{}_{}", name, k);
    used_[n] = true;
    return n;
  }

  const std::string& name_of(NodeId id) {
    auto it = names_.find(id);
    if (it == names_.end()) fail(id, "its value is not computed by a model-file node");
    return it->second;
  }

  // The node whose value `id` forwards (an alias was dropped): the same name.
  void alias(NodeId id, NodeId of) { names_[id] = name_of(of); }

  bool only_reader(NodeId producer) const { return readers_[static_cast<size_t>(producer)] == 1; }

  // The single op node reading `id`, when there is exactly one and it is the next one built.
  NodeId sole_consumer(NodeId id, OpKind op) const {
    if (!only_reader(id)) return kNoNode;
    for (NodeId k = id + 1; k < g_.size(); ++k) {
      const Node& n = g_.node(k);
      for (NodeId in : n.inputs) {
        if (in == id) return n.op == op ? k : kNoNode;
      }
    }
    return kNoNode;
  }

  bool is_param(NodeId id) const { return g_.node(id).op == OpKind::Parameter; }
  const Tensor& param(NodeId id) const { return m_.params.at(g_.node(id).name); }

  void activation_keys(Json& j, const Node& act) {
    if (act.op == OpKind::Softmax) {
      j["activation"] = "softmax";
      return;
    }
    j["activation"] = act.activation->name;
    if (act.activation->n_params == 0) return;
    Json p = Json::object();
    for (uint32_t i = 0; i < act.activation->n_params; ++i)
      p[act.activation->params[i].name] = act.activation_params[i];
    j["activation_params"] = p;
  }

  void visit(NodeId id) {
    const Node& n = g_.node(id);
    if (done_.count(id)) return;
    switch (n.op) {
      case OpKind::Input:
      case OpKind::Parameter:
      case OpKind::Constant:  // read by the node that uses it (a layer norm's zero beta), else name_of fails
        return;
      case OpKind::MatMul:
        dense(id);
        return;
      case OpKind::Activation:
      case OpKind::Softmax: {
        Json j{{"name", unique(clean(n.name))}, {"op", "activation"}, {"inputs", Json::array({name_of(n.inputs[0])})}};
        activation_keys(j, n);
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      case OpKind::Reshape: {
        const Shape& s = n.shape;
        const Shape& in = g_.shape(n.inputs[0]);
        Json j{{"name", unique(clean(n.name))}, {"inputs", Json::array({name_of(n.inputs[0])})}};
        if (s.rank() == 2 && in.rank() > 2) {
          j["op"] = "flatten";
        } else {
          if (s.rank() < 1) fail(id, "a reshape to a scalar");
          Json shape = Json::array();
          for (int i = 1; i < s.rank(); ++i) shape.push_back(s[i]);
          j["op"] = "reshape";
          j["shape"] = shape;
        }
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      case OpKind::Add: {
        if (is_param(n.inputs[1]) || g_.node(n.inputs[1]).op == OpKind::Constant) fail(id, "a bias not after a matmul");
        Json j{{"name", unique(clean(n.name))},
               {"op", "add"},
               {"inputs", Json::array({name_of(n.inputs[0]), name_of(n.inputs[1])})}};
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      case OpKind::Conv2d:
        conv(id);
        return;
      case OpKind::BatchNorm:
      case OpKind::LayerNorm:
        norm(id);
        return;
      case OpKind::Concat: {
        Json ins = Json::array();
        for (NodeId in : n.inputs) ins.push_back(name_of(in));
        Json j{{"name", unique(clean(n.name))}, {"op", "concat"}, {"inputs", ins}, {"axis", n.axis}};
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      case OpKind::MaxPool2d:
      case OpKind::AvgPool2d: {
        const Node::Window& w = n.window;
        if (n.op == OpKind::AvgPool2d && w.count_include_pad && (w.pad[0] || w.pad[1] || w.pad[2] || w.pad[3])) {
          fail(id, "an average pool that counts its padding");
        }
        Json j{{"name", unique(clean(n.name))},
               {"op", n.op == OpKind::MaxPool2d ? "max_pool2d" : "avg_pool2d"},
               {"inputs", Json::array({name_of(n.inputs[0])})},
               {"pool_size", {w.kernel[0], w.kernel[1]}},
               {"strides", {w.stride[0], w.stride[1]}},
               {"padding", {w.pad[0], w.pad[1], w.pad[2], w.pad[3]}}};
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      case OpKind::GlobalAvgPool: {
        Json j{{"name", unique(clean(n.name))},
               {"op", "global_avg_pool"},
               {"inputs", Json::array({name_of(n.inputs[0])})}};
        names_[id] = j["name"];
        nodes_.push_back(j);
        return;
      }
      default:
        fail(id, "an op the model-file graph has no node for");
    }
  }

  // conv2d(x, W) [+ b per channel] [activation] as one conv2d node (weights as they are:
  // [O, C/groups, kh, kw] is PyTorch's layout and the model file's).
  void conv(NodeId id) {
    const Node& cv = g_.node(id);
    const NodeId w = cv.inputs[1];
    if (!is_param(w)) fail(id, "a convolution that is not by a weight parameter");
    const Shape& ws = g_.shape(w);
    std::string base = strip_suffix(g_.node(w).name, ".weight");
    base = unique(clean(base.empty() ? cv.name : base));
    const Node::Window& win = cv.window;
    Json j{{"name", base},
           {"op", "conv2d"},
           {"inputs", Json::array({name_of(cv.inputs[0])})},
           {"filters", ws[0]},
           {"kernel_size", {ws[2], ws[3]}},
           {"strides", {win.stride[0], win.stride[1]}},
           {"padding", {win.pad[0], win.pad[1], win.pad[2], win.pad[3]}},
           {"dilation", {win.dilation[0], win.dilation[1]}},
           {"groups", win.groups}};
    weights_.emplace_back(base + ".weight", param(w));
    done_[id] = true;
    NodeId last = id;
    const NodeId add = sole_consumer(id, OpKind::AddChannels);
    if (add != kNoNode && g_.node(add).inputs[0] == id && is_param(g_.node(add).inputs[1])) {
      weights_.emplace_back(base + ".bias", param(g_.node(add).inputs[1]));
      last = add;
      done_[add] = true;
    } else {
      j["bias"] = false;
    }
    fuse_activation(j, last);
    nodes_.push_back(j);
    for (auto& [k, v] : done_) {
      if (k >= id && !names_.count(k)) names_[k] = base;
    }
  }

  // batch_norm (gamma, beta, running_mean, running_var) and layer_norm (gamma, beta), the
  // parameters named "<name>.gamma", ... as the model file's; name from PyTorch's "<name>.weight".
  void norm(NodeId id) {
    const Node& n = g_.node(id);
    const bool batch = n.op == OpKind::BatchNorm;
    std::string base = strip_suffix(g_.node(n.inputs[1]).name, ".weight");
    base = unique(clean(base.empty() ? n.name : base));
    Json j{{"name", base},
           {"op", batch ? "batch_norm" : "layer_norm"},
           {"inputs", Json::array({name_of(n.inputs[0])})},
           {"epsilon", n.epsilon}};
    if (batch)
      j["momentum"] = n.momentum;
    else
      j["axis"] = n.axis - n.shape.rank();  // negative: counted from the end, as the model file's default
    const char* names[] = {"gamma", "beta", "running_mean", "running_var"};
    for (size_t k = 1; k < n.inputs.size(); ++k) {
      const Node& p = g_.node(n.inputs[k]);
      if (p.op != OpKind::Parameter && p.op != OpKind::Constant)
        fail(id, "a normalisation parameter computed at run time");
      weights_.emplace_back(base + "." + names[k - 1], p.op == OpKind::Parameter ? param(n.inputs[k]) : p.value);
    }
    names_[id] = base;
    nodes_.push_back(j);
  }

  void fuse_activation(Json& j, NodeId& last) {
    NodeId act = sole_consumer(last, OpKind::Activation);
    if (act == kNoNode) act = sole_consumer(last, OpKind::Softmax);
    if (act == kNoNode) return;
    activation_keys(j, g_.node(act));
    done_[act] = true;
    last = act;
  }

  // matmul(x, W) [+ b] [activation] as one dense node.
  void dense(NodeId id) {
    const Node& mm = g_.node(id);
    const NodeId x = mm.inputs[0], w = mm.inputs[1];
    if (mm.trans_a || !is_param(w)) fail(id, "a matmul that is not by a weight parameter");
    const Tensor& wt = param(w);
    const int64_t in = mm.trans_b ? wt.shape()[1] : wt.shape()[0], units = mm.trans_b ? wt.shape()[0] : wt.shape()[1];
    std::string base = strip_suffix(g_.node(w).name, ".weight");
    base = unique(clean(base.empty() ? mm.name : base));
    Tensor weight(Shape{in, units});
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t u = 0; u < units; ++u) weight[i * units + u] = mm.trans_b ? wt[u * in + i] : wt[i * units + u];
    }
    Json j{{"name", base}, {"op", "dense"}, {"inputs", Json::array({name_of(x)})}, {"units", units}};
    weights_.emplace_back(base + ".weight", std::move(weight));
    NodeId last = id;
    done_[id] = true;
    const NodeId add = sole_consumer(id, OpKind::Add);
    const NodeId bias = add == kNoNode ? kNoNode : g_.node(add).inputs[1];
    if (add != kNoNode && g_.node(add).inputs[0] == id && is_param(bias) && g_.shape(bias).rank() == 1) {
      weights_.emplace_back(base + ".bias", param(bias));
      last = add;
      done_[add] = true;
    } else {
      j["bias"] = false;
    }
    fuse_activation(j, last);
    for (NodeId k = id; k <= last; ++k) {
      if (done_.count(k)) names_[k] = base;
    }
    nodes_.push_back(j);
  }

  const Imported& m_;
  const Graph& g_;
  std::string source_;
  std::vector<int> readers_;
  std::map<NodeId, std::string> names_;
  std::map<std::string, bool> used_;
  std::map<NodeId, bool> done_;
  Json nodes_ = Json::array();
  std::vector<std::pair<std::string, Tensor>> weights_;
};

}  // namespace

ModelFileText to_model_file(const Imported& m, const std::string& source) { return Writer(m, source).write(); }

}  // namespace graphrun::onnx_io
