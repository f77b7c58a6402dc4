#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "core/error.h"
#include "core/plugin_host.h"
#include "onnx/import_context.h"
#include "ops/ops.h"

namespace graphrun::onnx_io {
namespace {
std::string clip(const std::string& s) { return s.size() > 200 ? s.substr(0, 200) + "..." : s; }
}  // namespace

std::string ImportContext::where() const {
  return fmt::format("{}: node '{}' ({})", file, clip(node->name()), clip(node->op_type()));
}

void ImportContext::fail(const std::string& what) const { throw Error(ErrorKind::BadInput, where() + ": " + what); }

void ImportContext::unsupported(const std::string& what) const {
  throw Error(ErrorKind::BadInput,
              fmt::format("{}: unsupported {} (node '{}', opset {})", file, what, clip(node->name()), opset));
}

int ImportContext::input_count() const { return node->input_size(); }
int ImportContext::output_count() const { return node->output_size(); }

bool ImportContext::has_input(int i) const { return i < node->input_size() && !node->input(i).empty(); }

std::string ImportContext::output_name(int i) const { return node->output(i); }

bool ImportContext::output_used(int i) const {
  if (i >= node->output_size() || node->output(i).empty()) return false;
  auto it = uses.find(node->output(i));
  return it != uses.end() && it->second > 0;
}

const OnnxTensor* ImportContext::known_input(int i) const {
  if (!has_input(i)) return nullptr;
  auto it = values.find(node->input(i));
  return it != values.end() && it->second.known ? &*it->second.known : nullptr;
}

NodeId ImportContext::input(int i) {
  if (!has_input(i)) fail(fmt::format("input {} is required", i));
  const std::string& name = node->input(i);
  Value& v = values.at(name);  // check_names made sure it exists
  if (v.id != kNoNode) return v.id;
  GRAPHRUN_CHECK(v.known.has_value());
  const std::string what = fmt::format("{}: input '{}'", where(), clip(name));
  Tensor t = to_tensor(*v.known, what);
  if (v.is_initializer) {
    v.id = g.parameter(name, t.shape(), Initializer::zeros());
    params.add(name, t.shape()) = std::move(t);
  } else {
    v.id = g.constant(name, std::move(t));
  }
  return v.id;
}

std::vector<int64_t> ImportContext::known_ints(int i) {
  const OnnxTensor* t = known_input(i);
  if (!t) unsupported(fmt::format("input {} computed at run time (graphrun needs it known when the model loads)", i));
  if (t->is_float()) fail(fmt::format("input {} must be an integer tensor, got {}", i, elem_type_name(t->elem_type)));
  return t->ints;
}

void ImportContext::set_output(int i, NodeId id) {
  if (i >= node->output_size() || node->output(i).empty()) return;
  values[node->output(i)].id = id;
}

const ::onnx::AttributeProto* ImportContext::attr(const std::string& name) const {
  for (const auto& a : node->attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

bool ImportContext::has_attr(const std::string& name) const { return attr(name) != nullptr; }

int64_t ImportContext::attr_int(const std::string& name, int64_t fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != ::onnx::AttributeProto::INT) fail("attribute '" + name + "' must be an int");
  return a->i();
}

float ImportContext::attr_float(const std::string& name, float fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != ::onnx::AttributeProto::FLOAT) fail("attribute '" + name + "' must be a float");
  return a->f();
}

std::vector<int64_t> ImportContext::attr_ints(const std::string& name) const {
  const auto* a = attr(name);
  if (!a) return {};
  if (a->type() != ::onnx::AttributeProto::INTS) fail("attribute '" + name + "' must be a list of ints");
  return {a->ints().begin(), a->ints().end()};
}

std::string ImportContext::attr_string(const std::string& name, const std::string& fallback) const {
  const auto* a = attr(name);
  if (!a) return fallback;
  if (a->type() != ::onnx::AttributeProto::STRING) fail("attribute '" + name + "' must be a string");
  return a->s();
}

NodeId ImportContext::activation(NodeId x, const std::string& fn, std::vector<std::pair<std::string, double>> given,
                                 const std::string& name) {
  const LoadedActivation* act = plugins.find_activation(fn);
  if (!act) unsupported(fmt::format("op '{}': the activation plugin '{}' is not loaded", node->op_type(), fn));
  std::vector<double> p = resolve_params(act->entry->params, act->entry->n_params, given, where());
  return ops::activation(g, x, act->entry, std::move(p), name);
}

}  // namespace graphrun::onnx_io
