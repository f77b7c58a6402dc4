// Test-only plugins: one well-formed activation named ENTRY_NAME (default "tiny"), or, with
// -DDEFECT=<n>, an entry with one defect the host must refuse (see the switch below).
#include <cstddef>

#include "graphrun/plugin.h"

#ifndef ENTRY_NAME
#define ENTRY_NAME "tiny"
#endif
#ifndef DEFECT
#define DEFECT 0
#endif

namespace {

void Fwd(const float* src, float* dst, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) dst[i] = 2 * src[i];
}
void Bwd(const float*, const float*, const float* d_dst, float* d_src, size_t rows, size_t cols, const double*) {
  for (size_t i = 0; i < rows * cols; ++i) d_src[i] = 2 * d_dst[i];
}
void Step(float* param, const float* grad, float* const*, size_t n, uint64_t, double lr, const double*) {
  for (size_t i = 0; i < n; ++i) param[i] -= static_cast<float>(lr) * grad[i];
}

graphrun_param kParams[] = {{"gain", 1.0, 0.0, 2.0, nullptr}};
const char* const kSlots[] = {"velocity"};

graphrun_activation MakeActivation() {
  graphrun_activation a = {sizeof(graphrun_activation),
                           ENTRY_NAME,
                           "test",
                           GRAPHRUN_ACTIVATION_ELEMENTWISE,
                           kParams,
                           1,
                           Fwd,
                           Bwd,
                           nullptr,
                           nullptr,
                           nullptr};
  switch (DEFECT) {
    case 1:
      a.forward = nullptr;
      a.backward = nullptr;
      break;  // null kernels
    case 2:
      a.struct_size = 8;
      break;  // bad struct_size
    case 3:
      a.name = nullptr;
      break;  // missing name
    case 4:
      a.params = nullptr;
      break;  // n_params > 0, params NULL
    case 5:
      kParams[0].default_value = 3.0;
      break;  // default outside [min, max]
    case 7:
      a.name = "Bad-Name";
      break;  // invalid name
    default:
      break;
  }
  return a;
}
graphrun_optimizer MakeOptimizer() {
  graphrun_optimizer o = {sizeof(graphrun_optimizer), ENTRY_NAME, "test", 0.1, nullptr, 0, 1, kSlots, Step, nullptr};
  if (DEFECT == 6) o.state_slot_names = nullptr;  // n_state_slots > 0, names NULL
#ifdef WITHOUT_STEP_OUTER
  // Built against the first ABI-1 header, which ended at `step`: not a defect, must load.
  o.struct_size = offsetof(graphrun_optimizer, step_outer);
#endif
  return o;
}
const graphrun_activation kActivation = MakeActivation();
const graphrun_optimizer kOptimizer = MakeOptimizer();

}  // namespace

GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()
GRAPHRUN_PLUGIN_INIT(const graphrun_host* host, graphrun_registry* registry) {
  // Ignores the host's refusal on purpose: the host must fail the module anyway.
  host->register_activation(registry, &kActivation);
  host->register_optimizer(registry, &kOptimizer);
  return 0;
}
