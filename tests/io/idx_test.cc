#include "io/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <numeric>

#include "io/dataset.h"
#include "io_test_util.h"

namespace graphrun::io {
namespace {

using testing::expect_error;
using testing::ScratchDir;
using testing::write_bytes;

const std::string kName = "images.idx";

std::vector<std::byte> idx_header(uint8_t type, std::vector<uint32_t> dims) {
  std::vector<std::byte> b = {std::byte{0}, std::byte{0}, std::byte{type}, static_cast<std::byte>(dims.size())};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>((d >> s) & 0xff));
  }
  return b;
}

std::vector<std::byte> idx_u8(std::vector<uint32_t> dims, size_t data_len) {
  std::vector<std::byte> b = idx_header(0x08, dims);
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<std::byte>(i * 7 % 256));
  return b;
}

std::vector<std::byte> gzip(const std::vector<std::byte>& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&z, in.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void expect_bad(const std::vector<std::byte>& file, const std::vector<std::string>& fragments) {
  std::vector<std::string> all = fragments;
  all.push_back(kName);
  expect_error([&] { parse_idx(file, kName); }, ErrorKind::BadInput, all);
}

TEST(Idx, ReadsU8RawAndGzip) {
  std::vector<std::byte> raw = idx_u8({2, 2, 3}, 12);
  for (const auto& file : {raw, gzip(raw)}) {
    IdxArray a = parse_idx(file, kName);
    EXPECT_EQ(a.type, IdxType::U8);
    ASSERT_EQ(a.values.shape(), (Shape{2, 2, 3}));
    for (int i = 0; i < 12; ++i) EXPECT_EQ(a.values[i], static_cast<float>(i * 7 % 256));
  }
}

TEST(Idx, ReadsBigEndianTypes) {
  std::vector<std::byte> f32 = idx_header(0x0D, {2});
  for (uint32_t bits : {0x3FC00000u, 0xC0200000u}) {  // 1.5, -2.5
    for (int s = 24; s >= 0; s -= 8) f32.push_back(static_cast<std::byte>((bits >> s) & 0xff));
  }
  IdxArray a = parse_idx(f32, kName);
  EXPECT_EQ(a.type, IdxType::F32);
  EXPECT_EQ(a.values[0], 1.5f);
  EXPECT_EQ(a.values[1], -2.5f);

  std::vector<std::byte> i16 = idx_header(0x0B, {1, 2});
  for (int v : {0xFF, 0xFE, 0x01, 0x00}) i16.push_back(static_cast<std::byte>(v));  // -2, 256
  a = parse_idx(i16, kName);
  EXPECT_EQ(a.values.shape(), (Shape{1, 2}));
  EXPECT_EQ(a.values[0], -2.0f);
  EXPECT_EQ(a.values[1], 256.0f);

  std::vector<std::byte> f64 = idx_header(0x0E, {1});
  for (int v : {0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18}) f64.push_back(static_cast<std::byte>(v));  // pi
  EXPECT_FLOAT_EQ(parse_idx(f64, kName).values[0], 3.14159265f);
}

TEST(Idx, HeaderChecks) {
  std::vector<std::byte> b = idx_u8({1}, 1);
  b[0] = std::byte{1};
  expect_bad(b, {"byte 0", "expected IDX magic 00 00 <type> <ndim>", "got 01 00 08 01"});
  b = idx_u8({1}, 1);
  b[2] = std::byte{0x07};
  expect_bad(b, {"byte 2", "unknown IDX element type 0x07"});
  expect_bad(idx_header(0x08, {}), {"byte 3", "IDX rank 0, expected 1 to 4"});
  expect_bad(idx_u8({1, 1, 1, 1, 1}, 1), {"byte 3", "IDX rank 5"});
  expect_bad(std::vector<std::byte>(3), {"3 bytes, too short for the 4-byte IDX magic"});
  std::vector<std::byte> cut = idx_u8({2, 2, 3}, 0);
  cut.resize(10);
  expect_bad(cut, {"ends at byte 10, inside the 16-byte header"});
  expect_bad(gzip(cut), {"(decompressed) ends at byte 10"});
}

TEST(Idx, SizeOverflowAndCap) {
  expect_bad(idx_header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}), {"4294967295x4294967295x4294967295", "limit"});
  expect_bad(idx_header(0x0E, {0x10000u, 0x10000u}), {"65536x65536 f64", "more than the limit of 4294967296 bytes"});
}

TEST(Idx, RawSizeMustMatchHeaderExactly) {
  expect_bad(idx_u8({2, 3}, 4), {"6 data bytes after the 12-byte header", "the file has 4", "truncated"});
  expect_bad(idx_u8({2, 3}, 8), {"6 data bytes", "the file has 8", "trailing bytes"});
}

TEST(Idx, TruncatedGzipNamesExpectedAndActualBytes) {
  std::vector<std::byte> raw = idx_header(0x08, {4000});
  for (int i = 0; i < 4000; ++i) raw.push_back(static_cast<std::byte>((i * 2654435761u) >> 24));  // incompressible
  std::vector<std::byte> gz = gzip(raw);
  gz.resize(gz.size() / 2);
  expect_bad(gz, {"expected 4000 data bytes (decompressed) after the 8-byte header, got", "truncated",
                  "gzip stream is cut short"});
  gz = gzip(raw);
  gz.resize(gz.size() - 4);  // only the length trailer missing: all data there
  expect_bad(gz, {"gzip stream is cut short"});
}

