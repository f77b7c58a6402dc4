#include "io/scaling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/safetensors.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;

// 3 samples x 3 features; feature 2 is constant.
Tensor train() { return Tensor(Shape{3, 3}, std::vector<float>{0, 10, 5, 2, 20, 5, 4, 60, 5}); }

TEST(Scaling, MinMaxPerFeature) {
  Scaler s = fit_scaler(Scaling::MinMax, train());
  EXPECT_EQ(s.offset[0], 0.0f);
  EXPECT_EQ(s.offset[1], 10.0f);
  EXPECT_FLOAT_EQ(s.scale[0], 0.25f);
  EXPECT_FLOAT_EQ(s.scale[1], 0.02f);
  EXPECT_EQ(s.scale[2], 1.0f);  // constant feature: no division by zero
  Tensor x = train();
  apply_scaler(s, x);
  EXPECT_FLOAT_EQ(x[3], 0.5f);
  EXPECT_FLOAT_EQ(x[7], 1.0f);
  EXPECT_EQ(x[8], 0.0f);
  // Statistics come from training data only: test data may fall outside [0, 1].
  Tensor test(Shape{1, 3}, std::vector<float>{8, 0, 6});
  apply_scaler(s, test);
  EXPECT_FLOAT_EQ(test[0], 2.0f);
  EXPECT_FLOAT_EQ(test[1], -0.2f);
  EXPECT_FLOAT_EQ(test[2], 1.0f);
}

TEST(Scaling, MinMaxPerFeatureOnManyRowsAndOddWidth) {
  const int64_t n = 37, d = 19;
  Tensor x(Shape{n, d});
  for (int64_t i = 0; i < n * d; ++i) x[i] = static_cast<float>((i * 7919) % 101) - 50.0f;
  const Scaler s = fit_scaler(Scaling::MinMax, x);
  for (int64_t j = 0; j < d; ++j) {
    float lo = x[j], hi = x[j];
    for (int64_t i = 0; i < n; ++i) lo = std::min(lo, x[i * d + j]), hi = std::max(hi, x[i * d + j]);
    EXPECT_EQ(s.offset[j], lo) << j;
    EXPECT_FLOAT_EQ(s.scale[j], 1.0f / (hi - lo)) << j;
  }
}

TEST(Scaling, MinMaxGlobalIsDivideBy255OnImages) {
  Tensor img(Shape{2, 2}, std::vector<float>{0, 255, 51, 102});
  Scaler s = fit_scaler(Scaling::MinMaxGlobal, img);
  EXPECT_EQ(s.offset.shape(), (Shape{2}));
  EXPECT_EQ(s.offset[1], 0.0f);
  EXPECT_FLOAT_EQ(s.scale[0], 1.0f / 255.0f);
  EXPECT_FLOAT_EQ(s.scale[1], 1.0f / 255.0f);
  apply_scaler(s, img);
  EXPECT_FLOAT_EQ(img[1], 1.0f);
  EXPECT_FLOAT_EQ(img[2], 0.2f);
  EXPECT_FLOAT_EQ(img[3], 0.4f);
}

TEST(Scaling, StandardizeUsesPopulationStd) {
  Scaler s = fit_scaler(Scaling::Standardize, train());
  EXPECT_FLOAT_EQ(s.offset[0], 2.0f);
  EXPECT_FLOAT_EQ(s.offset[1], 30.0f);
  EXPECT_FLOAT_EQ(s.scale[0], static_cast<float>(1.0 / std::sqrt(8.0 / 3.0)));
  EXPECT_FLOAT_EQ(s.scale[1], static_cast<float>(1.0 / std::sqrt(1400.0 / 3.0)));
  EXPECT_EQ(s.scale[2], 1.0f);  // std 0
  Tensor x = train();
  apply_scaler(s, x);
  for (int j = 0; j < 2; ++j) {
    double mean = 0, sq = 0;
    for (int i = 0; i < 3; ++i) mean += x[i * 3 + j];
    for (int i = 0; i < 3; ++i) sq += x[i * 3 + j] * x[i * 3 + j];
    EXPECT_NEAR(mean / 3, 0.0, 1e-6);
    EXPECT_NEAR(sq / 3, 1.0, 1e-6);
  }
  EXPECT_EQ(x[2], 0.0f);
}

TEST(Scaling, NoneIsIdentity) {
  Scaler s = fit_scaler(Scaling::None, train());
  Tensor x = train();
  apply_scaler(s, x);
  EXPECT_EQ(x[7], 60.0f);
}

TEST(Scaling, NamesAndErrors) {
  for (Scaling k : {Scaling::None, Scaling::MinMax, Scaling::MinMaxGlobal, Scaling::Standardize}) {
    EXPECT_EQ(parse_scaling(to_string(k)), k);
  }
  expect_error([] { parse_scaling("zscore"); }, ErrorKind::BadInput, {"\"zscore\"", "minmax_global", "standardize"});
  expect_error([] { fit_scaler(Scaling::MinMax, Tensor(Shape{0, 3})); }, ErrorKind::Shape, {"[0,3]"});
  expect_error([] { fit_scaler(Scaling::MinMax, Tensor(Shape{4})); }, ErrorKind::Shape, {"[4]"});
  Tensor nan(Shape{1, 2}, std::vector<float>{1, NAN});
  expect_error([&] { fit_scaler(Scaling::MinMax, nan); }, ErrorKind::BadInput, {"sample 0 feature 1"});
  Tensor inf(Shape{100, 7});  // past the first vectors: the finiteness test is vectorized
  inf[97 * 7 + 5] = -INFINITY;
  expect_error([&] { fit_scaler(Scaling::MinMaxGlobal, inf); }, ErrorKind::BadInput, {"sample 97 feature 5", "-inf"});
  Scaler s = fit_scaler(Scaling::MinMax, train());
  Tensor wrong(Shape{2, 4});
  expect_error([&] { apply_scaler(s, wrong); }, ErrorKind::Shape, {"[2,4]", "[3]"});
}

TEST(Scaling, StatisticsRoundTripThroughSafetensors) {
  Scaler s = fit_scaler(Scaling::Standardize, train());
  std::vector<std::byte> bytes = serialize_safetensors({{"scaler.offset", &s.offset}, {"scaler.scale", &s.scale}},
                                                       {{"scaler.kind", to_string(s.kind)}});
  SafetensorsFile f = parse_safetensors(bytes, "ckpt");
  Scaler back{parse_scaling(f.metadata.at("scaler.kind")), f.tensors[0].second, f.tensors[1].second};
  EXPECT_EQ(back.kind, Scaling::Standardize);
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(back.offset[j], s.offset[j]);
    EXPECT_EQ(back.scale[j], s.scale[j]);
  }
}

}  // namespace
}  // namespace graphrun::io
