// dropout: shape rule and gradient rule. The gradient is the same op applied to dy with the
// same stream: in a training program it multiplies by the very mask the forward drew (same
// seed, step and element indices, recomputed rather than stored); in inference, both are views.
#include "core/parameters.h"
#include "ops/layers.h"
#include "ops/op_rules.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId dropout(Graph& g, NodeId x, float rate, std::string name, uint64_t stream) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    throw Error(ErrorKind::BadInput, "dropout: rate must be in [0, 1), got " + std::to_string(rate));
  }
  NodeId id = append_op(g, OpKind::Dropout, {x}, g.shape(x), std::move(name));
  Node& n = g.mutable_node(id);
  n.rate = rate;
  n.stream = stream != 0 ? stream : seed_for(0, n.name);
  return id;
}

void dropout_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const Node& n = gb.graph.node(id);
  const NodeId x = n.inputs[0];
  const float rate = n.rate;
  const uint64_t stream = n.stream;
  if (gb.needs(x)) gb.contribute(x, dropout(gb.graph, dy, rate, {}, stream));
}

}  // namespace graphrun::ops
