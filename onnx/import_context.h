// Private to onnx/: the state an op handler (import_ops.cc) works with while import.cc walks
// the nodes of an ONNX graph in order.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/parameters.h"
#include "onnx/tensor_proto.h"

namespace onnx {
class NodeProto;
class AttributeProto;
}  // namespace onnx

namespace graphrun {
class PluginRegistry;
}

namespace graphrun::onnx_io {

// What an ONNX name stands for: a graph node, a known tensor (an initializer or a Constant's
// value, made a graph node when an op reads it as data), or both.
struct Value {
  NodeId id = kNoNode;
  std::optional<OnnxTensor> known;
  bool is_initializer = false;  // becomes a (trainable) parameter, not a constant
};

class ImportContext {
 public:
  ImportContext(Graph& g, ParameterStore& params, const PluginRegistry& plugins, std::string file, int64_t opset)
      : g(g), params(params), plugins(plugins), file(std::move(file)), opset(opset) {}

  Graph& g;
  ParameterStore& params;
  const PluginRegistry& plugins;
  const std::string file;
  const int64_t opset;
  std::map<std::string, Value> values;
  const ::onnx::NodeProto* node = nullptr;  // the node being translated

  // Inputs of the current node: absent ones are "" in ONNX (optional inputs).
  int input_count() const;
  bool has_input(int i) const;
  NodeId input(int i);                         // as a graph node (a known tensor becomes one)
  const OnnxTensor* known_input(int i) const;  // its value when known at import time, else null
  // The ints of a known int64/int32 tensor input (Reshape's shape), or a failure naming it.
  std::vector<int64_t> known_ints(int i);
  // Binds output i of the current node to a graph node.
  void set_output(int i, NodeId id);
  int output_count() const;
  bool output_used(int i) const;  // named (non-empty) and read by a later node or the graph
  std::string output_name(int i) const;

  // Attributes, with defaults; a wrong attribute type is a failure naming it.
  bool has_attr(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  const ::onnx::AttributeProto* attr(const std::string& name) const;

  // f(x) with an activation plugin by name, parameters in declaration order.
  NodeId activation(NodeId x, const std::string& fn, std::vector<std::pair<std::string, double>> params,
                    const std::string& name);

  // "<file>: node 'n' (Op): what" as Error(BadInput).
  [[noreturn]] void fail(const std::string& what) const;
  // The op's form graphrun lacks (an attribute value, a broadcast): "unsupported" in the text,
  // so the conformance tally counts it as such.
  [[noreturn]] void unsupported(const std::string& what) const;
  std::string where() const;

  std::map<std::string, int> uses;  // how many later nodes (and graph outputs) read each name
};

using OpHandler = void (*)(ImportContext&);
// The handler for an op type of the default domain, or null.
OpHandler find_op(const std::string& op_type);
std::vector<std::string> op_names();

}  // namespace graphrun::onnx_io
