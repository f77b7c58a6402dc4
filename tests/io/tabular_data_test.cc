// Tabular data: gzip'd CSV, preamble lines, float target columns, class bounds, seeded
// train/test splits, the model file's data keys, and scikit-learn's data sets read unedited.
#include <zlib.h>

#include <gtest/gtest.h>
#include <filesystem>

#include "io/csv.h"
#include "io/dataset.h"
#include "io/gzip.h"
#include "io/model_file.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;
using testing::to_bytes;
using testing::write_bytes;

std::vector<std::byte> gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&z, text.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(TabularCsv, PreambleHeaderAndTargetColumnsInTheirOrder) {
  CsvOptions o{.header = true, .label_column = -1, .skip_lines = 1, .target_columns = {3, 1}};
  CsvTable t = parse_csv("3,4,,\n\"a\",\"b\",\"c\",\"d\"\n1,2,3,4\n5,6,7,8\n9,10,11,12\n", "b.csv", o);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"\"a\"", "\"b\"", "\"c\"", "\"d\""}));
  ASSERT_EQ(t.features.shape(), (Shape{3, 2}));
  ASSERT_EQ(t.targets.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.features[0], 1.0f);
  EXPECT_EQ(t.features[1], 3.0f);
  EXPECT_EQ(t.targets[0], 4.0f);  // column 3 first, as listed
  EXPECT_EQ(t.targets[1], 2.0f);
  EXPECT_EQ(t.targets[5], 10.0f);
  EXPECT_TRUE(t.labels.empty());
}

TEST(TabularCsv, BadTargetsNameFileLineAndColumn) {
  auto bad = [](const std::string& text, const CsvOptions& o, const std::vector<std::string>& fragments) {
    expect_error([&] { parse_csv(text, "t.csv", o); }, ErrorKind::BadInput, fragments);
  };
  bad("1,2\n3,4\n", CsvOptions{.label_column = -1, .target_columns = {5}},
      {"t.csv:1:", "target column 5 does not exist: the line has 2 columns"});
  bad("1,2\n3,nan\n", CsvOptions{.label_column = -1, .target_columns = {1}},
      {"t.csv:2:3:", "target column 1 value \"nan\" is not a finite number"});
  bad("1,2\n3,inf\n", CsvOptions{.label_column = -1, .target_columns = {1}}, {"t.csv:2:3:", "not a finite number"});
  bad("1,2\n", CsvOptions{.label_column = -1, .target_columns = {0, 1}}, {"every column is a target column"});
  bad("1,2\n", CsvOptions{.label_column = 0, .target_columns = {1}},
      {"give a label column or target columns, not both"});
  // A float where the loss needs a class, and a class beyond the model's outputs.
  bad("1,0\n2,1.5\n", CsvOptions{.label_column = 1},
      {"t.csv:2:3:", "label \"1.5\" is not a non-negative integer class index"});
  bad("1,0\n2,3\n", CsvOptions{.label_column = 1, .classes = 3},
      {"t.csv:2:3:", "label \"3\" is outside the model's 3 classes (0 to 2)"});
  bad("x\n1,2\n", CsvOptions{.label_column = 1, .skip_lines = -1}, {"skip_lines -1 is invalid"});
}

TEST(TabularCsv, AWeightColumnIsNotAFeatureAndFollowsItsRows) {
  CsvOptions o{.label_column = -1, .target_columns = {2}, .weight_column = 1};
  CsvTable t = parse_csv("1,0.5,10,4\n2,0,20,5\n3,2,30,6\n", "w.csv", o);
  ASSERT_EQ(t.features.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.features[1], 4.0f);  // columns 0 and 3
  EXPECT_EQ(t.weights, (std::vector<float>{0.5f, 0.0f, 2.0f}));
  Dataset d = make_target_dataset(std::move(t.features), std::move(t.targets), "w.csv");
  d.weights = t.weights;
  auto [train, test] = split_dataset(d, 0.34, 3, "w.csv");
  for (const Dataset* part : {&train, &test}) {
    ASSERT_EQ(part->weights.size(), static_cast<size_t>(part->size()));
    for (int64_t i = 0; i < part->size(); ++i) {
      const float want = part->features[i * 2] == 1 ? 0.5f : part->features[i * 2] == 2 ? 0.0f : 2.0f;
      EXPECT_EQ(part->weights[static_cast<size_t>(i)], want);
    }
  }
}

