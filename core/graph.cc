#include "core/graph.h"

#include "core/error.h"

namespace graphrun {

const char* op_name(OpKind op) {
  switch (op) {
#define GRAPHRUN_OP(e, name, inputs) \
  case OpKind::e:                    \
    return name;
#include "core/op_list.inc"
#undef GRAPHRUN_OP
  }
  return "?";
}

int op_input_count(OpKind op) {
  switch (op) {
#define GRAPHRUN_OP(e, name, inputs) \
  case OpKind::e:                    \
    return inputs;
#include "core/op_list.inc"
#undef GRAPHRUN_OP
  }
  return 0;
}

bool op_takes_row_weights(OpKind op) {
  switch (op) {
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
      return true;
    default:
      return false;
  }
}

NodeId Graph::append(Node node) {
  if (node.name.empty()) node.name = std::string(op_name(node.op)) + "_" + std::to_string(nodes_.size());
  if (find(node.name) != kNoNode) {
    throw Error(ErrorKind::BadInput, "graph: two nodes are named '" + node.name + "'");
  }
  const int inputs = op_input_count(node.op);
  const int given = static_cast<int>(node.inputs.size());
  GRAPHRUN_CHECK(inputs < 0 ? given > 0 : given == inputs || (given == inputs + 1 && op_takes_row_weights(node.op)));
  for (NodeId in : node.inputs) GRAPHRUN_CHECK(in >= 0 && in < size());
  nodes_.push_back(std::move(node));
  return size() - 1;
}

NodeId Graph::input(std::string name, const Shape& shape) {
  Node n;
  n.op = OpKind::Input;
  n.name = std::move(name);
  n.shape = shape;
  return append(std::move(n));
}

NodeId Graph::parameter(std::string name, const Shape& shape, const Initializer& init, bool trainable) {
  if (shape.has_batch()) {
    throw Error(ErrorKind::Shape, "parameter '" + name + "' cannot have the batch dimension");
  }
  Node n;
  n.op = OpKind::Parameter;
  n.name = std::move(name);
  n.shape = shape;
  n.init = init;
  n.trainable = trainable;
  return append(std::move(n));
}

NodeId Graph::constant(std::string name, Tensor value) {
  Node n;
  n.op = OpKind::Constant;
  n.name = std::move(name);
  n.shape = value.shape();
  n.value = std::move(value);
  return append(std::move(n));
}

NodeId Graph::add(Node node) {
  GRAPHRUN_CHECK(node.op != OpKind::Input && node.op != OpKind::Parameter && node.op != OpKind::Constant);
  return append(std::move(node));
}

NodeId Graph::find(std::string_view name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) return static_cast<NodeId>(i);
  }
  return kNoNode;
}

NodeId Graph::at(std::string_view name) const {
  NodeId id = find(name);
  if (id == kNoNode) throw Error(ErrorKind::BadInput, "graph has no node named '" + std::string(name) + "'");
  return id;
}

std::vector<NodeId> Graph::inputs() const {
  std::vector<NodeId> out;
  for (NodeId i = 0; i < size(); ++i) {
    if (node(i).op == OpKind::Input) out.push_back(i);
  }
  return out;
}

std::vector<NodeId> Graph::parameters() const {
  std::vector<NodeId> out;
  for (NodeId i = 0; i < size(); ++i) {
    if (node(i).op == OpKind::Parameter) out.push_back(i);
  }
  return out;
}

std::vector<NodeId> Graph::trainable_parameters() const {
  std::vector<NodeId> out;
  for (NodeId i : parameters()) {
    if (node(i).trainable) out.push_back(i);
  }
  return out;
}

}  // namespace graphrun
