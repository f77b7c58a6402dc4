#include "core/program.h"

#include <chrono>

#include "core/error.h"
#include "core/fusion.h"
#include "core/schedule.h"

namespace graphrun {

std::unique_ptr<Program> Program::compile(const Graph& g, ParameterStore& params, int64_t batch,
                                          const CompileOptions& options) {
  if (batch <= 0)
    throw Error(ErrorKind::BadInput, "compile: batch size must be positive, got " + std::to_string(batch));
  if (options.backends.empty()) throw Error(ErrorKind::Internal, "compile: no backend given");
  std::unique_ptr<Program> p(new Program(g, batch));
  ThreadPool& pool = options.pool ? *options.pool : ThreadPool::global();

  p->training_ = options.training;
  if (options.run_state) p->run_state_ = options.run_state;
  Schedule s = schedule_nodes(g, options.outputs, options.training);
  FusionPlan fusion{std::vector<NodeId>(static_cast<size_t>(g.size()), kNoNode),
                    std::vector<FusedNodes>(static_cast<size_t>(g.size()))};
  if (options.fuse_epilogues) {
    fusion = plan_fusion(g, s, options.pinned,
                         [&](const Node& m) { return backends_for(m, options).front()->fuses_epilogue(m); });
  }

  MemoryPlan memory = plan_memory(g, s, batch);
  if (options.max_arena_bytes > 0 && memory.arena_bytes > options.max_arena_bytes) {
    throw Error(ErrorKind::Runtime, "the memory plan at batch " + std::to_string(batch) + " needs an arena of " +
                                        std::to_string(memory.arena_bytes) + " bytes, more than the " +
                                        std::to_string(options.max_arena_bytes) + " bytes allowed");
  }
  p->arena_bytes_ = memory.arena_bytes;
  p->arena_ = allocate_aligned(static_cast<size_t>(p->arena_bytes_ / static_cast<int64_t>(sizeof(float))));
  p->views_ = bind_views(g, s, memory, p->arena_.get(), params, batch);
  p->buffers_ = std::move(memory.buffers);
  p->readable_.assign(static_cast<size_t>(g.size()), false);
  for (size_t i = 0; i < p->readable_.size(); ++i) {
    const OpKind op = g.node(static_cast<NodeId>(i)).op;
    p->readable_[i] =
        s.needed[i] && (s.is_output[i] || op == OpKind::Input || op == OpKind::Parameter || op == OpKind::Constant);
  }

  BoundKernels bound = bind_kernels(g, s, fusion, p->views_, options, pool, p->run_state_);
  p->schedule_ = std::move(bound.schedule);
  p->kernels_ = std::move(bound.kernels);
  return p;
}

TensorView Program::value(NodeId id) const {
  if (id < 0 || static_cast<size_t>(id) >= views_.size() || !readable_[static_cast<size_t>(id)]) {
    throw Error(ErrorKind::BadInput,
                "program: node " +
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

void Program::run_counting_tasks(ThreadPool& pool, std::span<ThreadPool::Usage> uses) {
  GRAPHRUN_CHECK(uses.size() == kernels_.size());
  for (size_t i = 0; i < kernels_.size(); ++i) {
    pool.reset_usage();
    kernels_[i]->run();
    uses[i] = pool.usage();
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
