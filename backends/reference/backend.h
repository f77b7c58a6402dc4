// The reference backend: plain loops with double accumulation, single-threaded. It runs every
// op, so it ends every backend chain, and the tests trust it as the oracle.
#pragma once

#include "core/backend.h"

namespace graphrun::reference {

Backend& backend();

}  // namespace graphrun::reference
