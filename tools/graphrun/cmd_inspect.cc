// graphrun inspect: the compiled training graph of a model file, and its inference (evaluation)
// program: nodes with shapes and the backend that runs each (and why earlier backends
// declined), what a node does in that mode, the tasks each kernel chose, parameters, FLOPs,
// memory plan.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <memory>

#include "backends/registry.h"
#include "core/error.h"
#include "io/timing_cache.h"
#include "ops/op_rules.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/session.h"

namespace graphrun::tool {
namespace {

std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} k", v / 1e3);
  return fmt::format("{:.0f} ", v);
}

// What a node does differently in the program's mode ("" for most nodes).
std::string mode_note(const Node& n, bool training) {
  if (n.op == OpKind::BatchNorm) {
    return training ? "batch statistics; updates the running ones" : "running statistics";
  }
  if (n.op == OpKind::BatchNormGrad || n.op == OpKind::BatchNormGradParams) {
    return training ? "through the batch statistics" : "running statistics";
  }
  if (n.op == OpKind::Dropout) return training ? fmt::format("drops {:g}", n.rate) : "identity";
  return "";
}

// One step on a zero batch, then the schedule with the tasks each kernel chose (core/partition.h).
void print_schedule(const Graph& g, Program& p, const char* mode, int64_t batch, NodeId forward_nodes,
                    const std::vector<Backend*>& chain, ThreadPool& pool) {
  for (NodeId id : g.inputs()) {
    const TensorView v = p.value(id);
    std::fill(v.data, v.data + v.numel(), 0.0f);
  }
  std::vector<ThreadPool::Usage> uses(p.schedule().size());
  p.run_counting_tasks(pool, uses);

  size_t name_w = 4, op_w = 2;
  for (const ScheduledNode& sn : p.schedule()) {
    name_w = std::max(name_w, g.node(sn.node).name.size());
    op_w = std::max(op_w, std::string(op_name(g.node(sn.node).op)).size());
  }
  const double b = static_cast<double>(batch);
  fmt::print(
      "\n{} program ({} nodes, batch {}; tasks: the most of one job, 1 on the calling thread, own: the "
      "backend's threads)\n",
      mode, p.schedule().size(), batch);
  fmt::print("  {:>4}  {:<{}}  {:<{}}  {:<14}  {:>12}  {:>5}  {:<9}  {}\n", "node", "name", name_w, "op", op_w, "shape",
             "FLOP/sample", "tasks", "backend", "notes (mode, declined by earlier backends, fusion, timed choice)");
  for (size_t i = 0; i < p.schedule().size(); ++i) {
    const ScheduledNode& sn = p.schedule()[i];
    const Node& n = g.node(sn.node);
    std::string notes = mode_note(n, p.training());
    const std::string more =
        sn.fused_into == kNoNode ? sn.declined : fmt::format("fused into {}", g.node(sn.fused_into).name);
    if (!more.empty()) notes += (notes.empty() ? "" : "; ") + more;
    if (!sn.timing.empty()) notes += (notes.empty() ? "timed: " : "; timed: ") + sn.timing;
    // A kernel that made no job ran on the calling thread, unless it is fused or its backend
    // runs its own threads (oneDNN's OpenMP, with the pool's thread count).
    const auto by = std::find_if(chain.begin(), chain.end(), [&](Backend* c) { return sn.backend == c->name(); });
    const bool own_threads = by != chain.end() && !(*by)->runs_on_pool();
    const std::string tasks = sn.fused_into != kNoNode ? std::string("-")
                              : own_threads            ? std::string("own")
                                                       : std::to_string(std::max<int64_t>(1, uses[i].most_tasks));
    fmt::print("  {:>4}  {:<{}}  {:<{}}  {:<14}  {:>12}  {:>5}  {:<9}  {}\n", sn.node, n.name, name_w, op_name(n.op),
               op_w, n.shape.str(), human(ops::flops(g, sn.node, batch) / b), tasks, sn.backend, notes);
  }
  // Views run no kernel: say so for the forward dropouts this mode made one.
  for (NodeId id = 0; id < forward_nodes; ++id) {
    const Node& n = g.node(id);
    if (n.op == OpKind::Dropout && (!p.training() || n.rate == 0.0f)) {
      fmt::print("  {:>4}  {:<{}}  {:<{}}  identity in {} mode: a view, no kernel\n", id, n.name, name_w, op_name(n.op),
                 op_w, mode);
    }
  }
}

