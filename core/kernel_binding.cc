#include "core/kernel_binding.h"

#include <algorithm>
#include <optional>

#include "core/backend_timing.h"
#include "core/error.h"

namespace graphrun {
namespace {

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

// The timed choice (core/backend_timing.h) among the chain's backends but the last (the
// fallback): the winner's kernel, with sched's backend and timing set; nullptr when fewer than
// two candidates accept the node (the caller then binds it in chain order, recording declines).
std::unique_ptr<Kernel> choose_by_time(const NodeContext& ctx, const std::vector<Backend*>& chain,
                                       const CompileOptions& options, ThreadPool& pool, ScheduledNode& sched) {
  std::vector<Backend*> candidates = chain;  // an unpinned node's chain: each backend once
  std::erase(candidates, options.backends.back());
  if (candidates.size() < 2) return nullptr;
  const std::string key = timing_key(ctx, candidates, pool.size());
  std::string why;
  if (std::optional<TimedChoice> known = cached_choice(key)) {
    auto b =
        std::find_if(candidates.begin(), candidates.end(), [&](Backend* c) { return known->backend == c->name(); });
    std::unique_ptr<Kernel> k = b != candidates.end() ? (*b)->prepare(ctx, &why) : nullptr;
    if (k) {
      sched.backend = known->backend;
      sched.timing = known->report + " (timed before)";
    }
    return k;
  }
  std::vector<std::unique_ptr<Kernel>> kernels;
  std::vector<TimedKernel> timed;
  for (Backend* b : candidates) {
    if (std::unique_ptr<Kernel> k = b->prepare(ctx, &why)) {
      timed.push_back({b, k.get()});
      kernels.push_back(std::move(k));
    }
  }
  if (timed.size() < 2) return nullptr;
  // Per-thread scratch sized by what has been prepared so far, so the timed runs allocate too
  // little to matter.
  pool.run_on_each_thread([&] {
    for (const TimedKernel& t : timed) t.backend->prepare_thread();
  });
  time_kernels(timed);
  const size_t win = fastest(timed);
  sched.backend = timed[win].backend->name();
  sched.timing = timing_report(timed);
  remember_choice(key, {sched.backend, sched.timing});
  return std::move(kernels[win]);
}

}  // namespace

std::vector<Backend*> backends_for(const Node& node, const CompileOptions& options) {
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
}

BoundKernels bind_kernels(const Graph& g, const Schedule& s, const FusionPlan& fusion,
                          const std::vector<TensorView>& views, const CompileOptions& options, ThreadPool& pool,
                          RunState* run) {
  BoundKernels out;
  for (Backend* b : options.backends) b->configure_threads(pool.size());
  std::vector<TensorView> in_views;
  for (NodeId id : s.order) {
    const Node& node = g.node(id);
    in_views.clear();
    for (NodeId in : node.inputs) in_views.push_back(views[static_cast<size_t>(in)]);
    if (const NodeId head = fusion.fused_into[static_cast<size_t>(id)]; head != kNoNode) {
      out.kernels.push_back(make_kernel([] {}));
      out.schedule.push_back(
          {id, out.schedule[static_cast<size_t>(s.step[static_cast<size_t>(head)])].backend, "", head, ""});
      continue;
    }
    NodeContext ctx{g, id, node, in_views, views[static_cast<size_t>(id)], pool, nullptr, options.training, run};
    std::vector<Backend*> chain = backends_for(node, options);
    Epilogue epilogue;
    if (bind_epilogue(g, fusion.of[static_cast<size_t>(id)], views, epilogue)) {
      ctx.epilogue = &epilogue;
      std::erase_if(chain, [&](Backend* b) { return !b->fuses_epilogue(node); });
    }
    ScheduledNode sched{id, "", "", kNoNode, ""};
    const bool timed = options.choose_by_time && is_timed(node) && !options.pinned.contains(node.name);
    if (std::unique_ptr<Kernel> k; timed && (k = choose_by_time(ctx, chain, options, pool, sched))) {
      out.kernels.push_back(std::move(k));
      out.schedule.push_back(std::move(sched));
      continue;
    }
    for (Backend* b : chain) {
      std::string why;
      if (auto k = b->prepare(ctx, &why)) {
        out.kernels.push_back(std::move(k));
        sched.backend = b->name();
        break;
      }
      if (!sched.declined.empty()) sched.declined += "; ";
      sched.declined += std::string(b->name()) + ": " + why;
    }
    if (sched.backend.empty()) {
      throw Error(ErrorKind::Internal, "no backend runs node '" + node.name + "' (" + sched.declined + ")");
    }
    out.schedule.push_back(std::move(sched));
  }
  pool.run_on_each_thread([&] {
    for (Backend* b : options.backends) b->prepare_thread();
  });
  return out;
}

}  // namespace graphrun
