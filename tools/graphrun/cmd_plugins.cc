// graphrun plugins: every activation and optimizer the search path provides.
#include <fmt/format.h>
#include <memory>

#include "core/plugin_host.h"
#include "graphrun/plugin.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/session.h"

namespace graphrun::tool {
namespace {

std::string param_list(const graphrun_param* p, uint32_t n) {
  if (n == 0) return "-";
  std::string s;
  for (uint32_t i = 0; i < n; ++i) {
    s += fmt::format("{}{}={} [{}, {}]", i ? ", " : "", p[i].name, p[i].default_value, p[i].min_value, p[i].max_value);
  }
  return s;
}

int run_plugins(const PluginsArgs& a) {
  PluginRegistry& r = load_plugins(a.common);
  fmt::print("plugin ABI version {}; search path:\n", GRAPHRUN_PLUGIN_ABI_VERSION);
  for (const std::string& d : PluginRegistry::search_path(a.common.plugin_dirs)) fmt::print("  {}\n", d);

  fmt::print("\nactivations\n");
  for (const LoadedActivation* la : r.activations()) {
    const graphrun_activation& e = *la->entry;
    std::vector<double> defaults;
    for (uint32_t i = 0; i < e.n_params; ++i) defaults.push_back(e.params[i].default_value);
    float alpha = 0, beta = 0;
    const bool native =
        e.onednn_equivalent && e.onednn_equivalent(defaults.data(), &alpha, &beta) != GRAPHRUN_ONEDNN_NONE;
    fmt::print("  {:<12} {:<11} onednn-native: {:<3}  params: {}\n    {}\n    file: {} (ABI {})\n", e.name,
               e.kind == GRAPHRUN_ACTIVATION_ROWWISE ? "row-wise" : "elementwise", native ? "yes" : "no",
               param_list(e.params, e.n_params), e.doc ? e.doc : "", la->file, GRAPHRUN_PLUGIN_ABI_VERSION);
  }
  fmt::print("\noptimizers\n");
  for (const LoadedOptimizer* lo : r.optimizers()) {
    const graphrun_optimizer& e = *lo->entry;
    std::string slots;
    for (uint32_t i = 0; i < e.n_state_slots; ++i) slots += fmt::format("{}{}", i ? ", " : "", e.state_slot_names[i]);
    fmt::print("  {:<12} learning_rate={}  hyperparameters: {}  state: {}\n    {}\n    file: {} (ABI {})\n", e.name,
               e.default_lr, param_list(e.hyper, e.n_hyper), slots.empty() ? "-" : slots, e.doc ? e.doc : "", lo->file,
               GRAPHRUN_PLUGIN_ABI_VERSION);
  }
  return 0;
}

}  // namespace

Command plugins_command() {
  auto a = std::make_shared<PluginsArgs>();
  return {"plugins", "List the activation and optimizer plugins found",
          [a](Options& o) { add_common_options(o, a->common, false); }, [a] { return run_plugins(*a); }};
}

}  // namespace graphrun::tool
