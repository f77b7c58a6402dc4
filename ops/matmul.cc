// matmul: op(a) x op(b), rank 2. Gradients are matmuls with transpose flags.
#include "ops/op_rules.h"
#include "ops/ops.h"
#include "ops/shape_check.h"

namespace graphrun::ops {

NodeId matmul(Graph& g, NodeId a, NodeId b, bool trans_a, bool trans_b, std::string name) {
  const Shape& sa = g.shape(a);
  const Shape& sb = g.shape(b);
  if (sa.rank() != 2 || sb.rank() != 2) {
    shape_error(g, "matmul", "needs two matrices, got " + describe(g, a) + " and " + describe(g, b));
  }
  const int64_t m = trans_a ? sa[1] : sa[0], ka = trans_a ? sa[0] : sa[1];
  const int64_t kb = trans_b ? sb[1] : sb[0], n = trans_b ? sb[0] : sb[1];
  if (ka != kb) {
    shape_error(g, "matmul",
                "inner dimensions differ: " + describe(g, a) + (trans_a ? "^T" : "") + " x " + describe(g, b) +
                    (trans_b ? "^T" : ""));
  }
  if (n == Shape::kBatch) shape_error(g, "matmul", "the batch dimension can only be the first of the result");
  Node node;
  node.op = OpKind::MatMul;
  node.inputs = {a, b};
  node.shape = Shape{m, n};
  node.trans_a = trans_a;
  node.trans_b = trans_b;
  node.name = std::move(name);
  return g.add(std::move(node));
}

void matmul_gradient(GradientBuilder& gb, NodeId id, NodeId dy) {
  Graph& g = gb.graph;
  const NodeId a = g.node(id).inputs[0], b = g.node(id).inputs[1];
  const bool ta = g.node(id).trans_a, tb = g.node(id).trans_b;
  // C = op(A) op(B):  dA = dC op(B)^T (or its transpose), dB = op(A)^T dC (or its transpose).
  if (gb.needs(a)) gb.contribute(a, ta ? matmul(g, b, dy, tb, true) : matmul(g, dy, b, false, !tb));
  if (gb.needs(b)) gb.contribute(b, tb ? matmul(g, dy, a, true, ta) : matmul(g, a, dy, !ta, false));
}

double matmul_flops(const Graph& g, NodeId id, int64_t batch) {
  const Node& n = g.node(id);
  const Shape sa = g.shape(n.inputs[0]).resolved(batch);
  const int64_t k = n.trans_a ? sa[0] : sa[1];
  return 2.0 * static_cast<double>(n.shape.resolved(batch).numel()) * static_cast<double>(k);
}

}  // namespace graphrun::ops
