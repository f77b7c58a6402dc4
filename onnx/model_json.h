// An imported graph as a graphrun model file in graph form (docs/model-format.md, "graph")
// and its weights: what `graphrun import MODEL.onnx --out DIR` writes.
//
// The graph's nodes are matched back to the model file's layers: a matmul by a parameter, its
// bias add and an activation only it feeds become one "dense" node (weights [in, units],
// PyTorch's [units, in] transposed; parameters "<name>.weight", "<name>.bias", the name taken
// from PyTorch's "<name>.weight" initializer when there is one), a conv2d with its channel bias
// and activation likewise (weights as they are); batch_norm and layer_norm with their
// parameters; pools; concat; activations and softmax,
// reshapes (flatten), and adds of two computed values map one to one. A graph input's first
// dimension is the batch. A first output that is a dense node without activation (logits) gets
// "softmax", the model file's classifier output (the same argmax). Anything else has no model-file form:
// Error(BadInput) naming the node, and nothing is written.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "onnx/import.h"

namespace graphrun::onnx_io {

struct ModelFileText {
  std::string json;                                     // model.json
  std::vector<std::pair<std::string, Tensor>> weights;  // weights.safetensors, in node order
};

ModelFileText to_model_file(const Imported& m, const std::string& source);

}  // namespace graphrun::onnx_io