TEST(TabularCsv, BadWeightsNameFileLineAndColumn) {
  auto bad = [](const std::string& text, const CsvOptions& o, const std::vector<std::string>& fragments) {
    expect_error([&] { parse_csv(text, "w.csv", o); }, ErrorKind::BadInput, fragments);
  };
  const CsvOptions o{.label_column = 0, .weight_column = 2};
  bad("1,2,1\n0,3,-1\n", o, {"w.csv:2:5:", "weight column 2 value \"-1\"", "a finite number >= 0"});
  bad("1,2,1\n0,3,nan\n", o, {"w.csv:2:5:", "weight column 2 value \"nan\""});
  bad("1,2,0\n0,3,0\n", o, {"w.csv:", "every sample weight (column 2) is 0"});
  bad("1,2\n", o, {"w.csv:1:", "weight column 2 does not exist: the line has 2 columns"});
  bad("1,2,3\n", CsvOptions{.label_column = 0, .weight_column = 0}, {"weight column 0 is also the label"});
  bad("1,2\n", CsvOptions{.label_column = 0, .weight_column = 1},
      {"no column is left for the features beside the weight column"});
}

TEST(TabularCsv, GzipFilesAreInflated) {
  ScratchDir dir;
  write_bytes(dir / "d.csv.gz", gzip("1 2 3\n4 5 6\n"));
  CsvTable t = read_csv(dir / "d.csv.gz", CsvOptions{.label_column = 2, .delimiter = ' '});
  EXPECT_EQ(t.features.shape(), (Shape{2, 2}));
  EXPECT_EQ(t.labels, (std::vector<int32_t>{3, 6}));
  std::vector<std::byte> cut = gzip("1,2\n3,4\n");
  cut.erase(cut.end() - 12, cut.end());
  write_bytes(dir / "cut.csv.gz", cut);
  expect_error([&] { read_csv(dir / "cut.csv.gz"); }, ErrorKind::BadInput, {"cut.csv.gz", "cut short"});
  std::vector<std::byte> junk = gzip("1,2\n");
  junk.push_back(std::byte{'x'});
  write_bytes(dir / "junk.csv.gz", junk);
  expect_error([&] { read_csv(dir / "junk.csv.gz"); }, ErrorKind::BadInput, {"junk.csv.gz", "trailing garbage"});
  // A bomb stops at the cap.
  expect_error([&] { gunzip_text(gzip(std::string(100000, '1')), "bomb.gz", 1000); }, ErrorKind::BadInput,
               {"bomb.gz", "more than the limit of 1000 bytes"});
}

TEST(TabularDataset, SplitIsSeededDisjointAndCarriesTargets) {
  Tensor x(Shape{10, 1}), y(Shape{10, 1});
  for (int i = 0; i < 10; ++i) x[i] = static_cast<float>(i), y[i] = static_cast<float>(100 + i);
  Dataset d = make_target_dataset(x, y, "d");
  auto [train, test] = split_dataset(d, 0.3, 7, "d");
  ASSERT_EQ(train.size(), 7);
  ASSERT_EQ(test.size(), 3);
  std::vector<int> seen(10, 0);
  for (const Dataset* part : {&train, &test}) {
    for (int64_t i = 0; i < part->size(); ++i) {
      EXPECT_EQ(part->targets[i], part->features[i] + 100.0f);  // each row keeps its target
      ++seen[static_cast<size_t>(part->features[i])];
    }
  }
  EXPECT_EQ(seen, std::vector<int>(10, 1));
  auto [train2, test2] = split_dataset(d, 0.3, 7, "d");
  EXPECT_EQ(std::vector<float>(test.features.span().begin(), test.features.span().end()),
            std::vector<float>(test2.features.span().begin(), test2.features.span().end()));
  auto [train3, test3] = split_dataset(d, 0.3, 8, "d");
  EXPECT_NE(std::vector<float>(test.features.span().begin(), test.features.span().end()),
            std::vector<float>(test3.features.span().begin(), test3.features.span().end()));
  for (double f : {0.0, 1.0, -0.5, 1.5}) {
    expect_error([&] { split_dataset(d, f, 0, "d.csv"); }, ErrorKind::BadInput, {"d.csv", "is outside (0, 1)"});
  }
}

std::string model_with_data(const std::string& data) {
  return R"({"inputs": 2, "layers": [{"units": 3, "activation": "softmax"}], "data": {"format": "csv", "train": "t.csv", )" +
         data + "}}";
}

