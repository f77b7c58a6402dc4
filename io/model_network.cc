#include <fmt/format.h>
#include <cctype>
#include <map>

#include "core/error.h"
#include "io/detail/model_network.h"
#include "io/quote.h"

namespace graphrun::io::detail {
namespace {

constexpr int64_t kMaxGraphInputs = 16;
constexpr int64_t kMaxRank = 4;  // per-sample dimensions of an input or a reshape
const char* const kNameRule = "a name of 1 to 64 letters, digits, '_', '-' or '.'";

bool valid_name(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 64;
  for (char c : s) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  return ok;
}

// The keys each op takes besides "name", "op" and (graph form) "inputs".
std::vector<std::string> op_keys(const std::string& op) {
  if (op == "dense")
    return {"units", "activation", "activation_params", "init", "bias", "bias_init", "trainable", "l1", "l2"};
  if (op == "conv2d") {
    return {"filters",           "kernel_size", "strides", "padding",   "dilation",  "groups", "activation",
            "activation_params", "init",        "bias",    "bias_init", "trainable", "l1",     "l2"};
  }
  if (op == "max_pool2d" || op == "avg_pool2d") return {"pool_size", "strides", "padding"};
  if (op == "batch_norm") return {"momentum", "epsilon", "trainable"};
  if (op == "layer_norm") return {"epsilon", "axis", "trainable"};
  if (op == "dropout") return {"rate"};
  if (op == "reshape") return {"shape"};
  if (op == "activation") return {"activation", "activation_params"};
  if (op == "concat") return {"axis"};
  return {};  // global_avg_pool, flatten, add
}

class NetworkReader {
 public:
  NetworkReader(const JsonFields& f, ModelFile& m) : f_(f), m_(m) {}

  void read(const Json& root) {
    if (root.contains("graph")) {
      for (const char* k : {"inputs", "layers"}) {
        if (root.contains(k))
          f_.fail(k, "not allowed beside \"graph\" (the graph form names its own inputs and nodes)");
      }
      graph(root.at("graph"));
    } else {
      if (!root.contains("inputs") || !root.contains("layers")) {
        f_.fail("", "expected \"inputs\" and \"layers\" (the sequential form) or \"graph\" (the graph form)");
      }
      sequential(root.at("inputs"), root.at("layers"));
    }
  }

 private:
  // An input's per-sample shape: an integer (features) or an array of 1 to 4 dimensions.
  std::vector<int64_t> input_shape(const Json& v, const std::string& where) const {
    if (!v.is_array()) return {f_.integer(v, where, 1, kModelMaxInputSize)};
    if (v.empty() || static_cast<int64_t>(v.size()) > kMaxRank) {
      f_.expected(where, fmt::format("a per-sample shape of 1 to {} dimensions", kMaxRank), v);
    }
    std::vector<int64_t> shape;
    int64_t n = 1;
    for (size_t i = 0; i < v.size(); ++i) {
      shape.push_back(f_.integer(v[i], index(where, i), 1, kModelMaxInputSize));
      n *= shape.back();  // each factor <= 1e8 and the running product is checked: no overflow
      if (n > kModelMaxInputSize) {
        f_.fail(where, fmt::format("expected at most {} elements per sample, got more", kModelMaxInputSize));
      }
    }
    return shape;
  }

  void add_input(std::string name, std::vector<int64_t> shape, const std::string& where) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    m_.inputs += n;
    if (m_.inputs > kModelMaxInputSize) {
      f_.fail(where, fmt::format("the inputs hold more than {} features per sample", kModelMaxInputSize));
    }
    m_.graph_inputs.push_back({std::move(name), std::move(shape)});
  }

  void sequential(const Json& inputs, const Json& layers) {
    add_input("features", input_shape(inputs, "inputs"), "inputs");
    if (!layers.is_array() || layers.empty() || layers.size() > static_cast<size_t>(kModelMaxLayers)) {
      f_.expected("layers", fmt::format("an array of 1 to {} layers", kModelMaxLayers), layers);
    }
    std::map<std::string, std::string> seen = {{"features", "the input"}};
    std::string previous = "features";
    for (size_t i = 0; i < layers.size(); ++i) {
      LayerSpec l = layer(layers[i], index("layers", i), i, false);
      if (auto [it, fresh] = seen.emplace(l.name, l.where); !fresh) {
        f_.fail(join(l.where, "name"),
                fmt::format("duplicate layer name {} (also {})", quote_text(l.name), it->second));
      }
      l.inputs = {previous};
      previous = l.name;
      if (l.op == "add" || l.op == "concat") {
        f_.fail(join(l.where, "op"), fmt::format("\"{}\" joins two branches: use the graph form (\"graph\")", l.op));
      }
      m_.layers.push_back(std::move(l));
    }
    m_.outputs = {previous};
  }

