// The tabular models (models/*.json on scikit-learn's data sets, Debian's python3-sklearn)
// through the graphrun binary, a few epochs each: the test metric beats the trivial baseline
// (R² > 0 is better than predicting the mean; accuracy above the majority class), eval and
// predict show the metrics and values. Skipped when the data sets are absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cli_process.h"

namespace {

namespace fs = std::filesystem;

using Result = graphrun::testing::CliResult;
using graphrun::testing::slurp;

const char* kData = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TabularCliTest : public graphrun::testing::CliFixture {
 protected:
  TabularCliTest() : CliFixture("graphrun_tabular") {}
  void SetUp() override {
    if (!fs::exists(std::string(kData) + "/breast_cancer.csv"))
      GTEST_SKIP() << "no scikit-learn data (python3-sklearn)";
    CliFixture::SetUp();
  }
  static std::string model(const std::string& name) {
    return std::string(GRAPHRUN_SOURCE_DIR) + "/models/" + name + ".json";
  }
  // Trains `name` for `epochs` and returns its metrics.json.
  nlohmann::json train(const std::string& name, int epochs) const {
    const Result r = run("train " + model(name) + " --threads 1 --epochs " + std::to_string(epochs) + " --out " +
                         path(name) + " --metrics-out " + path(name + ".json"));
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(slurp(path(name + ".json")));
  }
};

TEST_F(TabularCliTest, RegressionBeatsTheMean) {
  const nlohmann::json m = train("diabetes", 100);
  EXPECT_GT(m["test_r2"].get<double>(), 0.3) << "R² 0 is the mean's";
  EXPECT_TRUE(m["test_accuracy"].is_null()) << "regression has no accuracy";
  EXPECT_GT(m["test_rmse"].get<double>(), m["test_mae"].get<double>());
  const Result e = run("eval " + model("diabetes") + " --threads 1 --weights " + path("diabetes/weights.safetensors"));
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_TRUE(has(e.out, "r2 ")) << e.out;
  EXPECT_FALSE(has(e.out, "confusion")) << e.out;
}

TEST_F(TabularCliTest, BinaryBeatsTheMajorityClass) {
  const nlohmann::json m = train("breast_cancer", 10);
  // 357 of the 569 samples are benign: the majority class is right 63 % of the time.
  EXPECT_GT(m["test_accuracy"].get<double>(), 0.9);
  EXPECT_GT(m["test_roc_auc"].get<double>(), 0.95);
  EXPECT_GT(m["test_f1"].get<double>(), 0.9);
  graphrun::testing::write_file(path("x.csv"),
                                "17.99,10.38,122.8,1001,0.1184,0.2776,0.3001,0.1471,0.2419,0.07871,1.095,"
                                "0.9053,8.589,153.4,0.006399,0.04904,0.05373,0.01587,0.03003,0.006193,"
                                "25.38,17.33,184.6,2019,0.1622,0.6656,0.7119,0.2654,0.4601,0.1189\n");
  const Result p = run("predict " + model("breast_cancer") + " --threads 1 --weights " +
                       path("breast_cancer/weights.safetensors") + " --input " + path("x.csv"));
  ASSERT_EQ(p.code, 0) << p.err;
  ASSERT_TRUE(has(p.out, "row,p0\n0,")) << p.out;
  EXPECT_LT(std::stod(p.out.substr(p.out.find("\n0,") + 3)), 0.5) << "the data set's first sample is malignant (0)";
}

TEST_F(TabularCliTest, MultiClassShowsTopKAndMacroF1) {
  const nlohmann::json m = train("iris", 30);
  EXPECT_GT(m["test_accuracy"].get<double>(), 0.8);  // one class in three by chance
  EXPECT_TRUE(m.contains("test_macro_f1"));
  EXPECT_TRUE(m.contains("test_top2_accuracy"));
}

}  // namespace
