/* Test-only plugin: has the version function but no graphrun_plugin_init. */
#include "graphrun/plugin.h"

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
