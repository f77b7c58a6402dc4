// The backends by name, and the chain a Program tries for each node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"

namespace graphrun::backends {

// The names a user may pick, best first: "highway", "onednn", "reference".
std::vector<std::string> names();
// The backend with that name; throws BadInput listing the known names.
Backend& by_name(std::string_view name);
// preferred first, then Highway, then the reference (each once): every op finds a kernel.
std::vector<Backend*> chain(std::string_view preferred);

}  // namespace graphrun::backends
