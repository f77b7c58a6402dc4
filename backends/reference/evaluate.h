// A double-precision interpreter over a whole graph: the oracle for gradient checks.
// It evaluates every node in order with the reference kernels instantiated for double and
// the activations' f64 kernels. Meant for tests and small graphs: it allocates freely.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/run_state.h"

namespace graphrun::reference {

struct DoubleTensor {
  Shape shape;
  std::vector<double> values;
};

// values: every input and parameter by node name (concrete shapes). Constants come from the
// graph. Returns one tensor per node (by node id). Throws BadInput for a missing value or an
// activation without f64 kernels. training and run: as a Program's (CompileOptions), except
// that batch norm leaves the running statistics as they are (they are inputs here).
std::vector<DoubleTensor> evaluate_f64(const Graph& g, int64_t batch, const std::map<std::string, DoubleTensor>& values,
                                       bool training = false, RunState run = {});

}  // namespace graphrun::reference
