// concat and slice: shape rules, and concat's gradient (a slice of dy per input).
#include "ops/layers.h"
#include "ops/op_rules.h"
#include "ops/shape_check.h"

namespace graphrun::ops {
namespace {

// The axis counted from the front; batched values cannot be joined or cut along the batch.
int32_t join_axis(const Graph& g, std::string_view op, NodeId x, int32_t axis) {
  const Shape& s = g.shape(x);
  const int32_t a = axis < 0 ? axis + s.rank() : axis;
  const int32_t lowest = s.has_batch() ? 1 : 0;
  if (a < lowest || a >= s.rank()) {
    shape_error(g, op,
                "axis " + std::to_string(axis) + " is outside [" + std::to_string(lowest) + ", " +
                    std::to_string(s.rank()) + ") for " + describe(g, x));
  }
  return a;
}

}  // namespace

NodeId concat(Graph& g, const std::vector<NodeId>& inputs, int32_t axis, std::string name) {
  if (inputs.empty()) throw Error(ErrorKind::BadInput, "concat: needs at least one input");
  const int32_t a = join_axis(g, "concat", inputs[0], axis);
  Shape out = g.shape(inputs[0]);
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Shape& s = g.shape(inputs[i]);
    bool same = s.rank() == out.rank();
    for (int d = 0; same && d < s.rank(); ++d) same = d == a || s[d] == out[d];
    if (!same) {
      shape_error(g, "concat",
                  "along axis " + std::to_string(a) + " needs inputs equal in every other dimension, got " +
                      describe(g, inputs[0]) + " and " + describe(g, inputs[i]));
    }
    out[a] += s[a];
  }
  NodeId id = append_op(g, OpKind::Concat, inputs, out, std::move(name));
  g.mutable_node(id).axis = a;
  return id;
}

NodeId slice(Graph& g, NodeId x, int32_t axis, int64_t offset, int64_t size, std::string name) {
  const int32_t a = join_axis(g, "slice", x, axis);
  Shape out = g.shape(x);
  if (offset < 0 || size < 1 || offset + size > out[a]) {
    std::string what = "offset " + std::to_string(offset);
    what += " and size " + std::to_string(size);
    what += " are not a non-empty range inside dimension " + std::to_string(a) + " of " + describe(g, x);
    shape_error(g, "slice", what);
  }
  out[a] = size;
  NodeId id = append_op(g, OpKind::Slice, {x}, out, std::move(name));
  g.mutable_node(id).axis = a;
  g.mutable_node(id).offset = offset;
  return id;
}

void concat_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const std::vector<NodeId> in = g.node(id).inputs;
  const int32_t axis = g.node(id).axis;
  int64_t offset = 0;
  for (NodeId x : in) {
    const int64_t size = g.shape(x)[axis];
    if (gb.needs(x)) gb.contribute(x, slice(g, dy, axis, offset, size));
    offset += size;
  }
}

}  // namespace graphrun::ops
