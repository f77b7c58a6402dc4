// The oneDNN tests' shorthand: one graph run on the chain "onednn" (then Highway, then the
// reference) and on the reference, compared element by element (tests/backends/consistency.h).
#pragma once

#include "tests/backends/consistency.h"

namespace graphrun::testing {

inline Run on_onednn(std::string name, std::vector<Operand> inputs, Build build, double atol = 1e-5, double rtol = 1e-5,
                     double lo = -1.0, double hi = 1.0) {
  Table t;
  t.add(std::move(name), std::move(inputs), std::move(build)).tolerance(atol, rtol).domain(lo, hi);
  return run_case(t.rows.back(), "onednn");
}

}  // namespace graphrun::testing
