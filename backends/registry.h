// The backends by name, and the chain a Program tries for each node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"
#include "core/compile_options.h"

namespace graphrun::backends {

// The backends this build holds, by the name a user picks: "highway", "onednn" (only when
// built with GRAPHRUN_WITH_ONEDNN), "reference".
std::vector<std::string> names();
// The backend with that name; throws BadInput listing the built names (for "onednn" in a
// build without it: that it was not built).
Backend& by_name(std::string_view name);
// preferred first, then Highway, then the reference (each once): every op finds a kernel.
// "auto": every built backend, Highway first, the reference last.
std::vector<Backend*> chain(std::string_view preferred);

// "auto" is not a backend but a choice among them: the Program times the built backends on each
// heavy node at compile time and keeps the fastest (CompileOptions::choose_by_time).
inline constexpr std::string_view kAuto = "auto";
// Throws what by_name throws unless name is a built backend or "auto".
void check_name(std::string_view name);
// Sets options.backends to chain(name), and choose_by_time for "auto".
void select(std::string_view name, CompileOptions& options);

}  // namespace graphrun::backends
