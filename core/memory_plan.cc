#include "core/memory_plan.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "core/error.h"

namespace graphrun {
namespace {

constexpr int64_t kAlign = static_cast<int64_t>(kTensorAlignment);
int64_t round_up(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// Places each buffer at the lowest offset where it overlaps no placed buffer that is live at
// the same time; largest first (a simple, good heuristic for the interval packing problem).
int64_t place_buffers(std::vector<BufferPlan>& buffers) {
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  std::vector<size_t> placed;
  int64_t total = 0;
  for (size_t i : order) {
    BufferPlan& b = buffers[i];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [offset, end) of conflicting buffers
    for (size_t j : placed) {
      const BufferPlan& o = buffers[j];
      if (o.first_step <= b.last_step && b.first_step <= o.last_step) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + b.bytes <= lo) break;
      offset = std::max(offset, round_up(hi));
    }
    b.offset = offset;
    total = std::max(total, offset + b.bytes);
    placed.push_back(i);
  }
  return total;
}

}  // namespace

MemoryPlan plan_memory(const Graph& g, const Schedule& s, int64_t batch) {
  const size_t n = static_cast<size_t>(g.size());
  const auto& root = s.root;
  // Lifetimes, by storage root: the last step that reads it (outputs and inputs: to the end).
  std::vector<int32_t> last(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (!s.needed[i]) continue;
    const Node& node = g.node(static_cast<NodeId>(i));
    const NodeId r = root[i];
    if (s.is_output[i] || node.op == OpKind::Input) last[static_cast<size_t>(r)] = INT32_MAX;
    int32_t step = s.step[i];
    if (is_view(node, s.training)) continue;
    for (NodeId in : node.inputs) {
      size_t ri = static_cast<size_t>(root[static_cast<size_t>(in)]);
      last[ri] = std::max(last[ri], step);
    }
  }
  std::vector<int32_t> first_write(n, INT32_MAX);  // by root: a fused chain's MatMul writes first
  for (size_t i = 0; i < n; ++i) {
    if (s.step[i] >= 0) {
      first_write[static_cast<size_t>(root[i])] = std::min(first_write[static_cast<size_t>(root[i])], s.step[i]);
    }
  }
  MemoryPlan plan;
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!s.needed[i] || root[i] != static_cast<NodeId>(i)) continue;
    if (node.op == OpKind::Parameter || node.op == OpKind::Constant) continue;
    const int64_t bytes = node.shape.resolved(batch).numel() * static_cast<int64_t>(sizeof(float));
    const int32_t first = node.op == OpKind::Input ? -1 : first_write[i];
    plan.buffers.push_back(
        {static_cast<NodeId>(i), 0, round_up(std::max<int64_t>(bytes, 4)), first, std::max(last[i], first)});
  }
  plan.arena_bytes = place_buffers(plan.buffers);
  return plan;
}

std::vector<TensorView> bind_views(const Graph& g, const Schedule& s, const MemoryPlan& plan, float* arena,
                                   ParameterStore& params, int64_t batch) {
  const size_t n = static_cast<size_t>(g.size());
  std::vector<TensorView> views(n, TensorView{});
  for (const BufferPlan& b : plan.buffers) {
    views[static_cast<size_t>(b.node)].data = arena + b.offset / static_cast<int64_t>(sizeof(float));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!s.needed[i]) continue;
    const Node& node = g.node(static_cast<NodeId>(i));
    TensorView& v = views[i];
    v.shape = node.shape.resolved(batch);
    if (node.op == OpKind::Parameter) {
      Tensor& t = params.at(node.name);
      if (t.shape() != node.shape) {
        throw Error(ErrorKind::Shape, "parameter '" + node.name + "' has shape " + t.shape().str() +
                                          ", the graph expects " + node.shape.str());
      }
      v.data = t.data();
    } else if (node.op == OpKind::Constant) {
      v.data = const_cast<float*>(node.value.data());  // kernels never write their inputs
    } else if (s.root[i] != static_cast<NodeId>(i)) {  // a view, or a node of a fused chain
      v.data = views[static_cast<size_t>(s.root[i])].data;
    }
  }
  return views;
}

}  // namespace graphrun
