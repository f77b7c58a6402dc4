#include "io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;

const std::string kName = "weights.safetensors";

// 8-byte little-endian length + header + `data_len` data bytes.
std::vector<std::byte> file_with(const std::string& header, size_t data_len, uint64_t declared_len = UINT64_MAX) {
  uint64_t n = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<std::byte> b(8 + header.size() + data_len);
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_len; ++i) b[8 + header.size() + i] = static_cast<std::byte>(i);
  return b;
}

void expect_bad(const std::string& header, size_t data_len, const std::vector<std::string>& fragments) {
  std::vector<std::string> all = fragments;
  all.push_back(kName);
  expect_error([&] { parse_safetensors(file_with(header, data_len), kName); }, ErrorKind::BadInput, all);
}

Tensor iota(const Shape& s, float start = 0) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + static_cast<float>(i);
  return t;
}

TEST(Safetensors, RoundTripKeepsOrderShapesValuesAndMetadata) {
  Tensor a = iota(Shape{2, 3}, 0.5f), scalar = iota(Shape{}, 7), empty(Shape{0, 5}),
         deep = iota(Shape{1, 2, 1, 2, 1, 2});
  std::vector<std::pair<std::string, const Tensor*>> in = {
      {"z.last_name_first", &a}, {"scalar", &scalar}, {"empty", &empty}, {"a.deep", &deep}};
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"step", "12"}};
  std::vector<std::byte> bytes = serialize_safetensors(in, meta);

  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  std::string header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  EXPECT_EQ(header.find("{\"__metadata__\":{\"format\":\"pt\",\"step\":\"12\"},\"z.last_name_first\":"), 0u) << header;
  EXPECT_EQ(bytes.size(), 8 + n + 4 * (6 + 1 + 0 + 8));

  SafetensorsFile f = parse_safetensors(bytes, kName);
  EXPECT_EQ(f.metadata, meta);
  ASSERT_EQ(f.tensors.size(), 4u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(f.tensors[i].first, in[i].first);
    const Tensor& t = f.tensors[i].second;
    ASSERT_EQ(t.shape(), in[i].second->shape()) << in[i].first;
    for (int64_t k = 0; k < t.numel(); ++k) EXPECT_EQ(t[k], (*in[i].second)[k]);
  }
}

TEST(Safetensors, ExactBytesOfASmallFile) {
  Tensor w(Shape{2}, std::vector<float>{1.0f, -2.0f});
  std::vector<std::byte> bytes = serialize_safetensors({{"w", &w}}, {});
  const std::string expected = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string padded = expected + std::string((8 - expected.size() % 8) % 8, ' ');
  ASSERT_EQ(bytes.size(), 8 + padded.size() + 8);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data() + 8), padded.size()), padded);
  float v[2];
  std::memcpy(v, bytes.data() + 8 + padded.size(), 8);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
}

TEST(Safetensors, FileRoundTripIsAtomicWrite) {
  ScratchDir dir;
  std::string path = dir / "m.safetensors";
  Tensor t = iota(Shape{3, 4});
  write_safetensors(path, {{"t", &t}}, {{"k", "v"}});
  SafetensorsFile f = read_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].second.shape(), (Shape{3, 4}));
  EXPECT_EQ(f.tensors[0].second[11], 11.0f);
  expect_error([&] { read_safetensors(dir / "nope.safetensors"); }, ErrorKind::Io, {"nope.safetensors"});
}

TEST(Safetensors, EmptyHeaderObjectIsAnEmptyFile) {
  SafetensorsFile f = parse_safetensors(file_with("{}      ", 0), kName);
  EXPECT_TRUE(f.tensors.empty());
}

