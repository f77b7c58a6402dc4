/* Test-only plugin: claims the ABI version given by -DCLAIMED_ABI_VERSION (an older or newer
 * graphrun). Its init must never be called. */
#include <stdlib.h>

#include "graphrun/plugin.h"

GRAPHRUN_PLUGIN_EXPORT uint32_t graphrun_plugin_abi_version(void) { return CLAIMED_ABI_VERSION; }

GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  (void)host;
  (void)registry;
  abort(); /* the host must refuse the module before calling init */
}
