// Data augmentation (train/augment.h): the draws are spread over their whole range, fixed by
// (seed, epoch, row) alone, and the image is moved exactly as the draw says (odd shapes,
// several channels); training with augment sees different pixels but evaluation does not.
#include "train/augment.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "core/error.h"
#include "tests/support/tiny_dataset.h"
#include "train/trainer.h"

namespace graphrun::train {
namespace {

AugmentConfig config(int64_t shift, bool flip, std::vector<int64_t> image = {3, 5, 7}) {
  AugmentConfig c;
  c.shift = shift;
  c.horizontal_flip = flip;
  c.image = std::move(image);
  return c;
}

TEST(Augment, DrawsCoverTheRangeEvenlyAndDependOnlyOnSeedEpochRow) {
  const AugmentConfig c = config(2, true);
  std::map<int64_t, int> dy, dx;
  int flips = 0;
  const int n = 5000;
  for (int64_t row = 0; row < n; ++row) {
    const AugmentDraw d = augment_draw(c, 7, 3, row);
    ++dy[d.dy];
    ++dx[d.dx];
    flips += d.flip;
    const AugmentDraw again = augment_draw(c, 7, 3, row);
    EXPECT_EQ(d.flip, again.flip);
    EXPECT_EQ(d.dy, again.dy);
    EXPECT_EQ(d.dx, again.dx);
  }
  ASSERT_EQ(dy.size(), 5u);
  ASSERT_EQ(dx.size(), 5u);
  for (int64_t v = -2; v <= 2; ++v) {  // 1000 expected each; 5 standard deviations ~ 140
    EXPECT_NEAR(dy[v], n / 5, 150) << v;
    EXPECT_NEAR(dx[v], n / 5, 150) << v;
  }
  EXPECT_NEAR(flips, n / 2, 180);
  int same_next_epoch = 0;  // another epoch draws anew
  for (int64_t row = 0; row < 1000; ++row) {
    const AugmentDraw a = augment_draw(c, 7, 3, row), b = augment_draw(c, 7, 4, row);
    same_next_epoch += a.flip == b.flip && a.dy == b.dy && a.dx == b.dx;
  }
  EXPECT_LT(same_next_epoch, 60);  // 1000 / 50 expected
}

TEST(Augment, FlagsOffDrawNothing) {
  const AugmentDraw d = augment_draw(config(0, false), 1, 2, 3);
  EXPECT_FALSE(d.flip);
  EXPECT_EQ(d.dy, 0);
  EXPECT_EQ(d.dx, 0);
  EXPECT_FALSE(config(0, false).enabled());
  EXPECT_TRUE(config(1, false).enabled());
  EXPECT_TRUE(config(0, true).enabled());
}

TEST(Augment, MovesTheImageAsDrawnOnOddShapes) {
  for (const std::vector<int64_t>& image : {std::vector<int64_t>{3, 5, 7}, {1, 1, 3}, {2, 7, 4}}) {
    for (const bool flip : {false, true}) {
      const int64_t shift = std::min(image[1], image[2]) / 2;
      const AugmentConfig c = config(shift, flip, image);
      const int64_t ch = image[0], h = image[1], w = image[2];
      std::vector<float> src(static_cast<size_t>(ch * h * w)), dst(src.size(), -1.0f);
      for (size_t i = 0; i < src.size(); ++i) src[i] = 1.0f + static_cast<float>(i);
      for (int64_t row = 0; row < 40; ++row) {
        augment_image(c, src.data(), dst.data(), 11, 0, row);
        const AugmentDraw d = augment_draw(c, 11, 0, row);
        for (int64_t k = 0; k < ch; ++k) {
          for (int64_t y = 0; y < h; ++y) {
            for (int64_t x = 0; x < w; ++x) {
              const int64_t sx = (d.flip ? w - 1 - x : x) - d.dx, sy = y - d.dy;
              const float want = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(k * h + sy) * w + sx] : 0.0f;
              ASSERT_EQ(dst[(k * h + y) * w + x], want) << "row " << row << " c " << k << " y " << y << " x " << x;
            }
          }
        }
      }
    }
  }
}

// The tiny problem's 8 features seen as a [2, 2, 2] image.
TrainConfig tiny_config(int64_t shift, bool flip, std::vector<int64_t> image = {2, 2, 2}) {
  TrainConfig c;
  c.batch_size = 16;
  c.seed = 3;
  c.learning_rate = 0.1;
  c.threads = 1;
  c.context = "test";
  c.augment = config(shift, flip, std::move(image));
  return c;
}

std::vector<float> trained_weights(const TrainConfig& cfg) {
  testing::TinyNet n = testing::make_tiny_net(6, 1);
  const io::Dataset data = testing::make_tiny_dataset(64, 2);
  Trainer t(n.model, n.params, cfg, PluginRegistry::global());
  t.train_epoch(data);
  t.train_epoch(data);
  std::vector<float> w;
  for (const NodeId p : n.model.trainable()) {
    const Tensor& v = *n.params.find(n.model.graph.node(p).name);
    w.insert(w.end(), v.data(), v.data() + v.numel());
  }
  return w;
}

TEST(Augment, ChangesTrainingOnlyAndIsReproducible) {
  const std::vector<float> plain = trained_weights(tiny_config(0, false));
  const std::vector<float> augmented = trained_weights(tiny_config(1, true));
  EXPECT_NE(plain, augmented) << "augmented batches train other weights";
  EXPECT_EQ(augmented, trained_weights(tiny_config(1, true))) << "the same seed draws the same images";

  // Evaluation never augments: the same parameters evaluate the same with and without it.
  testing::TinyNet n = testing::make_tiny_net(6, 1);
  const io::Dataset data = testing::make_tiny_dataset(64, 2);
  Trainer with(n.model, n.params, tiny_config(1, true), PluginRegistry::global());
  const double loss_with = with.evaluate(data).loss;
  testing::TinyNet m = testing::make_tiny_net(6, 1);
  Trainer without(m.model, m.params, tiny_config(0, false), PluginRegistry::global());
  EXPECT_EQ(loss_with, without.evaluate(data).loss);
}

TEST(Augment, AnImageShapeThatIsNotTheDataIsBadInput) {
  testing::TinyNet n = testing::make_tiny_net(6, 1);
  const io::Dataset data = testing::make_tiny_dataset(32, 2);
  Trainer t(n.model, n.params, tiny_config(1, false, {1, 3, 3}), PluginRegistry::global());
  try {
    t.train_epoch(data);
    FAIL() << "expected BadInput";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("the data's 8 features"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace graphrun::train
