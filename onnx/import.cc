#include "onnx/import.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/plugin_host.h"
#include "io/atomic_file.h"
#include "io/checked_math.h"
#include "onnx/import_context.h"

namespace graphrun::onnx_io {
namespace {

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw Error(ErrorKind::BadInput, file + ": " + what);
}

std::string short_name(const std::string& s) { return s.size() > 200 ? s.substr(0, 200) + "..." : s; }

// The opset of the default ONNX domain ("" or "ai.onnx"); other domains' ops are refused by
// name when a node uses them.
int64_t default_opset(const ::onnx::ModelProto& m, const std::string& file) {
  int64_t opset = -1;
  for (const auto& o : m.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  }
  if (opset < 0) bad(file, "unsupported model: it imports no opset of the default ONNX domain");
  if (opset < kOnnxMinOpset || opset > kOnnxMaxOpset) {
    bad(file,
        fmt::format("unsupported opset {} (graphrun reads opsets {} to {})", opset, kOnnxMinOpset, kOnnxMaxOpset));
  }
  return opset;
}

// A graph input's shape: float, each dimension a value, except that the first may be
// symbolic (the batch).
Shape input_shape(const ::onnx::ValueInfoProto& v, const std::string& file) {
  const std::string where = fmt::format("{}: input '{}'", file, short_name(v.name()));
  if (!v.type().has_tensor_type())
    throw Error(ErrorKind::BadInput, where + ": unsupported type (graphrun reads tensors)");
  const auto& t = v.type().tensor_type();
  if (t.elem_type() != ::onnx::TensorProto::FLOAT) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: unsupported element type {} (graphrun computes in float)", where,
                                                 elem_type_name(t.elem_type())));
  }
  if (!t.has_shape()) throw Error(ErrorKind::BadInput, where + ": the shape is not given");
  if (t.shape().dim_size() > Shape::kMaxRank) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: unsupported rank {} (graphrun's limit is {})", where,
                                                 t.shape().dim_size(), Shape::kMaxRank));
  }
  Shape s;
  for (int i = 0; i < t.shape().dim_size(); ++i) {
    const auto& d = t.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() >= 0 && d.dim_value() <= static_cast<int64_t>(kOnnxMaxElements)) {
      s.push_back(d.dim_value());
    } else if (i == 0 && !d.has_dim_value()) {
      s.push_back(Shape::kBatch);
    } else if (d.has_dim_value()) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: dimension {} is {}", where, i, d.dim_value()));
    } else {
      throw Error(ErrorKind::BadInput, fmt::format("{}: unsupported symbolic dimension {} (only the first, the batch, "
                                                   "may be symbolic)",
                                                   where, i));
    }
  }
  std::vector<uint64_t> dims;
  for (int64_t d : s) dims.push_back(d < 0 ? 1 : static_cast<uint64_t>(d));
  if (!io::checked_product(dims, kOnnxMaxElements))
    bad(file, fmt::format("input '{}' is too large", short_name(v.name())));
  return s;
}

// Every name a node reads is defined earlier (an input, an initializer, or an earlier node's
// output); every name is defined once. This rejects cycles (a node reading its own or a later
// node's output) and dangling names before any op is translated.
void check_names(const ::onnx::GraphProto& g, const std::string& file) {
  std::set<std::string> defined;
  const auto define = [&](const std::string& name, const std::string& by) {
    if (name.empty()) return;
    if (!defined.insert(name).second) {
      bad(file, fmt::format("name '{}' is defined twice ({})", short_name(name), by));
    }
  };
  for (const auto& t : g.initializer()) define(t.name(), "initializer");
  std::set<std::string> initializers(defined);
  for (const auto& v : g.input()) {
    if (!initializers.count(v.name())) define(v.name(), "graph input");
  }
  for (int k = 0; k < g.node_size(); ++k) {
    const auto& n = g.node(k);
    for (const std::string& in : n.input()) {
      if (!in.empty() && !defined.count(in)) {
        bad(file, fmt::format("node '{}' ({}) reads '{}', which no input, initializer or earlier node defines "
                              "(a dangling name or a cycle)",
                              short_name(n.name()), short_name(n.op_type()), short_name(in)));
      }
    }
    for (const std::string& out : n.output()) define(out, fmt::format("output of node '{}'", short_name(n.name())));
  }
  for (const auto& v : g.output()) {
    if (!defined.count(v.name()))
      bad(file, fmt::format("graph output '{}' is not computed by any node", short_name(v.name())));
  }
  if (g.output_size() == 0) bad(file, "the graph has no outputs");
}

}  // namespace