TEST(Safetensors, HeaderLengthChecks) {
  expect_error([&] { parse_safetensors(std::vector<std::byte>(5), kName); }, ErrorKind::BadInput,
               {kName, "5 bytes", "too short"});
  expect_error([&] { parse_safetensors(file_with("{}", 0, 100'000'001), kName); }, ErrorKind::BadInput,
               {kName, "header length 100000001", "limit of 100000000"});
  expect_error([&] { parse_safetensors(file_with("{}", 0, 3), kName); }, ErrorKind::BadInput,
               {kName, "header length 3", "past the end", "2 bytes"});
}

TEST(Safetensors, HeaderMustBeAJsonObject) {
  expect_bad("{\"a\":", 0, {"not valid JSON", "header byte"});
  expect_bad("[1,2]   ", 0, {"not a JSON object"});
  expect_bad("{} x", 0, {"not valid JSON"});
  expect_bad("{\"bad\xff\":1}", 0, {"not valid JSON"});  // invalid UTF-8
}

TEST(Safetensors, DeepNestingIsRejectedWithoutCrashing) {
  std::string deep_objects, deep_arrays;
  for (int i = 0; i < 200000; ++i) deep_objects += "{\"a\":";
  for (int i = 0; i < 200000; ++i) deep_arrays += "[";
  expect_bad(deep_objects, 0, {"nests deeper than 8 levels"});
  expect_bad("{\"t\":" + deep_arrays, 0, {"nests deeper than 8 levels", "\"t\""});
}

TEST(Safetensors, DuplicateKeysAreRejected) {
  expect_bad(
      R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[],"data_offsets":[4,8]}})", 8,
      {"duplicate key \"w\""});
  expect_bad(R"({"w":{"dtype":"F32","dtype":"F16","shape":[],"data_offsets":[0,4]}})", 4,
             {"duplicate field \"dtype\"", "\"w\""});
}

TEST(Safetensors, EntryFieldsAreExactlyDtypeShapeOffsets) {
  expect_bad(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4, {"tensor \"w\"", "missing field \"shape\""});
  expect_bad(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1}})", 4,
             {"tensor \"w\"", "unexpected field \"extra\""});
  expect_bad(R"({"w":[1]})", 0, {"tensor \"w\"", "expected an object"});
  expect_bad(R"({"w":{"dtype":32,"shape":[],"data_offsets":[0,4]}})", 4, {"tensor \"w\"", "dtype is 32"});
  expect_bad(R"({"w":{"dtype":"F31","shape":[],"data_offsets":[0,4]}})", 4,
             {"tensor \"w\"", "unknown dtype \"F31\"", "F32"});
}

TEST(Safetensors, ShapeDimsAreNonNegativeIntegers) {
  expect_bad(R"({"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,4]}})", 4,
             {"tensor \"w\"", "shape[1] is -1", "non-negative integer"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}})", 4, {"shape[0] is 2.5"});
  expect_bad(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,4]}})", 4, {"shape[0] is \"2\""});
  expect_bad(R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,4]}})", 4, {"shape is 4", "expected an array"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,4]}})", 4, {"shape[0]"});
}

TEST(Safetensors, ByteSizeMustMatchShapeTimesDtype) {
  expect_bad(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8,
             {"tensor \"w\"", "needs 12 bytes", "[0, 8] span 8"});
  expect_bad(R"({"w":{"dtype":"F16","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8,
             {"tensor \"w\"", "more elements than fit in 64 bits"});
  expect_bad(R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}})", 8,
             {"tensor \"w\"", "more elements than fit in 64 bits"});  // 2^61 * 8 = 2^64
}

