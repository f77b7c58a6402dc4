// Runs the consistency table (consistency_cases.cc): one test per (built backend, op family)
// against the reference, forward and backward; one finite-difference test per op family; and
// a check that every op of the op list appears in the table.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "backends/registry.h"
#include "tests/backends/consistency.h"

namespace graphrun {
namespace {

using testing::Case;
using testing::consistency_cases;

std::vector<std::string> families() {
  std::vector<std::string> out;
  for (const Case& c : consistency_cases())
    if (std::find(out.begin(), out.end(), c.op) == out.end()) out.push_back(c.op);
  return out;
}

// Every built backend but the reference, which is the oracle.
std::vector<std::string> compared_backends() {
  std::vector<std::string> out;
  for (const std::string& b : backends::names())
    if (b != "reference") out.push_back(b);
  return out;
}

class BackendConsistency : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(BackendConsistency, MatchesTheReferenceForwardAndBackward) {
  const auto& [backend, op] = GetParam();
  int rows = 0;
  for (const Case& c : consistency_cases()) {
    if (c.op != op) continue;
    ++rows;
    testing::run_case(c, backend);
    if (HasFailure()) return;  // the first failing row is the one to read
  }
  EXPECT_GT(rows, 0);
}

INSTANTIATE_TEST_SUITE_P(Table, BackendConsistency,
                         ::testing::Combine(::testing::ValuesIn(compared_backends()), ::testing::ValuesIn(families())),
                         [](const auto& info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

class FiniteDifferences : public ::testing::TestWithParam<std::string> {};

TEST_P(FiniteDifferences, AutodiffMatchesCentralDifferencesInDouble) {
  int checked = 0;
  for (const Case& c : consistency_cases()) {
    if (c.op != GetParam() || !testing::finite_difference_row(c)) continue;
    testing::check_row_gradients(c);
    ++checked;
    if (HasFailure()) return;
  }
  EXPECT_GT(checked, 0) << "no row of '" << GetParam() << "' is small enough for finite differences";
}

INSTANTIATE_TEST_SUITE_P(Table, FiniteDifferences, ::testing::ValuesIn(families()),
                         [](const auto& info) { return info.param; });

// Every op of core/op_list.inc runs in some row that the finite-difference check covers
// (gradient ops through their forward op's backward pass): a new op fails here until it has rows.
TEST(ConsistencyTable, EveryOpHasARow) {
  std::set<OpKind> seen;
  for (const Case& c : consistency_cases()) {
    if (!testing::finite_difference_row(c)) continue;
    testing::Run run = testing::run_case(c, "reference");
    for (NodeId id = 0; id < run.g->size(); ++id) seen.insert(run.g->node(id).op);
  }
  const OpKind all[] = {
#define GRAPHRUN_OP(e, name, inputs) OpKind::e,
#include "core/op_list.inc"
#undef GRAPHRUN_OP
  };
  for (OpKind op : all) {
    if (op == OpKind::Parameter) continue;  // the table's operands are inputs
    EXPECT_TRUE(seen.count(op)) << "no row runs op '" << op_name(op) << "'";
  }
}

}  // namespace
}  // namespace graphrun
