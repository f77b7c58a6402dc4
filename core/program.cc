#include "core/program.h"

#include <algorithm>
#include <chrono>
#include <climits>

#include "core/error.h"
#include "core/fusion.h"

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

// The Epilogue of a MatMul that computes the nodes in `f`; false when it computes none.
bool bind_epilogue(const Graph& g, const FusedNodes& f, const std::vector<TensorView>& views, Epilogue& e) {
  auto data = [&](NodeId id) { return views[static_cast<size_t>(id)].data; };
  if (f.bias != kNoNode) e.bias = data(f.bias);
  const NodeId act = f.activation != kNoNode ? f.activation : f.activation_grad;
  if (act != kNoNode) {
    const Node& a = g.node(act);
    e.activation = a.activation;
    e.activation_params = a.activation_params.data();
    if (f.activation != kNoNode && !f.activation_in_place) e.activation_out = data(act);
    if (f.activation_grad != kNoNode) {
      e.backward_x = data(a.inputs[0]);
      e.backward_fx = data(a.inputs[1]);
    }
  }
  return f.bias != kNoNode || act != kNoNode;
}

}  // namespace

std::unique_ptr<Program> Program::compile(const Graph& g, ParameterStore& params, int64_t batch,
                                          const CompileOptions& options) {
  if (batch <= 0) throw Error(ErrorKind::BadInput, "compile: batch size must be positive, got " + std::to_string(batch));
  if (options.backends.empty()) throw Error(ErrorKind::Internal, "compile: no backend given");
  std::unique_ptr<Program> p(new Program(g, batch));
  p->training_ = options.training;
  if (options.run_state) p->run_state_ = options.run_state;
  const size_t n = static_cast<size_t>(g.size());
  ThreadPool& pool = options.pool ? *options.pool : ThreadPool::global();

  // The backends to try for a node: the one it is pinned to, then the chain.
  auto chain_for = [&](const Node& node) {
    std::vector<Backend*> chain;
    if (auto it = options.pinned.find(node.name); it != options.pinned.end()) {
      for (Backend* b : options.backends) {
        if (it->second == b->name()) chain.push_back(b);
      }
      if (chain.empty()) {
        throw Error(ErrorKind::BadInput, "node '" + node.name + "' is pinned to backend '" + it->second +
                                             "', which is not in this program's backend chain");
      }
    }
    for (Backend* b : options.backends) chain.push_back(b);
    return chain;
  };

  // 1. The nodes the outputs need.
  std::vector<bool> needed(n, false), is_output(n, false);
  for (NodeId o : options.outputs) {
    GRAPHRUN_CHECK(o >= 0 && o < g.size());
    needed[static_cast<size_t>(o)] = is_output[static_cast<size_t>(o)] = true;
  }
  for (size_t i = n; i-- > 0;) {
    if (!needed[i]) continue;
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) needed[static_cast<size_t>(in)] = true;
  }

  // 2. Schedule (index order is topological) and storage roots (a view shares its input's:
  // a reshape, and a dropout that drops nothing in this mode).
  auto is_view = [&](const Node& node) {
    return node.op == OpKind::Reshape || (node.op == OpKind::Dropout && (!options.training || node.rate == 0.0f));
  };
  std::vector<int32_t> step(n, -1);
  std::vector<NodeId> root(n);
  std::vector<NodeId> order;
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    root[i] = is_view(node) ? root[static_cast<size_t>(node.inputs[0])] : static_cast<NodeId>(i);
    if (!needed[i]) continue;
    if (node.op == OpKind::Input || node.op == OpKind::Parameter || node.op == OpKind::Constant) continue;
    if (!is_view(node)) {
      step[i] = static_cast<int32_t>(order.size());
      order.push_back(static_cast<NodeId>(i));
    }
  }

  // 2b. Epilogue fusion (core/fusion.h): nodes a MatMul's kernel computes on the way out.
  FusionPlan fusion{std::vector<NodeId>(n, kNoNode), std::vector<FusedNodes>(n)};
  if (options.fuse_epilogues) {
    fusion = plan_fusion(g, needed, is_output, options.pinned,
                         [&](const Node& m) { return chain_for(m).front()->fuses_epilogue(m); }, step, root);
  }

  // 3. Lifetimes of arena values (inputs and op results; parameters and constants live elsewhere).
  std::vector<int32_t> last(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i]) continue;
    const Node& node = g.node(static_cast<NodeId>(i));
    const NodeId r = root[i];
    if (is_output[i] || node.op == OpKind::Input) last[static_cast<size_t>(r)] = INT32_MAX;
    int32_t s = step[i];
    if (is_view(node)) continue;
    for (NodeId in : node.inputs) {
      size_t ri = static_cast<size_t>(root[static_cast<size_t>(in)]);
      last[ri] = std::max(last[ri], s);
    }
  }
  std::vector<int32_t> first_write(n, INT32_MAX);  // by root: a fused chain's MatMul writes first
  for (size_t i = 0; i < n; ++i) {
    if (step[i] >= 0) first_write[static_cast<size_t>(root[i])] = std::min(first_write[static_cast<size_t>(root[i])], step[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!needed[i] || root[i] != static_cast<NodeId>(i)) continue;
    if (node.op == OpKind::Parameter || node.op == OpKind::Constant) continue;
    const int64_t bytes = node.shape.resolved(batch).numel() * static_cast<int64_t>(sizeof(float));
    const int32_t first = node.op == OpKind::Input ? -1 : first_write[i];
    p->buffers_.push_back({static_cast<NodeId>(i), 0, round_up(std::max<int64_t>(bytes, 4)), first,
                           std::max(last[i], first)});
  }
  p->arena_bytes_ = place_buffers(p->buffers_);
  if (options.max_arena_bytes > 0 && p->arena_bytes_ > options.max_arena_bytes) {
    throw Error(ErrorKind::Runtime, "the memory plan at batch " + std::to_string(batch) + " needs an arena of " +
                                        std::to_string(p->arena_bytes_) + " bytes, more than the " +
                                        std::to_string(options.max_arena_bytes) + " bytes allowed");
  }
  p->arena_ = allocate_aligned(static_cast<size_t>(p->arena_bytes_ / static_cast<int64_t>(sizeof(float))));

  // 4. Views: every needed node's data pointer and concrete shape.
  p->views_.assign(n, TensorView{});
  p->readable_.assign(n, false);
  for (const BufferPlan& b : p->buffers_) {
    p->views_[static_cast<size_t>(b.node)].data = p->arena_.get() + b.offset / static_cast<int64_t>(sizeof(float));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i]) continue;
    const Node& node = g.node(static_cast<NodeId>(i));
    TensorView& v = p->views_[i];
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
    } else if (root[i] != static_cast<NodeId>(i)) {  // a reshape, or a node of a fused chain
      v.data = p->views_[static_cast<size_t>(root[i])].data;
    }
    p->readable_[i] = is_output[i] || node.op == OpKind::Input || node.op == OpKind::Parameter ||
                      node.op == OpKind::Constant;
  }

  // 5. Kernels: the pinned backend first, then the chain.
  std::vector<TensorView> in_views;
  for (NodeId id : order) {
    const Node& node = g.node(id);
    in_views.clear();
    for (NodeId in : node.inputs) in_views.push_back(p->views_[static_cast<size_t>(in)]);
    if (const NodeId head = fusion.fused_into[static_cast<size_t>(id)]; head != kNoNode) {
      p->kernels_.push_back(make_kernel([] {}));
      p->schedule_.push_back({id, p->schedule_[static_cast<size_t>(step[static_cast<size_t>(head)])].backend, "", head});
      continue;
    }
    NodeContext ctx{g, id, node, in_views, p->views_[static_cast<size_t>(id)], pool, nullptr, options.training,
                    p->run_state_};
    std::vector<Backend*> chain = chain_for(node);
    Epilogue epilogue;
    if (bind_epilogue(g, fusion.of[static_cast<size_t>(id)], p->views_, epilogue)) {
      ctx.epilogue = &epilogue;
      std::erase_if(chain, [&](Backend* b) { return !b->fuses_epilogue(node); });
    }
    ScheduledNode sched{id, "", ""};
    for (Backend* b : chain) {
      std::string why;
      if (auto k = b->prepare(ctx, &why)) {
        p->kernels_.push_back(std::move(k));
        sched.backend = b->name();
        break;
      }
      if (!sched.declined.empty()) sched.declined += "; ";
      sched.declined += std::string(b->name()) + ": " + why;
    }
    if (sched.backend.empty()) {
      throw Error(ErrorKind::Internal, "no backend runs node '" + node.name + "' (" + sched.declined + ")");
    }
    p->schedule_.push_back(std::move(sched));
  }
  for (Backend* b : options.backends) b->configure_threads(pool.size());
  pool.run_on_each_thread([&] {
    for (Backend* b : options.backends) b->prepare_thread();
  });
  return p;
}