  void graph(const Json& g) {
    f_.check_keys(g, "graph", {"inputs", "nodes", "outputs"});
    for (const char* k : {"inputs", "nodes", "outputs"}) {
      if (!g.contains(k)) f_.fail("graph", fmt::format("expected \"{}\"", k));
    }
    m_.graph_form = true;
    std::map<std::string, std::string> seen;  // name -> where it was declared
    const auto declare = [&](const std::string& name, const std::string& where) {
      if (auto [it, fresh] = seen.emplace(name, where); !fresh) {
        f_.fail(join(where, "name"), fmt::format("duplicate name {} (also {})", quote_text(name), it->second));
      }
    };
    const Json& ins = g.at("inputs");
    if (!ins.is_array() || ins.empty() || static_cast<int64_t>(ins.size()) > kMaxGraphInputs) {
      f_.expected("graph.inputs", fmt::format("an array of 1 to {} inputs", kMaxGraphInputs), ins);
    }
    for (size_t i = 0; i < ins.size(); ++i) {
      const std::string w = index("graph.inputs", i);
      f_.check_keys(ins[i], w, {"name", "shape"});
      if (!ins[i].contains("name") || !ins[i].contains("shape")) f_.fail(w, "expected \"name\" and \"shape\"");
      std::string name = node_name(ins[i].at("name"), join(w, "name"));
      declare(name, w);
      add_input(std::move(name), input_shape(ins[i].at("shape"), join(w, "shape")), w);
    }
    const Json& nodes = g.at("nodes");
    if (!nodes.is_array() || nodes.empty() || nodes.size() > static_cast<size_t>(kModelMaxLayers)) {
      f_.expected("graph.nodes", fmt::format("an array of 1 to {} nodes", kModelMaxLayers), nodes);
    }
    std::vector<LayerSpec> file_order;
    for (size_t i = 0; i < nodes.size(); ++i) {
      file_order.push_back(layer(nodes[i], index("graph.nodes", i), i, true));
      declare(file_order.back().name, file_order.back().where);
    }
    const Json& outs = g.at("outputs");
    if (!outs.is_array() || outs.empty() || static_cast<int64_t>(outs.size()) > kMaxGraphInputs) {
      f_.expected("graph.outputs", fmt::format("an array of 1 to {} node names", kMaxGraphInputs), outs);
    }
    for (size_t i = 0; i < outs.size(); ++i) {
      const std::string w = index("graph.outputs", i);
      std::string name = f_.string(outs[i], w, "a node name");
      if (!seen.contains(name))
        f_.fail(w, fmt::format("unknown node name {}; expected a node of graph.nodes", quote_text(name)));
      if (!seen.at(name).starts_with("graph.nodes"))
        f_.fail(w, fmt::format("expected a node, got the graph input {}", quote_text(name)));
      for (const std::string& o : m_.outputs) {
        if (o == name) f_.fail(w, fmt::format("{} is already an output", quote_text(name)));
      }
      m_.outputs.push_back(std::move(name));
    }
    for (const LayerSpec& l : file_order) {
      for (size_t k = 0; k < l.inputs.size(); ++k) {
        if (!seen.contains(l.inputs[k])) {
          f_.fail(index(join(l.where, "inputs"), k),
                  fmt::format("node {}: unknown input name {}; expected a graph input or another node's name",
                              quote_text(l.name), quote_text(l.inputs[k])));
        }
      }
    }
    sort_and_check_used(std::move(file_order));
  }

