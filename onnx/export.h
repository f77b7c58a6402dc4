// ONNX export: the inference part of a graph (from `input` to `output`) as an ONNX model.
//
//   std::string bytes = onnx_io::export_onnx(model.graph, params, model.features, model.output,
//                                            &scaler, /*opset=*/17);
//
// A fitted scaler becomes the leading nodes (Sub offset, Mul scale: the ONNX model takes raw
// features). A matmul by a "<layer>.weight" parameter and its bias add become one Gemm named
// <layer>; activations map to their ONNX ops (named as the graph's nodes: "<layer>.relu"),
// softmax to Softmax. Parameters become initializers under their own names. The batch
// dimension is the symbolic "N". An op or activation ONNX has no counterpart for here is
// Error(BadInput) naming the node. Opsets 9-17.
#pragma once

#include <cstdint>
#include <string>

#include "core/graph.h"
#include "core/parameters.h"
#include "io/scaling.h"

namespace graphrun::onnx_io {

std::string export_onnx(const Graph& g, const ParameterStore& params, NodeId input, NodeId output,
                        const io::Scaler* scaler, int64_t opset);

}  // namespace graphrun::onnx_io
