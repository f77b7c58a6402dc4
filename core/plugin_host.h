// The plugin host: finds, loads and validates activation and optimizer plugins (shared
// modules speaking the C ABI of plugins/include/graphrun/plugin.h) and looks entries up by name.
//
// Search path, in order (earlier wins):
//   1. extra_dirs (the CLI's --plugin-dir),
//   2. each directory of $GRAPHRUN_PLUGIN_PATH (':'-separated, empty items ignored),
//   3. the build tree's plugin folder (compile-time GRAPHRUN_PLUGIN_BUILD_DIR),
//   4. the installed folder <libdir>/graphrun/plugins, found at run time next to the library or
//      executable holding this code (dladdr), then the compile-time install prefix's one.
// Default folders (3, 4) that do not exist are skipped silently; an explicit folder (1, 2) that
// does not exist or cannot be read is an Error(Plugin) naming it. Every regular file named
// *.so in a folder is loaded, sorted by name. A file whose name was already loaded from an
// earlier folder is skipped (shadowed), so a build tree and an install prefix never clash; two
// different files registering the same entry name is an error naming both.
//
// Every load problem is one Error(ErrorKind::Plugin) naming the file: not a shared library,
// not a graphrun plugin, ABI version mismatch (both versions), init failure (with its message),
// an invalid entry (null kernel, bad name, bad struct_size, bad parameter table).
// A module that fails is unloaded and registers nothing (all or nothing per file).
//
// Ownership and lifetime: the registry holds every loaded module open (RAII handle) until it
// is destroyed; the entries and every function pointer they hold are valid for that long.
// global() is never destroyed, so its entries live as long as the process.
//
// Threads: loading (load_file, load_search_path) must not run concurrently with anything
// else on the same registry; lookups may run concurrently with each other. global() is safe to
// call from several threads; its first lookup loads the default search path once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "graphrun/plugin.h"

namespace graphrun {

struct LoadedActivation {
  const graphrun_activation* entry;
  std::string file;  // the module that registered it
};

struct LoadedOptimizer {
  const graphrun_optimizer* entry;
  std::string file;
  // entry->step_outer when the entry's struct_size covers it (plugins built against the first
  // ABI-1 header do not have the field), else nullptr.
  graphrun_optimizer_step_outer_f32 step_outer = nullptr;
};

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // The folders searched, in order (see the file comment); explicit folders that do not exist
  // are an error, default folders that do not exist are left out.
  static std::vector<std::string> search_path(const std::vector<std::string>& extra_dirs);

  // Loads every *.so of every folder of search_path(extra_dirs). May be called more than once
  // (a file already loaded by this registry is skipped).
  void load_search_path(const std::vector<std::string>& extra_dirs = {});

  // Loads one module. Loading the same file twice is a no-op.
  void load_file(const std::string& path);

  // Throw Error(BadInput) "unknown activation 'x'; known: a, b, c".
  const LoadedActivation& activation(std::string_view name) const;
  const LoadedOptimizer& optimizer(std::string_view name) const;
  // nullptr when absent.
  const LoadedActivation* find_activation(std::string_view name) const;
  const LoadedOptimizer* find_optimizer(std::string_view name) const;
  // Sorted by name.
  std::vector<const LoadedActivation*> activations() const;
  std::vector<const LoadedOptimizer*> optimizers() const;
  // The files loaded so far, in load order.
  std::vector<std::string> files() const;

  // The process-wide registry. Its first lookup loads the default search path, unless
  // load_search_path was called on it before (the CLI does so with its --plugin-dir folders).
  static PluginRegistry& global();

 private:
  struct Impl;
  void ensure_loaded() const;
  std::unique_ptr<Impl> impl_;
};

// Resolves user-given parameters against a declaration: one value per declared parameter, in
// declaration order, defaults filled in. An unknown name, a name given twice, or a value outside
// [min, max] (or NaN) is an Error(BadInput) starting with `context` (e.g.
// "model.json: layers[1].activation") and naming the parameter, the value and the valid range
// or the known names.
std::vector<double> resolve_params(const graphrun_param* params, uint32_t n,
                                   const std::vector<std::pair<std::string, double>>& given, std::string_view context);

}  // namespace graphrun