  // Orders the nodes so that each comes after its inputs (depth first, in file order), refusing
  // a cycle; then refuses a node or input that no output depends on.
  void sort_and_check_used(std::vector<LayerSpec> nodes) {
    std::map<std::string, size_t> node_index;
    for (size_t i = 0; i < nodes.size(); ++i) node_index[nodes[i].name] = i;
    enum class Mark { New, Open, Done };
    std::vector<Mark> mark(nodes.size(), Mark::New);
    // Iterative depth-first search: a fuzzer's 1000-node chain must not exhaust the C++ stack.
    for (size_t root = 0; root < nodes.size(); ++root) {
      if (mark[root] != Mark::New) continue;
      std::vector<std::pair<size_t, size_t>> work = {{root, 0}};  // (node, next input to visit)
      mark[root] = Mark::Open;
      while (!work.empty()) {
        auto& [n, next] = work.back();
        if (next == nodes[n].inputs.size()) {
          mark[n] = Mark::Done;
          m_.layers.push_back(nodes[n]);
          work.pop_back();
          continue;
        }
        auto it = node_index.find(nodes[n].inputs[next++]);
        if (it == node_index.end() || mark[it->second] == Mark::Done) continue;  // a graph input, or placed
        if (mark[it->second] == Mark::Open) fail_cycle(nodes, work, it->second);
        mark[it->second] = Mark::Open;
        work.emplace_back(it->second, 0);
      }
    }
    // Every node and input must feed an output: walk back from the outputs in reverse order.
    std::map<std::string, bool> used;
    for (const std::string& o : m_.outputs) used[o] = true;
    for (auto it = m_.layers.rbegin(); it != m_.layers.rend(); ++it) {
      if (!used[it->name]) {
        f_.fail(it->where, fmt::format("node {}: no output depends on it; expected it to feed one of graph.outputs "
                                       "(or remove it)",
                                       quote_text(it->name)));
      }
      for (const std::string& in : it->inputs) used[in] = true;
    }
    for (size_t i = 0; i < m_.graph_inputs.size(); ++i) {
      if (!used[m_.graph_inputs[i].name]) {
        f_.fail(index("graph.inputs", i), fmt::format("input {}: no output depends on it; expected a node to read it",
                                                      quote_text(m_.graph_inputs[i].name)));
      }
    }
  }

  // `open`: the depth-first path, whose nodes from `back` on form the cycle.
  [[noreturn]] void fail_cycle(const std::vector<LayerSpec>& nodes, const std::vector<std::pair<size_t, size_t>>& open,
                               size_t back) const {
    std::string path;
    bool on = false;
    for (const auto& [n, next] : open) {
      on = on || n == back;
      if (on) path += nodes[n].name + " -> ";
    }
    f_.fail(nodes[back].where, fmt::format("node {} is in a cycle ({}{}); expected an acyclic graph",
                                           quote_text(nodes[back].name), path, nodes[back].name));
  }

  std::string node_name(const Json& v, const std::string& where) const {
    std::string name = f_.string(v, where, kNameRule);
    if (!valid_name(name)) f_.expected(where, kNameRule, v);
    return name;
  }