TensorView Program::value(NodeId id) const {
  if (id < 0 || static_cast<size_t>(id) >= views_.size() || !readable_[static_cast<size_t>(id)]) {
    throw Error(ErrorKind::BadInput, "program: node " +
                                         (id >= 0 && id < graph_.size() ? "'" + graph_.node(id).name + "'" : std::to_string(id)) +
                                         " is not an input, parameter or requested output");
  }
  return views_[static_cast<size_t>(id)];
}

void Program::run() {
  for (auto& k : kernels_) k->run();
}

void Program::run(FunctionRef<void(size_t)> after_step) {
  for (size_t i = 0; i < kernels_.size(); ++i) {
    kernels_[i]->run();
    after_step(i);
  }
}

void Program::run_timed(std::span<double> seconds) {
  GRAPHRUN_CHECK(seconds.size() == kernels_.size());
  for (size_t i = 0; i < kernels_.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    kernels_[i]->run();
    seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

int64_t Program::unshared_bytes() const {
  int64_t total = 0;
  for (const BufferPlan& b : buffers_) total += b.bytes;
  return total;
}

Program& ProgramCache::get(int64_t batch) {
  auto it = programs_.find(batch);
  if (it == programs_.end()) it = programs_.emplace(batch, Program::compile(graph_, params_, batch, options_)).first;
  return *it->second;
}

}  // namespace graphrun
