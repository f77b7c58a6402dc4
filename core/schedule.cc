#include "core/schedule.h"

#include "core/error.h"

namespace graphrun {

bool is_view(const Node& node, bool training) {
  return node.op == OpKind::Reshape || (node.op == OpKind::Dropout && (!training || node.rate == 0.0f));
}

Schedule schedule_nodes(const Graph& g, const std::vector<NodeId>& outputs, bool training) {
  const size_t n = static_cast<size_t>(g.size());
  Schedule s{std::vector<bool>(n, false),
             std::vector<bool>(n, false),
             std::vector<int32_t>(n, -1),
             std::vector<NodeId>(n),
             {},
             training};
  for (NodeId o : outputs) {
    GRAPHRUN_CHECK(o >= 0 && o < g.size());
    s.needed[static_cast<size_t>(o)] = s.is_output[static_cast<size_t>(o)] = true;
  }
  for (size_t i = n; i-- > 0;) {
    if (!s.needed[i]) continue;
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) s.needed[static_cast<size_t>(in)] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    s.root[i] = is_view(node, training) ? s.root[static_cast<size_t>(node.inputs[0])] : static_cast<NodeId>(i);
    if (!s.needed[i]) continue;
    if (node.op == OpKind::Input || node.op == OpKind::Parameter || node.op == OpKind::Constant) continue;
    if (!is_view(node, training)) {
      s.step[i] = static_cast<int32_t>(s.order.size());
      s.order.push_back(static_cast<NodeId>(i));
    }
  }
  return s;
}

}  // namespace graphrun
