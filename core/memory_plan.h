// Compile stage 3, the memory plan: how long each value lives, where in the arena it is
// placed, and the view (pointer and concrete shape) every node's kernel reads or writes.
//
// Arena values are inputs and op results, one per storage root (a reshape, and the nodes of a
// fused chain, share their root's buffer); parameters live in the ParameterStore and
// constants in the graph. Buffers are placed largest first at the lowest 64-byte aligned
// offset free of every placed buffer live at the same time.
#pragma once

#include <cstdint>
#include <vector>

#include "core/graph.h"
#include "core/parameters.h"
#include "core/schedule.h"
#include "core/tensor.h"

namespace graphrun {

// Where a value lives in the arena and for which steps it must stay intact.
struct BufferPlan {
  NodeId node;
  int64_t offset;
  int64_t bytes;
  int32_t first_step;  // the step that writes it (-1: written before run, an input)
  int32_t last_step;   // the last step that reads it (INT32_MAX: readable after run)
};

struct MemoryPlan {
  std::vector<BufferPlan> buffers;
  int64_t arena_bytes = 0;
};

MemoryPlan plan_memory(const Graph& g, const Schedule& s, int64_t batch);

// Every needed node's view: its arena buffer (or its root's), its parameter tensor (whose shape
// must match the graph's: Error Shape) or its constant. Other nodes get an empty view.
std::vector<TensorView> bind_views(const Graph& g, const Schedule& s, const MemoryPlan& plan, float* arena,
                                   ParameterStore& params, int64_t batch);

}  // namespace graphrun
