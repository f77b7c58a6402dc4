// The image ops on oneDNN: the consistency table (consistency_image_cases.cc) compares their
// values with the reference; here, that every image-op node of those rows runs on oneDNN
// itself (no fallback), and that sum_channels is declined with its reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "ops/conv.h"
#include "tests/backends/consistency.h"

namespace graphrun {
namespace {

bool is_image_op(OpKind op) {
  const OpKind image_ops[] = {OpKind::Conv2d,           OpKind::Conv2dGradInput, OpKind::Conv2dGradWeight,
                              OpKind::AddChannels,      OpKind::MaxPool2d,       OpKind::MaxPool2dGrad,
                              OpKind::AvgPool2d,        OpKind::AvgPool2dGrad,   OpKind::GlobalAvgPool,
                              OpKind::GlobalAvgPoolGrad};
  return std::find(std::begin(image_ops), std::end(image_ops), op) != std::end(image_ops);
}

TEST(OnednnConv, ImageOpsRunNatively) {
  int rows = 0;
  for (const testing::Case& c : testing::consistency_cases()) {
    const bool image = c.op == "conv2d" || c.op == "max_pool2d" || c.op == "avg_pool2d" || c.op == "global_avg_pool";
    if (!image || rows++ % 3 != 0) continue;  // every third row: the table compares them all
    const testing::Run run = testing::run_case(c, "onednn");
    for (const ScheduledNode& s : run.program->schedule()) {
      if (!is_image_op(run.g->node(s.node).op)) continue;
      EXPECT_EQ(s.backend, "onednn") << c.name << ": " << run.g->node(s.node).name << ": " << s.declined;
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(rows, 30);
}

TEST(OnednnConv, ChannelSumsAreDeclinedWithAReason) {
  testing::Table t;
  t.add("sum_channels [3,5,7,7]", {{Shape{3, 5, 7, 7}, testing::Fill::kUniform, 0, false}},
        BUILD(ops::sum_channels(g, x[0])));
  const testing::Run run = testing::run_case(t.rows[0], "onednn");
  const ScheduledNode* s = run.scheduled(OpKind::SumChannels);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->backend, "highway");
  EXPECT_NE(s->declined.find("onednn: oneDNN 2.6's reduction over the batch and the plane is slow"), std::string::npos)
      << s->declined;
}

}  // namespace
}  // namespace graphrun
