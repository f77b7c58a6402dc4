// Learning-rate schedules as pure functions of the step: warmup, each decay, plateau.
#include <gtest/gtest.h>

#include <cmath>

#include "train/schedule.h"

namespace graphrun::train {
namespace {

TEST(Schedule, ConstantIsTheBaseRate) {
  ScheduleConfig c;
  for (uint64_t s : {0u, 1u, 999u}) EXPECT_DOUBLE_EQ(scheduled_lr(c, 0.1, s, 10, 5), 0.1);
  EXPECT_FALSE(c.active());
}

TEST(Schedule, LinearWarmupInStepsAndEpochs) {
  ScheduleConfig c;
  c.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 0, 10, 5), 0.25);
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 3, 10, 5), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 4, 10, 5), 1.0);
  c.warmup_steps = 0;
  c.warmup_epochs = 0.5;  // 5 steps of 10 per epoch
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 0, 10, 5), 0.2);
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 5, 10, 5), 1.0);
}

TEST(Schedule, StepAndExponentialDecay) {
  ScheduleConfig c;
  c.kind = ScheduleKind::Step;
  c.step_size = 2;
  c.gamma = 0.5;
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 19, 10, 9), 1.0);   // epoch 1.9
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 20, 10, 9), 0.5);   // epoch 2
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 1.0, 45, 10, 9), 0.25);  // epoch 4.5
  c.kind = ScheduleKind::Exponential;
  c.gamma = 0.9;
  EXPECT_NEAR(scheduled_lr(c, 1.0, 30, 10, 9), std::pow(0.9, 3), 1e-12);
  EXPECT_NEAR(scheduled_lr(c, 1.0, 35, 10, 9), std::pow(0.9, 3.5), 1e-12);
}

TEST(Schedule, CosineAfterWarmupEndsAtMinLr) {
  ScheduleConfig c;
  c.kind = ScheduleKind::Cosine;
  c.warmup_steps = 10;
  c.min_lr = 0.01;
  const int64_t spe = 10, epochs = 5;  // 50 steps, 40 of anneal
  EXPECT_DOUBLE_EQ(scheduled_lr(c, 0.1, 9, spe, epochs), 0.1);
  EXPECT_GT(scheduled_lr(c, 0.1, 10, spe, epochs), 0.0998);
  EXPECT_NEAR(scheduled_lr(c, 0.1, 29, spe, epochs), 0.055, 1e-12);  // half way: the mean
  EXPECT_NEAR(scheduled_lr(c, 0.1, 49, spe, epochs), 0.01, 1e-12);   // the last step
  EXPECT_NEAR(scheduled_lr(c, 0.1, 500, spe, epochs), 0.01, 1e-12);  // clamped past the end
  for (uint64_t s = 11; s < 50; ++s)
    EXPECT_LT(scheduled_lr(c, 0.1, s, spe, epochs), scheduled_lr(c, 0.1, s - 1, spe, epochs));
}

TEST(Schedule, ReduceOnPlateauAfterPatienceEpochs) {
  ScheduleConfig c;
  c.plateau.enabled = true;
  c.plateau.factor = 0.5;
  c.plateau.patience = 2;
  LrSchedule s(c, 0.1, 10, 20);
  EXPECT_FALSE(s.end_epoch(1.0));
  EXPECT_FALSE(s.end_epoch(0.9));  // better
  EXPECT_FALSE(s.end_epoch(0.95));
  EXPECT_TRUE(s.end_epoch(0.92));  // 2 epochs without improvement
  EXPECT_DOUBLE_EQ(s.lr(100), 0.05);
  EXPECT_FALSE(s.end_epoch(0.91));
  EXPECT_TRUE(s.end_epoch(0.91));
  EXPECT_DOUBLE_EQ(s.lr(100), 0.025);
}

TEST(Schedule, UnknownNameIsBadInput) {
  EXPECT_EQ(parse_schedule_kind("cosine", "x"), ScheduleKind::Cosine);
  EXPECT_ANY_THROW(parse_schedule_kind("linear", "x"));
}

}  // namespace
}  // namespace graphrun::train