TEST(Safetensors, OffsetsAreWellFormed) {
  expect_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, {"tensor \"w\"", "data_offsets is [0]"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4, {"data_offsets[1] is -4"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8, {"[8, 4] end before begin"});
}

TEST(Safetensors, DataIsContiguousFromZeroAndCoversTheFile) {
  expect_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8,
             {"tensor \"w\"", "leave a gap", "expected begin 0"});
  expect_bad(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      12, {"tensor \"b\"", "[8, 12] leave a gap", "expected begin 4"});
  expect_bad(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      12, {"tensor \"b\"", "overlap", "expected begin 8"});
  expect_bad(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
      8, {"tensor \"z\"", "overlap"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 12,
             {"tensors cover 8 data bytes", "file has 12 bytes after the header"});
  expect_bad(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 12,
             {"tensors cover 16 data bytes", "file has 12 bytes after the header"});
}

TEST(Safetensors, FileOrderFollowsDataOffsetsNotHeaderOrder) {
  SafetensorsFile f = parse_safetensors(
      file_with(
          R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
          8),
      kName);
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].first, "a");
  EXPECT_EQ(f.tensors[1].first, "b");
}

TEST(Safetensors, MetadataIsStringToString) {
  expect_bad(R"({"__metadata__":{"epoch":3}})", 0, {"__metadata__ field \"epoch\" is 3", "expected a string"});
  expect_bad(R"({"__metadata__":"x"})", 0, {"__metadata__ is not an object"});
  SafetensorsFile f = parse_safetensors(file_with(R"({"__metadata__":{"k":"v"}})", 0), kName);
  EXPECT_EQ(f.metadata.at("k"), "v");
}

TEST(Safetensors, OtherDtypesValidateButOnlyF32Loads) {
  const std::string h =
      R"({"e":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"f":{"dtype":"F32","shape":[1],"data_offsets":[6,10]},)"
      R"("g":{"dtype":"BOOL","shape":[2],"data_offsets":[10,12]},"h":{"dtype":"I64","shape":[1],"data_offsets":[12,20]}})";
  SafetensorsHeader header = parse_safetensors_header(file_with(h, 20), kName);
  ASSERT_EQ(header.entries.size(), 4u);
  EXPECT_EQ(header.entries[0].dtype, "BF16");
  EXPECT_EQ(header.entries[3].end, 20u);
  expect_bad(h, 20, {"tensor \"e\" has dtype BF16", "only F32"});
  EXPECT_EQ(safetensors_dtype_size("F64"), 8u);
  EXPECT_EQ(safetensors_dtype_size("U8"), 1u);
  EXPECT_EQ(safetensors_dtype_size("f32"), 0u);
}

TEST(Safetensors, RankAndDimLimitsForGraphrunTensors) {
  const std::string rank7 = R"({"r":{"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]}})";
  EXPECT_EQ(parse_safetensors_header(file_with(rank7, 4), kName).entries[0].shape.size(), 7u);
  expect_bad(rank7, 4, {"tensor \"r\" has rank 7", "at most 6"});
  const std::string huge = R"({"z":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}})";
  EXPECT_EQ(parse_safetensors_header(file_with(huge, 0), kName).entries.size(), 1u);
  expect_bad(huge, 0, {"tensor \"z\"", "too large"});
  SafetensorsFile f = parse_safetensors(
      file_with(
          R"({"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})",
          4),
      kName);
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].second.numel(), 0);
  EXPECT_EQ(f.tensors[1].second.shape().rank(), 0);
}

TEST(Safetensors, WriterRejectsBadNames) {
  Tensor t(Shape{1});
  expect_error(
      [&] {
        serialize_safetensors({{"w", &t}, {"w", &t}}, {});
      },
      ErrorKind::BadInput, {"duplicate tensor name \"w\""});
  expect_error([&] { serialize_safetensors({{"__metadata__", &t}}, {}); }, ErrorKind::BadInput, {"__metadata__"});
  expect_error([&] { serialize_safetensors({{"w", nullptr}}, {}); }, ErrorKind::BadInput, {"\"w\" has no data"});
  Tensor moved_from;
  expect_error([&] { serialize_safetensors({{"m", &moved_from}}, {}); }, ErrorKind::BadInput, {"\"m\" has no data"});
  expect_error([&] { serialize_safetensors({{"bad\xff", &t}}, {}); }, ErrorKind::BadInput, {"not valid UTF-8"});
}

}  // namespace
}  // namespace graphrun::io
