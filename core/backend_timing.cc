#include "core/backend_timing.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "graphrun/plugin.h"

namespace graphrun {
namespace {

std::mutex& cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, TimedChoice>& cache() {
  static std::map<std::string, TimedChoice> c;
  return c;
}

}  // namespace

bool is_timed(const Node& node) {
  switch (node.op) {
    case OpKind::MatMul:
    case OpKind::Conv2d:
    case OpKind::Conv2dGradInput:
    case OpKind::Conv2dGradWeight:
      return true;
    default:
      return false;
  }
}

std::string timing_key(const NodeContext& ctx, std::span<Backend* const> candidates, int threads) {
  const Node& n = ctx.node;
  std::string key =
      fmt::format("{} t{}{} threads {}", static_cast<int>(n.op), n.trans_a ? 1 : 0, n.trans_b ? 1 : 0, threads);
  if (n.op != OpKind::MatMul) {
    const Node::Window& w = n.window;
    key += fmt::format(" window {}x{} s{},{} d{},{} p{},{},{},{} g{}", w.kernel[0], w.kernel[1], w.stride[0],
                       w.stride[1], w.dilation[0], w.dilation[1], w.pad[0], w.pad[1], w.pad[2], w.pad[3], w.groups);
  }
  for (const TensorView& in : ctx.inputs) key += " in " + in.shape.str();
  key += " out " + ctx.output.shape.str();
  if (const Epilogue* e = ctx.epilogue) {
    key +=
        fmt::format(" epilogue bias {} activation {} out {} backward {}", e->bias != nullptr,
                    e->activation ? e->activation->name : "-", e->activation_out != nullptr, e->backward_x != nullptr);
  }
  key += " on";
  for (const Backend* b : candidates) key += std::string(" ") + b->name();
  return key;
}

void time_kernels(std::span<TimedKernel> kernels) {
  using Clock = std::chrono::steady_clock;
  for (TimedKernel& k : kernels) {
    k.kernel->run();
    k.seconds = 1e30;
  }
  const auto start = Clock::now();
  for (int round = 0; round < 20; ++round) {
    if (round >= 3 && Clock::now() - start >= std::chrono::milliseconds(20)) break;
    for (TimedKernel& k : kernels) {
      const auto t0 = Clock::now();
      k.kernel->run();
      k.seconds = std::min(k.seconds, std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
}

size_t fastest(std::span<const TimedKernel> kernels) {
  size_t best = 0;
  for (size_t i = 1; i < kernels.size(); ++i) {
    if (kernels[i].seconds < 0.97 * kernels[best].seconds) best = i;
  }
  return best;
}

std::string timing_report(std::span<const TimedKernel> kernels) {
  std::string out;
  for (const TimedKernel& k : kernels) {
    out += fmt::format("{}{} {:.3g} ms", out.empty() ? "" : ", ", k.backend->name(), k.seconds * 1e3);
  }
  return out;
}

std::optional<TimedChoice> cached_choice(const std::string& key) {
  std::lock_guard lock(cache_mutex());
  auto it = cache().find(key);
  if (it == cache().end()) return std::nullopt;
  return it->second;
}

void remember_choice(const std::string& key, TimedChoice choice) {
  std::lock_guard lock(cache_mutex());
  cache()[key] = std::move(choice);
}

void forget_timed_choices() {
  std::lock_guard lock(cache_mutex());
  cache().clear();
}

TimedChoices timed_choices() {
  std::lock_guard lock(cache_mutex());
  return {cache().begin(), cache().end()};
}

void adopt_timed_choices(const TimedChoices& choices) {
  std::lock_guard lock(cache_mutex());
  for (const auto& [key, choice] : choices) cache().emplace(key, choice);  // no overwrite
}

}  // namespace graphrun
