#include "core/fusion.h"

#include "graphrun/plugin.h"

namespace graphrun {

FusionPlan plan_fusion(const Graph& g, Schedule& s, const std::map<std::string, std::string>& pinned,
                       FunctionRef<bool(const Node&)> fuses) {
  const std::vector<bool>& needed = s.needed;
  const std::vector<bool>& is_output = s.is_output;
  std::vector<int32_t>& step = s.step;
  std::vector<NodeId>& root = s.root;
  const size_t n = static_cast<size_t>(g.size());
  FusionPlan plan{std::vector<NodeId>(n, kNoNode), std::vector<FusedNodes>(n)};
  std::vector<int32_t> uses(n, 0);
  std::vector<std::vector<NodeId>> users(n);
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i]) continue;
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) {
      ++uses[static_cast<size_t>(in)];
      users[static_cast<size_t>(in)].push_back(static_cast<NodeId>(i));
    }
  }
  auto at = [](auto& v, NodeId id) -> decltype(auto) { return v[static_cast<size_t>(id)]; };
  auto fusable = [&](NodeId id, OpKind op) {
    const Node& u = g.node(id);
    if (u.op != op || pinned.count(u.name)) return false;
    // A row-wise activation (softmax) needs whole rows, which a block of C may not hold.
    return op == OpKind::Add || u.activation->kind == GRAPHRUN_ACTIVATION_ELEMENTWISE;
  };
  // The single reader of `id` when it is fusable as `op` and reads `id` as input `slot`.
  auto only_user = [&](NodeId id, OpKind op, size_t slot) -> NodeId {
    if (at(is_output, id) || at(uses, id) != 1) return kNoNode;
    const NodeId u = at(users, id).front();
    return fusable(u, op) && g.node(u).inputs[slot] == id ? u : kNoNode;
  };
  // A value ready when the MatMul m runs: not a step, or computed by an earlier one.
  auto ready_before = [&](NodeId v, NodeId m) { return at(step, at(root, v)) < at(step, m); };
  auto fuse = [&](NodeId node, NodeId m) {
    at(plan.fused_into, node) = m;
    at(step, node) = at(step, m);  // its value is written when m runs
  };

  for (NodeId m = 0; m < g.size(); ++m) {
    const Node& mm = g.node(m);
    if (!at(needed, m) || mm.op != OpKind::MatMul || !fuses(mm)) continue;
    FusedNodes& f = at(plan.of, m);
    if (const NodeId a = only_user(m, OpKind::Add, 0); a != kNoNode) {
      const NodeId bias = g.node(a).inputs[1];
      if (g.shape(bias).rank() != 1 || !ready_before(bias, m)) continue;
      f.bias = bias;
      fuse(a, m);
      NodeId last = a;
      for (NodeId u : at(users, a)) {
        if (fusable(u, OpKind::Activation) && g.node(u).inputs[0] == a) {
          f.activation = u;
          f.activation_in_place = at(uses, a) == 1 && !at(is_output, a);
          if (f.activation_in_place) last = u;
          fuse(u, m);
          break;
        }
      }
      at(root, m) = at(root, a) = last;
      if (f.activation_in_place) at(root, f.activation) = last;
    } else if (const NodeId d = only_user(m, OpKind::ActivationGrad, 2); d != kNoNode) {
      const Node& dn = g.node(d);
      if (!ready_before(dn.inputs[0], m) || !ready_before(dn.inputs[1], m)) continue;
      f.activation_grad = d;
      fuse(d, m);
      at(root, m) = d;
    }
  }
  return plan;
}

}  // namespace graphrun
