// A file that keeps `--backend auto`'s choices (core/backend_timing.h) between runs, so each
// shape is timed once per machine rather than once per process: a `predict` on a wide network
// then starts in milliseconds, not seconds.
//
// JSON: {"format": "graphrun backend timings", "choices": [{"machine", "key", "backend",
// "timings"}]}. `machine` says what the timings hold for (the caller's fingerprint: version,
// CPU model, SIMD target); entries of other machines are kept, so a home folder shared by
// several machines serves each. A stale choice only costs speed: every backend computes the
// same result.
#pragma once

#include <cstddef>
#include <string>

namespace graphrun::io {

// $GRAPHRUN_CACHE_DIR/backend-timings.json, else under $XDG_CACHE_HOME/graphrun, else under
// $HOME/.cache/graphrun; "" (no cache) when GRAPHRUN_CACHE_DIR is set but empty, or there is no
// home.
std::string default_timing_cache_path();

// Adopts the file's choices for `machine` into the process's cache; returns how many. A missing
// file holds none. A malformed one throws Error(BadInput) naming the file and the entry.
size_t load_timing_cache(const std::string& path, const std::string& machine);

// Writes the process's choices for `machine`, beside the file's entries for other machines,
// atomically (io/atomic_file.h), creating the folder. Throws Error(Io) when it cannot.
void save_timing_cache(const std::string& path, const std::string& machine);

}  // namespace graphrun::io
