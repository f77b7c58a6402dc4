// `graphrun train --max-memory BYTES`: the run's memory plan (parameters, optimizer state, and
// each compiled program's arena) must fit, or it is refused before the memory is allocated.
// Exit 1 (Error Runtime): the model is valid, this machine or limit is too small for it — the
// same class of failure as running out of memory.
#pragma once

#include <cstdint>
#include <string>

#include "core/plugin_host.h"

namespace graphrun::tool {

// "123", "64K", "512M", "2G", "1T" (powers of 1024; a trailing "B" or "iB" allowed). Anything
// else, or 0, is Error(BadInput) naming `option`.
uint64_t parse_bytes(const std::string& text, const std::string& option);

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read (then nothing is checked).
uint64_t available_memory();

// `parameters` (4 bytes each) and the optimizer's state slots (4 bytes per parameter each) of
// the model file `model`; Error(Runtime) naming the model file, the figure and the limit when
// they exceed `limit`. Returns what remains for a program's arena.
int64_t check_parameter_memory(const std::string& model, int64_t parameters, const LoadedOptimizer& optimizer,
                               uint64_t limit, const std::string& limit_source);

}  // namespace graphrun::tool