std::string error_of(const std::string& text) {
  try {
    parse_model_file(text, "dir/m.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TabularModelFile, DataKeys) {
  ModelFile m = parse_model_file(
      model_with_data(
          R"("skip_lines": 1, "delimiter": " ", "target_columns": [2, 0], "test_split": 0.25, "split_seed": 9, "class_names": ["a", "b", "c"])"),
      "dir/m.json");
  const DataSpec& d = *m.data;
  EXPECT_EQ(d.skip_lines, 1);
  EXPECT_EQ(d.delimiter, ' ');
  EXPECT_EQ(d.target_columns, (std::vector<int>{2, 0}));
  EXPECT_EQ(d.test_split, 0.25);
  EXPECT_EQ(d.split_seed, 9u);
  EXPECT_TRUE(d.has_test());
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b", "c"}));
  ModelFile t = parse_model_file(model_with_data(R"("train_targets": "y.csv.gz")"), "dir/m.json");
  EXPECT_EQ(t.data->train_targets, "dir/y.csv.gz");
}

TEST(TabularModelFile, BadDataKeysNameTheKey) {
  auto expect = [](const std::string& data, const std::string& fragment) {
    const std::string msg = error_of(model_with_data(data));
    EXPECT_NE(msg.find("dir/m.json: "), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << fragment << " not in: " << msg;
  };
  expect(R"("test_split": 0)", "data.test_split: expected a fraction greater than 0 and less than 1, got 0");
  expect(R"("test_split": 1)", "data.test_split: expected a fraction greater than 0 and less than 1, got 1");
  expect(R"("test_split": -0.2)", "data.test_split: expected a fraction");
  expect(R"("test_split": 0.2, "test": "x.csv")", "data.test_split: given with \"test\"");
  expect(R"("split_seed": 3)", "data.split_seed: given without \"test_split\"");
  expect(R"("target_columns": [])", "data.target_columns: expected an array of 1 to 100000 column indices");
  expect(R"("target_columns": [-1])", "data.target_columns[0]: expected an integer from 0 to 1000000, got -1");
  expect(R"("target_columns": [1], "label_column": 0)", "data.target_columns: given with \"label_column\"");
  expect(R"("delimiter": ";;")", "data.delimiter: expected one character");
  expect(R"("skip_lines": -1)", "data.skip_lines: expected an integer from 0");
  expect(R"("class_names": ["a", "b"])", "data.class_names: 2 names for the last layer's 3 units");
  expect(R"("test_targets": "y.csv")", "data.test_targets: given without \"test\"");
}

// scikit-learn's data sets as Debian ships them, read with a few options and no edits.
TEST(TabularCsv, ScikitLearnDataSetsLoadUnedited) {
  const std::string dir = "/usr/lib/python3/dist-packages/sklearn/datasets/data/";
  if (!std::filesystem::exists(dir + "iris.csv")) GTEST_SKIP() << "python3-sklearn is not installed";
  struct Case {
    const char* file;
    CsvOptions options;
    int64_t rows, features;
  };
  const Case cases[] = {
      {"boston_house_prices.csv",
       {.header = true, .label_column = -1, .skip_lines = 1, .target_columns = {13}},
       506,
       13},
      {"diabetes_data_raw.csv.gz", {.label_column = -1, .delimiter = ' '}, 442, 10},
      {"diabetes_target.csv.gz", {.label_column = -1}, 442, 1},
      {"breast_cancer.csv", {.label_column = 30, .skip_lines = 1, .classes = 2}, 569, 30},
      {"iris.csv", {.label_column = 4, .skip_lines = 1, .classes = 3}, 150, 4},
      {"wine_data.csv", {.label_column = 13, .skip_lines = 1, .classes = 3}, 178, 13},
      {"digits.csv.gz", {.label_column = 64, .classes = 10}, 1797, 64},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Dataset d = load_csv_dataset(dir + c.file, c.options);
    EXPECT_EQ(d.size(), c.rows);
    EXPECT_EQ(d.feature_count(), c.features);
  }
  Dataset boston = load_csv_dataset(dir + cases[0].file, cases[0].options);
  EXPECT_EQ(boston.targets[0], 24.0f);  // MEDV of the first row
  EXPECT_EQ(load_csv_dataset(dir + "iris.csv", cases[4].options).num_classes, 3);
}

}  // namespace
}  // namespace graphrun::io
