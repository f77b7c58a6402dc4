/* Test-only plugin (in C, so the header is checked as C too): init fails with a message after
 * registering an entry, which the host must discard. */
#include <stddef.h>

#include "graphrun/plugin.h"

static void fwd(const float* src, float* dst, size_t rows, size_t cols, const double* params) {
  (void)params;
  for (size_t i = 0; i < rows * cols; ++i) dst[i] = src[i];
}
static void bwd(const float* src, const float* dst, const float* d_dst, float* d_src, size_t rows, size_t cols,
                const double* params) {
  (void)src, (void)dst, (void)params;
  for (size_t i = 0; i < rows * cols; ++i) d_src[i] = d_dst[i];
}
static const graphrun_activation kEntry = {
    sizeof(graphrun_activation), "discarded_identity", "identity", GRAPHRUN_ACTIVATION_ELEMENTWISE, NULL, 0,
    fwd, bwd, NULL, NULL, NULL};

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  host->register_activation(registry, &kEntry);
  host->set_error(registry, "no licence for this\nactivation");
  return 3;
}
