// train/metrics.h on small cases worked out by hand.
#include "train/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace graphrun::train {
namespace {

TEST(Metrics, Regression) {
  // differences 0, -1, 1, -2; target mean 3, SS_tot = 4 + 0 + 1 + 9 = 14, SS_res = 6.
  const float pred[] = {1, 2, 3, 4}, target[] = {1, 3, 2, 6};
  Metrics m;
  regression_metrics(pred, target, 4, 1, m);
  EXPECT_DOUBLE_EQ(m.mae, 1.0);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(1.5));
  EXPECT_DOUBLE_EQ(m.r2, 1.0 - 6.0 / 14.0);
  EXPECT_TRUE(std::isnan(m.f1));
}

TEST(Metrics, RegressionOfAConstantTargetHasNoR2) {
  const float pred[] = {1, 2}, target[] = {3, 3};
  Metrics m;
  regression_metrics(pred, target, 2, 1, m);
  EXPECT_DOUBLE_EQ(m.mae, 1.5);
  EXPECT_TRUE(std::isnan(m.r2));
}

TEST(Metrics, Binary) {
  // Predicted positive: 0.9, 0.8 (right) and 0.6 (wrong); 0.3 is a missed positive.
  // AUC: of the 9 (positive, negative) pairs, only (0.3, 0.6) is ordered wrong.
  const float score[] = {0.9f, 0.8f, 0.3f, 0.6f, 0.2f, 0.1f}, truth[] = {1, 1, 1, 0, 0, 0};
  Metrics m;
  binary_metrics(score, truth, 6, m);
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3.0);
  EXPECT_NEAR(m.f1, 2.0 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(m.roc_auc, 8.0 / 9.0);
}

TEST(Metrics, RocAucCountsTiesHalf) {
  const float score[] = {0.5f, 0.5f, 0.7f, 0.1f}, truth[] = {1, 0, 1, 0};
  Metrics m;
  binary_metrics(score, truth, 4, m);
  // Pairs: (0.5, 0.5) half, (0.5, 0.1) 1, (0.7, 0.5) 1, (0.7, 0.1) 1 -> 3.5 / 4.
  EXPECT_DOUBLE_EQ(m.roc_auc, 3.5 / 4.0);
}

TEST(Metrics, RocAucNeedsBothClasses) {
  const float score[] = {0.5f, 0.7f}, truth[] = {1, 1};
  Metrics m;
  binary_metrics(score, truth, 2, m);
  EXPECT_TRUE(std::isnan(m.roc_auc));
  EXPECT_DOUBLE_EQ(m.recall, 1.0);  // 0.5 counts as predicted positive
}

TEST(Metrics, PerClassAndMacroF1) {
  const std::vector<std::vector<int64_t>> confusion = {{5, 1, 0}, {2, 3, 1}, {0, 0, 4}};
  Metrics m;
  class_metrics(confusion, m);
  ASSERT_EQ(m.class_precision.size(), 3u);
  EXPECT_DOUBLE_EQ(m.class_precision[0], 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(m.class_recall[0], 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(m.class_precision[1], 0.75);
  EXPECT_DOUBLE_EQ(m.class_recall[1], 0.5);
  EXPECT_DOUBLE_EQ(m.class_precision[2], 0.8);
  EXPECT_DOUBLE_EQ(m.class_recall[2], 1.0);
  EXPECT_NEAR(m.macro_f1, (50.0 / 65.0 + 0.6 + 1.6 / 1.8) / 3.0, 1e-12);
}

TEST(Metrics, TopK) {
  const float scores[] = {0.1f, 0.5f, 0.4f, 0.7f, 0.2f, 0.1f};
  const int32_t labels[] = {2, 2};
  EXPECT_DOUBLE_EQ(top_k_accuracy(scores, labels, 2, 3, 2), 0.5);  // row 0 second, row 1 third
  EXPECT_DOUBLE_EQ(top_k_accuracy(scores, labels, 2, 3, 3), 1.0);
}

TEST(Metrics, NamesAndDirections) {
  Metrics m;
  m.mae = 1, m.r2 = 0.5;
  const auto v = metric_values(m);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, "mae");
  EXPECT_EQ(v[1].first, "r2");
  EXPECT_FALSE(higher_is_better("val_mae"));
  EXPECT_FALSE(higher_is_better("val_loss"));
  EXPECT_TRUE(higher_is_better("val_r2"));
  EXPECT_TRUE(higher_is_better("test_roc_auc"));
}

}  // namespace
}  // namespace graphrun::train
