// Runs any graph once on named tensors: what `graphrun run` and the ONNX conformance test do
// with an imported model. Not tied to data sets, labels or a loss.
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"
#include "core/parameters.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace graphrun::onnx_io {

// Feeds values[i] to inputs[i] (shapes must match the graph's, the symbolic batch dimension
// taking the values' first dimension, the same for every batched input), runs the graph on the
// backend chain that starts with `backend`, and returns the outputs' values. Shape mismatches
// are Error(Shape) naming the input and both shapes.
std::vector<Tensor> run_graph(const Graph& g, ParameterStore& params, const std::vector<NodeId>& inputs,
                              const std::vector<Tensor>& values, const std::vector<NodeId>& outputs,
                              const std::string& backend, ThreadPool* pool = nullptr);

}  // namespace graphrun::onnx_io