  LayerSpec layer(const Json& v, const std::string& where, size_t i, bool graph_form) const {
    if (!v.is_object()) f_.expected(where, "an object", v);
    LayerSpec l;
    l.where = where;
    if (v.contains("op")) {
      l.op = f_.one_of(v.at("op"), join(where, "op"),
                       std::vector<std::string>(std::begin(kLayerOps), std::end(kLayerOps)));
    }
    std::vector<std::string> keys = {"name", "op"};
    if (graph_form) keys.emplace_back("inputs");
    for (std::string& k : op_keys(l.op)) keys.push_back(std::move(k));
    f_.check_keys(v, where, keys);
    if (v.contains("name")) {
      l.name = node_name(v.at("name"), join(where, "name"));
    } else if (graph_form) {
      f_.fail(where, "expected \"name\" (every node of the graph form is named)");
    } else {
      l.name = fmt::format("{}{}", l.op, i);
    }
    if (graph_form) node_inputs(v, l);
    if (l.op == "dense") {
      if (!v.contains("units"))
        f_.fail(where, fmt::format("expected \"units\" (an integer from 1 to {})", kModelMaxUnits));
      l.units = f_.integer(v.at("units"), join(where, "units"), 1, kModelMaxUnits);
    } else if (l.op == "conv2d") {
      if (!v.contains("filters"))
        f_.fail(where, fmt::format("expected \"filters\" (an integer from 1 to {})", kModelMaxUnits));
      l.filters = f_.integer(v.at("filters"), join(where, "filters"), 1, kModelMaxUnits);
      window(v, l, "kernel_size");
      if (v.contains("dilation")) pair(v.at("dilation"), join(where, "dilation"), 1, l.dilation);
      if (v.contains("groups"))
        l.groups = static_cast<int32_t>(f_.integer(v.at("groups"), join(where, "groups"), 1, kModelMaxUnits));
      if (l.filters % l.groups != 0) {
        f_.fail(join(where, "groups"), fmt::format("expected a divisor of filters ({}), got {}", l.filters, l.groups));
      }
      l.init = Initializer{InitKind::HeUniform, 0, 0};  // ReLU-friendly; PyTorch and Keras differ anyway
    } else if (l.op == "max_pool2d" || l.op == "avg_pool2d") {
      window(v, l, "pool_size");
    } else if (l.op == "batch_norm") {
      if (v.contains("momentum")) l.momentum = fraction(v.at("momentum"), join(where, "momentum"), true);
      if (v.contains("epsilon")) l.epsilon = positive(v.at("epsilon"), join(where, "epsilon"));
    } else if (l.op == "layer_norm") {
      l.axis = -1;
      if (v.contains("epsilon")) l.epsilon = positive(v.at("epsilon"), join(where, "epsilon"));
      if (v.contains("axis")) l.axis = axis(v.at("axis"), join(where, "axis"));
    } else if (l.op == "dropout") {
      if (!v.contains("rate")) f_.fail(where, "expected \"rate\" (a number >= 0 and < 1)");
      l.rate = fraction(v.at("rate"), join(where, "rate"), false);
    } else if (l.op == "reshape") {
      if (!v.contains("shape")) f_.fail(where, "expected \"shape\" (the per-sample shape, one -1 allowed)");
      reshape(v.at("shape"), join(where, "shape"), l);
    } else if (l.op == "activation") {
      if (!v.contains("activation")) f_.fail(where, "expected \"activation\" (an activation name)");
    } else if (l.op == "concat") {
      if (v.contains("axis")) l.axis = axis(v.at("axis"), join(where, "axis"));
    }
    if (v.contains("activation"))
      l.activation = f_.string(v.at("activation"), join(where, "activation"), "an activation name");
    if (v.contains("activation_params"))
      l.activation_params = f_.params(v.at("activation_params"), join(where, "activation_params"));
    if (v.contains("init")) l.init = f_.initializer(v.at("init"), join(where, "init"));
    if (v.contains("bias")) l.use_bias = f_.boolean(v.at("bias"), join(where, "bias"));
    if (v.contains("bias_init")) {
      if (!l.use_bias) f_.fail(join(where, "bias_init"), "given for a layer with \"bias\": false");
      l.bias_init = f_.initializer(v.at("bias_init"), join(where, "bias_init"));
    }
    if (v.contains("trainable")) l.trainable = f_.boolean(v.at("trainable"), join(where, "trainable"));
    for (const char* k : {"l1", "l2"}) {
      if (!v.contains(k)) continue;
      const double x = f_.number(v.at(k), join(where, k), "a penalty factor >= 0");
      if (!(x >= 0 && x <= 1e6)) f_.expected(join(where, k), "a penalty factor >= 0 and <= 1e6", v.at(k));
      (k[1] == '1' ? l.l1 : l.l2) = x;
    }
    f_.check_activation(l.activation, l.activation_params, where);
    return l;
  }

  void node_inputs(const Json& v, LayerSpec& l) const {
    const std::string w = join(l.where, "inputs");
    const size_t want = l.op == "add" ? 2 : 1;
    if (!v.contains("inputs"))
      f_.fail(l.where, "expected \"inputs\" (the names of the nodes or graph inputs it reads)");
    const Json& ins = v.at("inputs");
    const bool ok =
        ins.is_array() &&
        (l.op == "concat" ? ins.size() >= 2 && ins.size() <= static_cast<size_t>(kModelMaxLayers) : ins.size() == want);
    if (!ok) {
      f_.expected(w,
                  l.op == "concat" ? std::string("an array of 2 or more names")
                                   : fmt::format("an array of {} name{} for \"{}\"", want, want == 1 ? "" : "s", l.op),
                  ins);
    }
    for (size_t k = 0; k < ins.size(); ++k)
      l.inputs.push_back(f_.string(ins[k], index(w, k), "a node or graph-input name"));
  }

