// The Highway backend: hand-vectorized kernels (backends/highway/kernels.h) with runtime ISA
// dispatch, multi-threaded on the Program's pool. Activations run the plugin's own
// (Highway-vectorized) kernels, split across the pool by the host.
#pragma once

#include "core/backend.h"

namespace graphrun::highway {

Backend& backend();

}  // namespace graphrun::highway