int run_inspect(const InspectArgs& a) {
  PluginRegistry& plugins = load_plugins(a.common);
  backends::check_name(a.common.backend);
  std::unique_ptr<Session> s = open_model(a.model, plugins, 0);
  train::TrainConfig cfg = base_config(*s, a.common);
  if (a.batch_size) cfg.batch_size = *a.batch_size;
  const io::ModelFile& f = s->file;

  int64_t trainable = 0, frozen = 0;
  std::string inputs;
  for (const io::InputSpec& in : f.graph_inputs) {
    inputs += fmt::format("{}{} [{}]", inputs.empty() ? "" : ", ", in.name, fmt::join(in.shape, ","));
  }
  fmt::print("model {}: {} form, input {}, {} {}, loss {}, optimizer {}\n", a.model,
             f.graph_form ? "graph" : "sequential", inputs, f.layers.size(), f.graph_form ? "nodes" : "layers", f.loss,
             f.optimizer);
  fmt::print("\nparameters\n");
  const Graph& g = s->model.graph;
  for (NodeId id : g.parameters()) {
    const Node& n = g.node(id);
    (n.trainable ? trainable : frozen) += n.shape.numel();
    fmt::print("  {:<24} {:<12} {:>10}  {}{}\n", n.name, n.shape.str(), n.shape.numel(), n.init.str(),
               n.trainable ? "" : "  (frozen)");
  }
  fmt::print("  total {} ({} trainable, {} frozen)\n", trainable + frozen, trainable, frozen);

  train::Trainer trainer(s->model, s->params, cfg, plugins);
  Program& p = trainer.training_program(cfg.batch_size);
  double forward = 0, total = 0;
  for (const ScheduledNode& sn : p.schedule()) {
    const double fl = ops::flops(g, sn.node, cfg.batch_size);
    total += fl;
    if (sn.node < s->forward_nodes) forward += fl;
  }
  // A weight gradient the optimizer computes inside its update (TrainingStep::fused) is not a
  // node of the program, but it is work of the step all the same.
  std::vector<bool> scheduled(g.size());
  for (const ScheduledNode& sn : p.schedule()) scheduled[static_cast<size_t>(sn.node)] = true;
  int fused = 0;
  for (NodeId grad : s->model.gradients) {
    if (scheduled[static_cast<size_t>(grad)]) continue;
    total += ops::flops(g, grad, cfg.batch_size);
    ++fused;
  }
  const double b = static_cast<double>(cfg.batch_size);
  fmt::print(
      "\nFLOPs per sample: forward {}FLOP, training step {}FLOP (forward + backward{}; the update not counted)\n",
      human(forward / b), human(total / b),
      fused > 0 ? fmt::format(", with {} weight gradients computed in the optimizer's update", fused) : "");
  fmt::print("memory plan at batch {}: arena {} bytes ({}B), {} bytes without buffer sharing\n", cfg.batch_size,
             p.arena_bytes(), human(static_cast<double>(p.arena_bytes())), p.unshared_bytes());
  fmt::print("backend chain: ");
  const std::vector<Backend*> chain = backends::chain(cfg.backend);
  for (size_t i = 0; i < chain.size(); ++i) fmt::print("{}{}", i ? " -> " : "", chain[i]->name());
  const std::string cache = io::default_timing_cache_path();
  fmt::print(", {} threads{}\n", trainer.pool().size(),
             cfg.backend != backends::kAuto
                 ? ""
                 : "; auto: each MatMul and convolution on the fastest of the backends before the last, timed at "
                   "compile time (its figures in the notes), the choices kept in " +
                       (cache.empty() ? std::string("this process only (GRAPHRUN_CACHE_DIR is empty)") : cache));

  print_schedule(g, p, "training", cfg.batch_size, s->forward_nodes, chain, trainer.pool());
  fmt::print("the optimizer step splits each weight matrix into the tasks of its forward MatMul\n");
  // Evaluation and prediction run the forward nodes in inference mode (batch norm with its
  // running statistics, dropout a view).
  print_schedule(g, trainer.inference_program(cfg.batch_size), "inference", cfg.batch_size, s->forward_nodes, chain,
                 trainer.pool());
  return 0;
}

}  // namespace

Command inspect_command() {
  auto a = std::make_shared<InspectArgs>();
  return {"inspect", "Nodes, shapes, backends, parameters, FLOPs and memory plan of a model",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--batch-size", a->batch_size, "Batch size to compile for").range(1, 1000000);
            add_common_options(o, a->common, true);
          },
          [a] { return run_inspect(*a); }};
}

}  // namespace graphrun::tool
