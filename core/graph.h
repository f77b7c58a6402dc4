// Graph: a static computation graph of f32 tensors.
//
// Nodes are appended in topological order (an op's inputs always exist before it), so the
// node index order is a valid schedule and autodiff can walk it backwards. A Graph is plain
// data: it names activation functions by their plugin entry, holds constants, and describes
// parameters (shape, initializer); parameter values live in a ParameterStore so several
// Programs (one per batch size) share them.
//
// Build graphs with the functions in ops/ (ops::matmul, ops::add, ...): they check shapes and
// attributes once, at build time; kernels trust what they are given.
//
//   Graph g;
//   NodeId x = g.input("x", {Shape::kBatch, 784});
//   NodeId w = g.parameter("w", {784, 10}, Initializer::glorot_uniform());
//   NodeId logits = ops::matmul(g, x, w);
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/initializer.h"
#include "core/shape.h"
#include "core/tensor.h"

struct graphrun_activation;

namespace graphrun {

enum class OpKind : uint8_t {
#define GRAPHRUN_OP(e, name, inputs) e,
#include "core/op_list.inc"
#undef GRAPHRUN_OP
};
const char* op_name(OpKind op);
int op_input_count(OpKind op);  // -1: one or more (Concat)
// The losses and their gradients take one more, optional, input: per-row weights [N].
bool op_takes_row_weights(OpKind op);

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

struct Node {
  OpKind op = OpKind::Input;
  std::string name;  // unique in the graph
  std::vector<NodeId> inputs;
  Shape shape;  // may carry the symbolic batch dimension

  // Attributes (each op uses the ones its comment in op_list.inc names).
  bool trans_a = false, trans_b = false;            // MatMul
  bool sparse_labels = false;                       // SoftmaxCrossEntropy(Grad): labels are class indices
  std::vector<float> pos_weight;                    // BinaryCrossEntropy(Grad): per label; empty: all 1
  float alpha = 1.0f;                               // Scale, BroadcastRows
  bool divide_by_count = false;                     // BroadcastRows: also divide by like's element count
  const graphrun_activation* activation = nullptr;  // Activation(Grad)
  std::vector<double> activation_params;            // one per declared parameter, defaults filled in
  Initializer init;                                 // Parameter
  bool trainable = true;                            // Parameter
  Tensor value;                                     // Constant

  // Image ops (NCHW). Window: Conv2d, MaxPool2d, AvgPool2d and their gradients.
  struct Window {
    int32_t kernel[2] = {1, 1};  // height, width
    int32_t stride[2] = {1, 1};
    int32_t dilation[2] = {1, 1};
    int32_t pad[4] = {0, 0, 0, 0};   // top, left, bottom, right
    int32_t groups = 1;              // Conv2d: channel groups (groups == channels: depthwise)
    bool count_include_pad = false;  // AvgPool2d: padded zeros count in the divisor
  };
  Window window;
  int32_t axis = 1;       // Concat, LayerNorm (first normalised dim), Slice
  int64_t offset = 0;     // Slice: first index along axis
  float epsilon = 1e-5f;  // BatchNorm, LayerNorm
  float momentum = 0.9f;  // BatchNorm: running = momentum * running + (1 - momentum) * batch
  float rate = 0.0f;      // Dropout: probability of zeroing an element
  uint64_t stream = 0;    // Dropout: the mask's key (a gradient uses its forward node's)
};

class Graph {
 public:
  NodeId input(std::string name, const Shape& shape);
  NodeId parameter(std::string name, const Shape& shape, const Initializer& init, bool trainable = true);
  NodeId constant(std::string name, Tensor value);
  // Appends an op node whose shape and attributes the caller (an ops:: builder) has checked.
  // An empty name gets "<op>_<index>".
  NodeId add(Node node);

  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  Node& mutable_node(NodeId id) { return nodes_[static_cast<size_t>(id)]; }
  const Shape& shape(NodeId id) const { return node(id).shape; }
  int32_t size() const { return static_cast<int32_t>(nodes_.size()); }
  std::span<const Node> nodes() const { return nodes_; }

  NodeId find(std::string_view name) const;  // kNoNode when absent
  NodeId at(std::string_view name) const;    // throws BadInput naming the node
  std::vector<NodeId> inputs() const;
  std::vector<NodeId> parameters() const;
  std::vector<NodeId> trainable_parameters() const;

 private:
  NodeId append(Node node);
  std::vector<Node> nodes_;
};

}  // namespace graphrun
