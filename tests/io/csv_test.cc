#include "io/csv.h"

#include <gtest/gtest.h>

#include "io/dataset.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;
using testing::to_bytes;
using testing::write_bytes;

const std::string kName = "iris.csv";

void expect_bad(const std::string& text, const CsvOptions& o, const std::vector<std::string>& fragments) {
  expect_error([&] { parse_csv(text, kName, o); }, ErrorKind::BadInput, fragments);
}

TEST(Csv, FeaturesAndLabels) {
  CsvOptions o{.header = true, .label_column = 2};
  CsvTable t = parse_csv("\xEF\xBB\xBFx, y ,class\r\n1.5,-2,0\r\n\r\n 3e2 , +4 ,2.0\n5,.25,1", kName, o);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"x", "y", "class"}));
  ASSERT_EQ(t.features.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.features[0], 1.5f);
  EXPECT_EQ(t.features[1], -2.0f);
  EXPECT_EQ(t.features[2], 300.0f);
  EXPECT_EQ(t.features[3], 4.0f);
  EXPECT_EQ(t.features[5], 0.25f);
  EXPECT_EQ(t.labels, (std::vector<int32_t>{0, 2, 1}));
}

TEST(Csv, NoHeaderNoLabelsOtherDelimiter) {
  CsvTable t = parse_csv("1;2;3\n4;5;6\n", kName, CsvOptions{.delimiter = ';'});
  EXPECT_EQ(t.features.shape(), (Shape{2, 3}));
  EXPECT_TRUE(t.labels.empty());
  EXPECT_TRUE(t.columns.empty());
  CsvTable first = parse_csv("7,1,2\n", kName, CsvOptions{.label_column = 0});
  EXPECT_EQ(first.labels, (std::vector<int32_t>{7}));
  EXPECT_EQ(first.features.shape(), (Shape{1, 2}));
}

TEST(Csv, EmptyInputs) {
  expect_bad("", {}, {kName, "file is empty"});
  expect_bad("\n \n\r\n", {}, {kName, "no data rows"});
  expect_bad("a,b\n", CsvOptions{.header = true}, {kName, "no data rows after the header"});
  ScratchDir dir;
  write_bytes(dir / "empty.csv", {});
  expect_error([&] { read_csv(dir / "empty.csv"); }, ErrorKind::BadInput, {dir / "empty.csv", "file is empty"});
  expect_error([&] { read_csv(dir / "missing.csv"); }, ErrorKind::Io, {dir / "missing.csv", "No such file"});
}

TEST(Csv, RaggedRow) {
  expect_bad("1,2,3\n4,5,6\n7,8\n", {}, {"iris.csv:3:", "expected 3 columns (as on line 1), got 2"});
  expect_bad("a,b\n1,2,3\n", CsvOptions{.header = true}, {"iris.csv:2:", "expected 2 columns", "got 3"});
}

TEST(Csv, NonNumericCell) {
  expect_bad("1,2\n3,abc\n", {}, {"iris.csv:2:3:", "column 1 value \"abc\" is not a number"});
  expect_bad("1,2\n3,\n", {}, {"iris.csv:2:3:", "is empty"});
  expect_bad("1,2\n3,4x\n", {}, {"iris.csv:2:3:", "\"4x\" is not a number"});
  const std::string longcell(500, 'z');
  std::string msg = testing::expect_error([&] { parse_csv("1," + longcell + "\n", kName, {}); }, ErrorKind::BadInput,
                                          {"iris.csv:1:3:", "\"zzzz", "...", "read it as a header"});
  EXPECT_LT(msg.size(), 250u);
  expect_bad("1,\x01\"\n", {}, {"\"\\x01\\\"\""});
}

TEST(Csv, NanAndInfinityAreBadTrainingData) {
  for (const char* v : {"nan", "NaN", "inf", "-Infinity"}) {
    expect_bad(std::string("1,") + v + "\n", {}, {"iris.csv:1:3:", v, "not a finite number", "NaN and infinity"});
  }
  expect_bad("1,1e39\n", {}, {"iris.csv:1:3:", "out of range"});
}

TEST(Csv, LabelColumnRules) {
  CsvOptions o{.label_column = 1};
  expect_bad("1,-1\n", o, {"iris.csv:1:3:", "label \"-1\" is not a non-negative integer"});
  expect_bad("1,2.5\n", o, {"iris.csv:1:3:", "label \"2.5\""});
  expect_bad("1,cat\n", o, {"label \"cat\""});
  expect_bad("1,3000000000\n", o, {"label \"3000000000\""});
  expect_bad("1,2\n", CsvOptions{.label_column = 2}, {"iris.csv:1:", "label column 2 does not exist", "2 columns"});
  expect_bad("1\n", CsvOptions{.label_column = 0}, {"only column is the label column"});
  expect_bad("1\n", CsvOptions{.label_column = -2}, {kName, "label column -2"});
}

TEST(Csv, HugeLineGuard) {
  std::string line(kCsvMaxLineBytes + 1, '1');
  expect_bad("1\n" + line + "\n", {}, {"iris.csv:2:", "longer than the limit"});
}

TEST(Csv, DatasetFromFile) {
  ScratchDir dir;
  write_bytes(dir / "d.csv", to_bytes("f1,f2,label\n0,1,3\n2,3,1\n"));
  Dataset d = load_csv_dataset(dir / "d.csv", CsvOptions{.header = true, .label_column = 2});
  EXPECT_EQ(d.size(), 2);
  EXPECT_EQ(d.feature_count(), 2);
  EXPECT_EQ(d.num_classes, 4);
  EXPECT_EQ(d.labels, (std::vector<int32_t>{3, 1}));
}

}  // namespace
}  // namespace graphrun::io