TEST(Idx, GzipBombIsStoppedAtTheDeclaredSize) {
  std::vector<std::byte> raw = idx_u8({10}, 10);
  raw.resize(raw.size() + (size_t{16} << 20));  // 16 MiB of zeros beyond the 10 declared bytes
  std::vector<std::byte> gz = gzip(raw);
  ASSERT_LT(gz.size(), 100000u);
  expect_bad(gz, {"continues past the 10 bytes the header declares"});
  // A header declaring far more than the compressed file could inflate to is refused up front.
  expect_bad(gzip(idx_header(0x08, {60000, 28, 28})), {"header declares 47040000 data bytes", "gzip file can hold"});
}

TEST(Idx, CorruptAndConcatenatedGzip) {
  std::vector<std::byte> raw = idx_u8({3, 5}, 15);
  std::vector<std::byte> gz = gzip(raw);
  gz[gz.size() - 8] ^= std::byte{0xff};  // CRC
  expect_bad(gz, {"corrupt gzip data", "incorrect data check"});

  std::vector<std::byte> first(raw.begin(), raw.begin() + 9), second(raw.begin() + 9, raw.end());
  std::vector<std::byte> cat = gzip(first), g2 = gzip(second);
  cat.insert(cat.end(), g2.begin(), g2.end());
  EXPECT_EQ(parse_idx(cat, kName).values[14], static_cast<float>(14 * 7 % 256));
  cat.push_back(std::byte{'x'});
  expect_bad(cat, {"1 bytes of trailing garbage after the gzip stream"});
}

TEST(Idx, LabelsAndImagesFiles) {
  ScratchDir dir;
  std::vector<std::byte> labels = idx_u8({3}, 0);
  for (int v : {9, 0, 3}) labels.push_back(static_cast<std::byte>(v));
  write_bytes(dir / "labels", gzip(labels));
  EXPECT_EQ(read_idx_labels(dir / "labels"), (std::vector<int32_t>{9, 0, 3}));
  std::vector<std::byte> neg = idx_header(0x09, {2});
  for (int v : {1, 0xFF}) neg.push_back(static_cast<std::byte>(v));
  expect_error([&] { parse_idx_labels(neg, "l.idx"); }, ErrorKind::BadInput, {"l.idx", "label 1 is -1"});
  expect_error([&] { parse_idx_labels(idx_u8({1, 1}, 1), "l.idx"); }, ErrorKind::BadInput, {"l.idx", "rank 2"});
  expect_error([&] { parse_idx_labels(idx_header(0x0D, {0}), "l.idx"); }, ErrorKind::BadInput, {"l.idx", "f32"});

  write_bytes(dir / "flat", idx_u8({4, 4}, 16));
  expect_error([&] { read_idx_images(dir / "flat"); }, ErrorKind::BadInput, {dir / "flat", "[4,4]", "rank 3"});
  write_bytes(dir / "images", idx_u8({3, 2, 2}, 12));
  Dataset d = load_idx_dataset(dir / "images", dir / "labels");
  EXPECT_EQ(d.features.shape(), (Shape{3, 4}));
  EXPECT_EQ(d.features[5], 35.0f);
  EXPECT_EQ(d.num_classes, 10);
  write_bytes(dir / "images4", idx_u8({4, 2, 2}, 16));
  expect_error([&] { load_idx_dataset(dir / "images4", dir / "labels"); }, ErrorKind::BadInput,
               {"images4 holds 4 images", "holds 3 labels"});
}

TEST(Idx, FashionMnistTestSet) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  const std::string images = dir + "t10k-images-idx3-ubyte.gz", labels = dir + "t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels)) {
    GTEST_SKIP() << "Fashion-MNIST not installed (Debian package dataset-fashion-mnist)";
  }
  Dataset d = load_idx_dataset(images, labels);
  ASSERT_EQ(d.features.shape(), (Shape{10000, 784}));
  ASSERT_EQ(d.labels.size(), 10000u);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.labels[0], 9);  // Ankle boot
  EXPECT_EQ(d.labels[1], 2);  // Pullover
  EXPECT_EQ(d.labels[4], 6);  // Shirt
  std::vector<int> per_class(10, 0);
  for (int32_t l : d.labels) {
    ASSERT_GE(l, 0);
    ASSERT_LE(l, 9);
    ++per_class[static_cast<size_t>(l)];
  }
  EXPECT_EQ(per_class, std::vector<int>(10, 1000));
  // Values checked against numpy: image 0 pixel (13,13) = 89, (7,19) = 3, its sum 33456.
  EXPECT_EQ(d.features[13 * 28 + 13], 89.0f);
  EXPECT_EQ(d.features[7 * 28 + 19], 3.0f);
  EXPECT_EQ(std::accumulate(d.features.data(), d.features.data() + 784, 0.0), 33456.0);
  EXPECT_EQ(std::accumulate(d.features.data(), d.features.data() + d.features.numel(), 0.0), 573469082.0);
}

}  // namespace
}  // namespace graphrun::io
