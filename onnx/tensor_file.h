// Single ONNX TensorProto files (the conformance suite's input_N.pb / output_N.pb) and the op
// types a model uses, for tests and tools that must not include protobuf headers themselves.
#pragma once

#include <string>
#include <vector>

#include "onnx/tensor_proto.h"

namespace graphrun::onnx_io {

// A serialized TensorProto, validated like an initializer; its name in `*name` when non-null.
OnnxTensor read_tensor_file(const std::string& path, std::string* name = nullptr);
// The op types of a model's main graph, in node order with repeats removed (sorted).
std::vector<std::string> model_op_types(const std::string& path);

}  // namespace graphrun::onnx_io
