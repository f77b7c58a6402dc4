#include "ops/autodiff.h"

#include "core/error.h"
#include "ops/op_rules.h"
#include "ops/ops.h"

namespace graphrun::ops {

std::vector<NodeId> gradients(Graph& g, NodeId loss, const std::vector<NodeId>& wrt) {
  if (g.shape(loss).rank() != 0) {
    throw Error(ErrorKind::Shape,
                "gradients: the loss '" + g.node(loss).name + "' must be a scalar, got " + g.shape(loss).str());
  }
  const size_t count = static_cast<size_t>(loss) + 1;
  // A node needs a gradient when it depends on a wrt node and the loss depends on it.
  std::vector<bool> from_wrt(count, false), to_loss(count, false);
  for (NodeId w : wrt) {
    if (w < static_cast<NodeId>(count)) from_wrt[static_cast<size_t>(w)] = true;
  }
  for (size_t i = 0; i < count; ++i) {
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs)
      from_wrt[i] = from_wrt[i] || from_wrt[static_cast<size_t>(in)];
  }
  to_loss[static_cast<size_t>(loss)] = true;
  for (size_t i = count; i-- > 0;) {
    if (!to_loss[i]) continue;
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) to_loss[static_cast<size_t>(in)] = true;
  }
  std::vector<bool> needs(count, false);
  for (size_t i = 0; i < count; ++i) needs[i] = from_wrt[i] && to_loss[i];

  GradientBuilder gb(g, needs);
  gb.contribute(loss, g.constant("d_" + g.node(loss).name, Tensor(Shape{}, std::vector<float>{1.0f})));
  // Names a gradient node after the value it differentiates ("d_hidden.weight"), when the node
  // still has its automatic name and the new one is free: inspect output and pinning read well.
  auto name_gradient = [&](NodeId value, NodeId grad) {
    Node& n = g.mutable_node(grad);
    const std::string automatic = std::string(op_name(n.op)) + "_" + std::to_string(grad);
    const std::string wanted = "d_" + g.node(value).name;
    if (n.name == automatic && g.find(wanted) == kNoNode) n.name = wanted;
  };
  for (NodeId id = loss; id >= 0; --id) {
    if (!needs[static_cast<size_t>(id)]) continue;
    NodeId dy = gb.total(id);
    if (dy == kNoNode) continue;
    name_gradient(id, dy);
    append_gradient(gb, id, dy);
  }
  std::vector<NodeId> out;
  out.reserve(wrt.size());
  for (NodeId w : wrt) {
    NodeId d = w < static_cast<NodeId>(count) && needs[static_cast<size_t>(w)] ? gb.total(w) : kNoNode;
    if (d != kNoNode) name_gradient(w, d);
    if (d == kNoNode && g.shape(w).has_batch()) {
      throw Error(ErrorKind::BadInput, "gradients: the loss does not depend on '" + g.node(w).name + "'");
    }
    if (d == kNoNode) d = g.constant("d_" + g.node(w).name, Tensor(g.shape(w)));
    out.push_back(d);
  }
  return out;
}

}  // namespace graphrun::ops
