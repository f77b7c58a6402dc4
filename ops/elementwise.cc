// add (with bias broadcast), mul, scale, broadcast_rows.
#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId add(Graph& g, NodeId a, NodeId b, std::string name) {
  const Shape& sa = g.shape(a);
  const Shape& sb = g.shape(b);
  const bool bias = sb.rank() == 1 && sa.rank() >= 1 && sa != sb && sb[0] == sa.cols();
  if (sa != sb && !bias) {
    shape_error(g, "add",
                "needs equal shapes or a [C] bias for [..., C], got " + describe(g, a) + " and " + describe(g, b));
  }
  return append_op(g, OpKind::Add, {a, b}, sa, std::move(name));
}

NodeId mul(Graph& g, NodeId a, NodeId b, std::string name) {
  if (g.shape(a) != g.shape(b)) {
    shape_error(g, "mul", "needs equal shapes, got " + describe(g, a) + " and " + describe(g, b));
  }
  return append_op(g, OpKind::Mul, {a, b}, g.shape(a), std::move(name));
}

NodeId scale(Graph& g, NodeId x, float alpha, std::string name) {
  NodeId id = append_op(g, OpKind::Scale, {x}, g.shape(x), std::move(name));
  g.mutable_node(id).alpha = alpha;
  return id;
}

NodeId broadcast_rows(Graph& g, NodeId v, NodeId like, float alpha, bool divide_by_count, std::string name) {
  const Shape& sv = g.shape(v);
  const Shape& sl = g.shape(like);
  const bool scalar = sv.rank() == 0;
  if (!scalar && !(sv.rank() == 1 && sl.rank() >= 1 && sv[0] == sl.cols())) {
    shape_error(g, "broadcast_rows",
                "needs a scalar or a [C] vector for " + describe(g, like) + ", got " + describe(g, v));
  }
  NodeId id = append_op(g, OpKind::BroadcastRows, {v, like}, sl, std::move(name));
  g.mutable_node(id).alpha = alpha;
  g.mutable_node(id).divide_by_count = divide_by_count;
  return id;
}

void add_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId a = g.node(id).inputs[0], b = g.node(id).inputs[1];
  if (gb.needs(a)) gb.contribute(a, dy);
  if (gb.needs(b)) gb.contribute(b, g.shape(a) == g.shape(b) ? dy : sum_rows(g, dy));
}

void mul_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId a = g.node(id).inputs[0], b = g.node(id).inputs[1];
  if (gb.needs(a)) gb.contribute(a, mul(g, dy, b));
  if (gb.needs(b)) gb.contribute(b, mul(g, dy, a));
}

void scale_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId x = g.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, scale(g, dy, g.node(id).alpha));
}

}  // namespace graphrun::ops
