// ONNX import: an .onnx file (opsets 9-17) as a graphrun Graph with its parameters.
//
//   PluginRegistry& plugins = PluginRegistry::global();
//   onnx_io::Imported m = onnx_io::import_onnx("model.onnx", plugins);
//   auto program = Program::compile(m.graph, m.params, /*batch=*/1, {backends::chain("highway")});
//   // write m.inputs[i] with program->value(...), program->run(), read m.outputs[i]
//
// The file is untrusted: its size is bounded (kOnnxMaxFileBytes), every tensor is checked
// against its declared shape and type (onnx/tensor_proto.h), names must be defined before use
// (a node reading a name nothing defines, or defined later, i.e. a cycle, is refused), graph
// inputs are float with at most one symbolic dimension, the first (the batch). Initializers
// become parameters (trainable, named as in the file); Constant nodes become constants.
// Every error is one Error(BadInput) line naming the file and the node; an op graphrun lacks:
//   "m.onnx: unsupported op 'Foo' (node 'n', opset 13)".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/parameters.h"

namespace graphrun {
class PluginRegistry;
}

namespace graphrun::onnx_io {

inline constexpr uint64_t kOnnxMaxFileBytes = uint64_t{2} << 30;  // protobuf's own limit
inline constexpr int64_t kOnnxMaxNodes = 100'000;
inline constexpr int64_t kOnnxMinOpset = 9, kOnnxMaxOpset = 17;

struct Imported {
  Graph graph;
  ParameterStore params;                  // the initializers' values
  std::vector<NodeId> inputs;             // the graph inputs that are not initializers, in file order
  std::vector<NodeId> outputs;            // the graph outputs, in file order
  std::vector<std::string> output_names;  // their ONNX names
  int64_t opset = 0;                      // of the default domain
};

Imported import_onnx(const std::string& path, const PluginRegistry& plugins);
// From bytes; path names the model in messages and its folder resolves external data (empty:
// external data is refused).
Imported import_onnx_bytes(std::span<const std::byte> bytes, const std::string& path, const PluginRegistry& plugins);

// The ONNX op types the importer maps (sorted), for docs and the conformance tally.
std::vector<std::string> supported_ops();

}  // namespace graphrun::onnx_io
