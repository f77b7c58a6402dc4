// The backends by name, and the chain a Program tries for each node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"

namespace graphrun::backends {

// The backends this build holds, by the name a user picks: "highway", "onednn" (only when
// built with GRAPHRUN_WITH_ONEDNN), "reference".
std::vector<std::string> names();
// The backend with that name; throws BadInput listing the built names (for "onednn" in a
// build without it: that it was not built).
Backend& by_name(std::string_view name);
// preferred first, then Highway, then the reference (each once): every op finds a kernel.
std::vector<Backend*> chain(std::string_view preferred);

}  // namespace graphrun::backends