  // An integer or an [h, w] pair, each from lo to kModelMaxKernel.
  void pair(const Json& v, const std::string& where, int64_t lo, int32_t out[2]) const {
    if (!v.is_array()) {
      out[0] = out[1] = static_cast<int32_t>(f_.integer(v, where, lo, kModelMaxKernel));
      return;
    }
    if (v.size() != 2)
      f_.expected(where, fmt::format("an integer from {} to {} or a pair [h, w] of them", lo, kModelMaxKernel), v);
    for (size_t k = 0; k < 2; ++k)
      out[k] = static_cast<int32_t>(f_.integer(v[k], index(where, k), lo, kModelMaxKernel));
  }

  // kernel_size / pool_size (required), strides (default 1 for conv2d, the pool size for pooling), padding.
  void window(const Json& v, LayerSpec& l, const char* size_key) const {
    if (!v.contains(size_key)) f_.fail(l.where, fmt::format("expected \"{}\" (an integer or [h, w])", size_key));
    pair(v.at(size_key), join(l.where, size_key), 1, l.kernel);
    if (l.op != "conv2d") std::copy(l.kernel, l.kernel + 2, l.strides);
    if (v.contains("strides")) pair(v.at("strides"), join(l.where, "strides"), 1, l.strides);
    if (v.contains("padding")) padding(v.at("padding"), join(l.where, "padding"), l);
  }

  // "valid" | "same" | an integer | [h, w] | [top, left, bottom, right].
  void padding(const Json& v, const std::string& where, LayerSpec& l) const {
    if (v.is_string()) {
      l.same_padding = f_.one_of(v, where, {"valid", "same"}) == "same";
      return;
    }
    if (v.is_array() && v.size() == 4) {
      for (size_t k = 0; k < 4; ++k)
        l.pad[k] = static_cast<int32_t>(f_.integer(v[k], index(where, k), 0, kModelMaxKernel));
      return;
    }
    if (!v.is_array() && !v.is_number_integer()) {
      f_.expected(where, "\"valid\", \"same\", an integer, [h, w] or [top, left, bottom, right]", v);
    }
    int32_t hw[2];
    pair(v, where, 0, hw);
    l.pad[0] = l.pad[2] = hw[0];
    l.pad[1] = l.pad[3] = hw[1];
  }

  // A number in [0, 1] (closed) or [0, 1) (!closed).
  double fraction(const Json& v, const std::string& where, bool closed) const {
    const std::string want = closed ? "a number from 0 to 1" : "a number >= 0 and < 1";
    const double d = f_.number(v, where, want);
    if (d < 0 || (closed ? d > 1 : d >= 1)) f_.expected(where, want, v);
    return d;
  }

  double positive(const Json& v, const std::string& where) const {
    const double d = f_.number(v, where, "a number > 0");
    if (!(d > 0)) f_.expected(where, "a number > 0", v);
    return d;
  }

  // An axis that counts the batch dimension: 1 to 4, or -4 to -1 from the end.
  int32_t axis(const Json& v, const std::string& where) const {
    const int64_t a = f_.integer(v, where, -kMaxRank, kMaxRank);
    if (a == 0) f_.expected(where, "an axis from 1 to 4 or -4 to -1 (axis 0 is the batch)", v);
    return static_cast<int32_t>(a);
  }

  void reshape(const Json& v, const std::string& where, LayerSpec& l) const {
    if (!v.is_array() || v.empty() || static_cast<int64_t>(v.size()) > kMaxRank) {
      f_.expected(where, fmt::format("a per-sample shape of 1 to {} dimensions", kMaxRank), v);
    }
    int wildcards = 0;
    for (size_t k = 0; k < v.size(); ++k) {
      l.shape.push_back(f_.integer(v[k], index(where, k), -1, kModelMaxInputSize));
      if (l.shape.back() == 0) f_.expected(index(where, k), "a positive dimension or -1", v[k]);
      wildcards += l.shape.back() == -1;
    }
    if (wildcards > 1) f_.fail(where, "expected at most one -1");
  }

  const JsonFields& f_;
  ModelFile& m_;
};

}  // namespace

void read_network(const JsonFields& fields, const Json& root, ModelFile& m) { NetworkReader(fields, m).read(root); }

}  // namespace graphrun::io::detail
