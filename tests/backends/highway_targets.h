// Runs a Highway kernel test once per compiled-and-supported target (AVX3, AVX2, SSE4, SSSE3,
// SCALAR, ...): each instance restricts the dynamic dispatch to its target, so every target's
// code path is checked against the reference, not only the best one of this machine.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>
#include <string>

#include "backends/highway/kernels.h"

namespace graphrun {

class HighwayTargetTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    hwy::SetSupportedTargetsForTest(GetParam());
    ASSERT_EQ(std::string(highway::target_name()), hwy::TargetName(GetParam()));
  }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

inline std::string target_test_name(const ::testing::TestParamInfo<int64_t>& info) {
  return hwy::TargetName(info.param);
}

}  // namespace graphrun

// Declares the instantiation of a HighwayTargetTest-derived suite over all targets.
#define GRAPHRUN_INSTANTIATE_FOR_HIGHWAY_TARGETS(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Targets, suite, ::testing::ValuesIn(hwy::SupportedAndGeneratedTargets()), \
                           ::graphrun::target_test_name)
