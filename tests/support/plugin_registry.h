// The built-in plugins, loaded once from GRAPHRUN_PLUGIN_PATH for the plugin tests.
#pragma once

#include "core/plugin_host.h"

namespace graphrun::testing {

inline const PluginRegistry& loaded_plugins() {
  // Never destroyed: the plugins' code must stay mapped until the process ends.
  static PluginRegistry* r = [] {
    auto* reg = new PluginRegistry;
    reg->load_search_path();
    return reg;
  }();
  return *r;
}

}  // namespace graphrun::testing
