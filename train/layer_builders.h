// One function per layer kind: the graph nodes of one layer (a model file's layer or graph node)
// given the values it reads. Used by build_network (train/model.cc). Each checks what the op
// builders cannot say in the model file's terms (per-sample shapes, a dense layer after an image
// without flatten, a kernel larger than its padded input) and throws Error(Shape or BadInput)
// with a message that the caller prefixes with the file and the node's JSON path.
#pragma once

#include <span>
#include <string>

#include "core/graph.h"
#include "core/plugin_host.h"
#include "io/model_file.h"

namespace graphrun::train {

struct LayerContext {
  Graph& graph;
  const PluginRegistry& plugins;
  int64_t parameters = 0;  // running count, bounded by io::kModelMaxParameters
};

// The layer's value. skip_activation: build it without its activation (the logits of an output
// whose softmax the loss fuses); an "activation" layer then returns its input.
NodeId build_layer(LayerContext& ctx, const io::LayerSpec& layer, std::span<const NodeId> inputs,
                   bool skip_activation = false);

// "[32,14,14]": a value's shape without the batch dimension.
std::string sample_shape(const Graph& g, NodeId id);

}  // namespace graphrun::train
