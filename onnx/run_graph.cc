#include "onnx/run_graph.h"

#include <cstring>
#include <memory>

#include "backends/registry.h"
#include "core/error.h"
#include "core/program.h"

namespace graphrun::onnx_io {

std::vector<Tensor> run_graph(const Graph& g, ParameterStore& params, const std::vector<NodeId>& inputs,
                              const std::vector<Tensor>& values, const std::vector<NodeId>& outputs,
                              const std::string& backend, ThreadPool* pool) {
  GRAPHRUN_CHECK(inputs.size() == values.size());
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& want = g.shape(inputs[i]);
    const Shape& have = values[i].shape();
    if (want.has_batch() && have.rank() > 0) {
      if (batch >= 0 && have[0] != batch) {
        throw Error(ErrorKind::Shape, "input '" + g.node(inputs[i]).name + "': batch " + std::to_string(have[0]) +
                                          ", another input has " + std::to_string(batch));
      }
      batch = have[0];
    }
    if (have != want.resolved(want.has_batch() && have.rank() > 0 ? have[0] : 1)) {
      throw Error(ErrorKind::Shape,
                  "input '" + g.node(inputs[i]).name + "': expected shape " + want.str() + ", got " + have.str());
    }
  }
  if (batch < 1) batch = 1;
  CompileOptions options{{}, {}, pool, outputs};
  backends::select(backend, options);
  std::unique_ptr<Program> p = Program::compile(g, params, batch, options);
  // An input no output depends on is not in the program: nothing to feed.
  std::vector<bool> needed(static_cast<size_t>(g.size()), false);
  for (NodeId id : outputs) needed[static_cast<size_t>(id)] = true;
  for (NodeId id = g.size() - 1; id >= 0; --id) {
    if (!needed[static_cast<size_t>(id)]) continue;
    for (NodeId in : g.node(id).inputs) needed[static_cast<size_t>(in)] = true;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!needed[static_cast<size_t>(inputs[i])]) continue;
    const size_t n = static_cast<size_t>(values[i].numel());
    if (n) std::memcpy(p->value(inputs[i]).data, values[i].data(), n * sizeof(float));
  }
  p->run();
  std::vector<Tensor> out;
  for (NodeId id : outputs) {
    const TensorView v = p->value(id);
    out.emplace_back(v.shape, std::span<const float>(v.data, static_cast<size_t>(v.numel())));
  }
  return out;
}

}  // namespace graphrun::onnx_io
