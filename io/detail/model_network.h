// The network part of a model file: the sequential form ("inputs", "layers") or the graph form
// ("graph": inputs, nodes, outputs). Checks names, the op's keys and values, that the graph is
// acyclic and that every node and input feeds an output; shapes are checked when the graph is
// built (train/model.cc), which names the node's JSON path the same way.
#pragma once

#include "io/detail/json_fields.h"
#include "io/model_file.h"

namespace graphrun::io::detail {

// Fills m.graph_form, m.inputs, m.graph_inputs, m.layers (topologically sorted) and m.outputs.
void read_network(const JsonFields& fields, const Json& root, ModelFile& m);

}  // namespace graphrun::io::detail