std::vector<std::string> supported_ops() { return op_names(); }

Imported import_onnx(const std::string& path, const PluginRegistry& plugins) {
  const std::vector<std::byte> bytes = io::read_file(path, kOnnxMaxFileBytes);
  return import_onnx_bytes(bytes, path, plugins);
}

Imported import_onnx_bytes(std::span<const std::byte> bytes, const std::string& path, const PluginRegistry& plugins) {
  if (bytes.size() > kOnnxMaxFileBytes) bad(path, fmt::format("more than {} bytes", kOnnxMaxFileBytes));
  ::onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    bad(path, "not an ONNX model (the protobuf does not parse)");
  }
  if (!model.has_graph()) bad(path, "the model has no graph");
  const int64_t opset = default_opset(model, path);
  const ::onnx::GraphProto& g = model.graph();
  if (g.node_size() > kOnnxMaxNodes) bad(path, fmt::format("{} nodes, more than {}", g.node_size(), kOnnxMaxNodes));
  check_names(g, path);
  if (!g.sparse_initializer().empty()) bad(path, "sparse initializers are not supported");

  Imported out;
  out.opset = opset;
  const std::string dir =
      path.empty() ? std::string() : std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
  ImportContext ctx(out.graph, out.params, plugins, path, opset);
  for (const auto& t : g.initializer()) {
    Value v;
    v.known = decode_tensor(t, dir, fmt::format("{}: initializer '{}'", path, short_name(t.name())));
    v.is_initializer = true;
    ctx.values[t.name()] = std::move(v);
  }
  for (const auto& in : g.input()) {
    if (ctx.values.count(in.name())) continue;  // an initializer listed as an input (IR < 4): a parameter
    const NodeId id = out.graph.input(in.name(), input_shape(in, path));
    ctx.values[in.name()].id = id;
    out.inputs.push_back(id);
  }
  for (const auto& n : g.node()) {
    for (const std::string& in : n.input()) ++ctx.uses[in];
  }
  for (const auto& o : g.output()) ++ctx.uses[o.name()];

  for (const auto& n : g.node()) {
    ctx.node = &n;
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      ctx.unsupported(fmt::format("op '{}' of domain '{}'", short_name(n.op_type()), short_name(n.domain())));
    }
    const OpHandler handler = find_op(n.op_type());
    if (!handler) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: unsupported op '{}' (node '{}', opset {})", path,
                                                   short_name(n.op_type()), short_name(n.name()), opset));
    }
    // Found by fuzz_onnx_import: a node without outputs (every op graphrun maps has one; an
    // unsupported op such as LSTM may leave its first, optional output unnamed).
    if (n.output_size() == 0 || n.output(0).empty()) ctx.fail("the node has no output");
    handler(ctx);
  }
  ctx.node = nullptr;
  for (const auto& o : g.output()) {
    Value& v = ctx.values[o.name()];
    if (v.id == kNoNode && v.known) {
      // An output that is a known tensor: materialise it as a constant.
      v.id = out.graph.constant(o.name(), to_tensor(*v.known, path + ": output '" + short_name(o.name()) + "'"));
    }
    if (v.id == kNoNode) bad(path, fmt::format("graph output '{}' has no value", short_name(o.name())));
    out.outputs.push_back(v.id);
    out.output_names.push_back(o.name());
  }
  return out;
}

}  // namespace graphrun::onnx_io
