// Which layer nodes oneDNN runs natively, in each mode, and why the others decline (the
// consistency table compares the numbers on every shape).
#include <gtest/gtest.h>

#include "ops/layers.h"
#include "tests/backends/consistency.h"

namespace graphrun {
namespace {

using testing::in;

testing::Run on_onednn(const Shape& s, bool training) {
  testing::Table t;
  testing::Case& c = t.add("batch_norm", {in(s), in({s[1]}), in({s[1]})}, [](Graph& g, const testing::Inputs& x) {
    const Shape ch{g.shape(x[0])[1]};
    return ops::batch_norm(g, x[0], x[1], x[2], g.parameter("m", ch, Initializer::zeros(), false),
                           g.parameter("v", ch, Initializer::constant(1.0), false), 0.9f, 1e-3f);
  });
  c.tolerance(1e-4, 1e-4);
  if (training) c.in_training();
  return testing::run_case(c, "onednn");
}

TEST(OnednnLayers, BatchNormForwardIsNativeInBothModesItsGradientsDecline) {
  for (bool training : {true, false}) {
    for (const Shape& s : {Shape{7, 17}, Shape{3, 5, 4, 7}}) {
      const testing::Run r = on_onednn(s, training);  // also compares the running statistics
      const ScheduledNode* fwd = r.scheduled(OpKind::BatchNorm);
      ASSERT_NE(fwd, nullptr);
      EXPECT_EQ(fwd->backend, "onednn") << fwd->declined;
      const ScheduledNode* grad = r.scheduled(OpKind::BatchNormGrad);
      ASSERT_NE(grad, nullptr);
      EXPECT_EQ(grad->backend, "highway");
      EXPECT_NE(grad->declined.find("recompute them from x"), std::string::npos) << grad->declined;
    }
  }
}

TEST(OnednnLayers, LayerNormAndConcatAreNativeSliceAndDropoutDecline) {
  testing::Table t;
  t.add("layer_norm", {in({5, 3, 7}), in({3, 7}), in({3, 7})}, BUILD(ops::layer_norm(g, x[0], x[1], x[2], 1)))
      .tolerance(1e-4, 1e-4);
  t.add("concat", {in({2, 3, 5}), in({2, 4, 5})}, BUILD(ops::concat(g, {x[0], x[1]}, 1)));
  t.add("dropout", {in({3, 17})}, BUILD(ops::dropout(g, x[0], 0.5f))).in_training();
  const testing::Run ln = testing::run_case(t.rows[0], "onednn");
  EXPECT_EQ(ln.scheduled(OpKind::LayerNorm)->backend, "onednn") << ln.scheduled(OpKind::LayerNorm)->declined;
  const testing::Run cat = testing::run_case(t.rows[1], "onednn");
  EXPECT_EQ(cat.scheduled(OpKind::Concat)->backend, "onednn") << cat.scheduled(OpKind::Concat)->declined;
  EXPECT_EQ(cat.scheduled(OpKind::Slice)->declined,
            "onednn: slice is a strided row copy; oneDNN has no slice primitive");
  const testing::Run drop = testing::run_case(t.rows[2], "onednn");
  EXPECT_EQ(drop.scheduled(OpKind::Dropout)->declined, "onednn: oneDNN 2.6 has no dropout primitive");
}

}  // namespace
}  // namespace graphrun
