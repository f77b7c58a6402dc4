// Reductions (sum_rows, sum, mean) and reshape/flatten; their gradients broadcast back.
#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId sum_rows(Graph& g, NodeId x, std::string name) {
  if (g.shape(x).rank() < 1) shape_error(g, "sum_rows", "needs at least one dimension, got " + describe(g, x));
  return append_op(g, OpKind::SumRows, {x}, Shape{g.shape(x).cols()}, std::move(name));
}

NodeId sum(Graph& g, NodeId x, std::string name) { return append_op(g, OpKind::Sum, {x}, Shape{}, std::move(name)); }

NodeId mean(Graph& g, NodeId x, std::string name) { return append_op(g, OpKind::Mean, {x}, Shape{}, std::move(name)); }

NodeId reshape(Graph& g, NodeId x, const Shape& shape, std::string name) {
  const Shape& sx = g.shape(x);
  for (int i = 0; i < shape.rank(); ++i) {
    if (shape[i] < 0 && !(i == 0 && shape[i] == Shape::kBatch)) {
      shape_error(g, "reshape", "dimension " + std::to_string(i) + " of " + shape.str() + " is negative");
    }
  }
  const bool same = sx.has_batch() == shape.has_batch() &&
                    (sx.has_batch() ? sx.inner() == shape.inner() : sx.numel() == shape.numel());
  if (!same) shape_error(g, "reshape", "cannot view " + describe(g, x) + " as " + shape.str());
  return append_op(g, OpKind::Reshape, {x}, shape, std::move(name));
}

NodeId flatten(Graph& g, NodeId x, std::string name) {
  const Shape& sx = g.shape(x);
  if (sx.rank() < 1) shape_error(g, "flatten", "needs at least one dimension, got " + describe(g, x));
  return reshape(g, x, Shape{sx[0], sx.inner()}, std::move(name));
}

void sum_rows_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const NodeId x = gb.graph.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, broadcast_rows(gb.graph, dy, x, 1.0f));
}

void sum_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const NodeId x = gb.graph.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, broadcast_rows(gb.graph, dy, x, 1.0f));
}

void mean_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const NodeId x = gb.graph.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, broadcast_rows(gb.graph, dy, x, 1.0f, /*divide_by_count=*/true));
}

void reshape_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  const NodeId x = gb.graph.node(id).inputs[0];
  if (gb.needs(x)) gb.contribute(x, reshape(gb.graph, dy, gb.graph.shape(x)));
}

}  // namespace graphrun::ops
