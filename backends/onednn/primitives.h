// oneDNN plumbing for the backend: the process-wide engine and stream, plain row-major memory
// descriptors, and the primitive cache.
//
// Primitives are built at compile time and looked up by a key naming the op, the shapes and
// the attributes; the cache lives for the process (a few hundred entries for a large model).
// Thread safety: engine(), stream() and cached() may be called from any thread; cached()
// holds a lock while it builds. Executing on the shared stream is synchronous on the CPU
// engine (OpenMP runtime): one Program runs at a time per thread.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "backends/onednn/backend.h"

namespace graphrun::onednn {

dnnl::engine& engine();
dnnl::stream& stream();

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
// An f32 memory descriptor with plain layout `t` (ab: row-major; ba: the transposed view).
inline dnnl::memory::desc f32_desc(const dims& d, tag t) { return {d, dnnl::memory::data_type::f32, t}; }
// Row-major for any rank 1..3.
dnnl::memory::desc plain_desc(const dims& d);

// The primitive built for `key`, building it with make() on first use.
dnnl::primitive cached(const std::string& key, const std::function<dnnl::primitive()>& make);

}  // namespace graphrun::onednn
