#include "io/idx.h"

#include <zlib.h>

#include <fmt/format.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/checked_math.h"

namespace graphrun::io {
namespace {

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw Error(ErrorKind::BadInput, fmt::format("{}: {}", file, what));
}

// The deflate format cannot expand more than ~1032x; with slack for headers and tiny files.
constexpr uint64_t kMaxInflateRatio = 1100;

// Reads the decompressed stream of an IDX file: raw bytes as they are, gzip inflated lazily.
class ByteSource {
 public:
  ByteSource(std::span<const std::byte> bytes, std::string name) : in_(bytes), name_(std::move(name)) {
    gzip_ = in_.size() >= 2 && in_[0] == std::byte{0x1f} && in_[1] == std::byte{0x8b};
    if (gzip_) {
      z_ = std::make_unique<z_stream>();
      std::memset(z_.get(), 0, sizeof(z_stream));
      if (inflateInit2(z_.get(), 16 + MAX_WBITS) != Z_OK) {
        z_.reset();
        throw Error(ErrorKind::Runtime, fmt::format("{}: cannot initialise zlib", name_));
      }
      z_->next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in_.data()));
      feed();
    }
  }
  ~ByteSource() {
    if (z_) inflateEnd(z_.get());
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  bool gzip() const { return gzip_; }
  // The gzip stream ended without its end marker and checksum (a cut-off file).
  bool truncated() const { return truncated_; }
  uint64_t input_size() const { return in_.size(); }
  // Bytes not yet read (raw files only).
  uint64_t raw_remaining() const { return in_.size() - pos_; }

  // Reads up to n bytes; fewer only at the end of the stream.
  size_t read(std::byte* dst, size_t n) {
    if (!gzip_) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, in_.size() - pos_));
      if (k) std::memcpy(dst, in_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    size_t done = 0;
    while (done < n && !ended_) {
      size_t want = std::min<size_t>(n - done, size_t{1} << 30);
      z_->next_out = reinterpret_cast<Bytef*>(dst + done);
      z_->avail_out = static_cast<uInt>(want);
      int rc = inflate(z_.get(), Z_NO_FLUSH);
      done += want - z_->avail_out;
      if (rc == Z_STREAM_END) {
        // Concatenated gzip members form one stream (as gunzip reads them).
        feed();
        uint64_t at = consumed();
        if (at == in_.size()) {
          ended_ = true;
        } else if (in_.size() - at >= 2 && in_[at] == std::byte{0x1f} && in_[at + 1] == std::byte{0x8b}) {
          inflateReset(z_.get());
        } else {
          bad(name_, fmt::format("{} bytes of trailing garbage after the gzip stream at byte {}", in_.size() - at, at));
        }
      } else if (rc == Z_OK) {
        feed();
      } else if (rc == Z_BUF_ERROR) {
        if (z_->avail_in == 0 && consumed() == in_.size()) {
          truncated_ = true;  // the caller reports how many bytes it expected and got
          ended_ = true;
        }
        feed();
      } else {
        bad(name_, fmt::format("corrupt gzip data near compressed byte {}: {}", consumed(),
                               z_->msg ? z_->msg : "zlib error " + std::to_string(rc)));
      }
    }
    return done;
  }

 private:
  uint64_t consumed() const { return fed_ - z_->avail_in; }
  // Tops up zlib's input window (avail_in is 32 bits: feed at most 1 GiB at a time).
  void feed() {
    if (z_->avail_in > 0) return;
    uint64_t left = in_.size() - fed_;
    uint64_t k = std::min<uint64_t>(left, uint64_t{1} << 30);
    z_->next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in_.data() + fed_));
    z_->avail_in = static_cast<uInt>(k);
    fed_ += k;
  }

  std::span<const std::byte> in_;
  std::string name_;
  bool gzip_ = false;
  bool ended_ = false;
  bool truncated_ = false;
  uint64_t pos_ = 0;  // raw
  uint64_t fed_ = 0;  // gzip: input bytes handed to zlib so far
  std::unique_ptr<z_stream> z_;
};

uint64_t type_size(uint8_t code) {
  switch (code) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

const char* type_name(IdxType t) {
  switch (t) {
    case IdxType::U8:
      return "u8";
    case IdxType::I8:
      return "i8";
    case IdxType::I16:
      return "i16";
    case IdxType::I32:
      return "i32";
    case IdxType::F32:
      return "f32";
    case IdxType::F64:
      return "f64";
  }
  return "?";
}

uint64_t be(const std::byte* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

struct RawIdx {
  IdxType type;
  std::vector<uint64_t> dims;
  std::vector<std::byte> data;  // big-endian elements
  uint64_t count = 0;
};

RawIdx decode(std::span<const std::byte> file, const std::string& name) {
  ByteSource src(file, name);
  const char* stream = src.gzip() ? " (decompressed)" : "";
  auto cut = [&] { return src.truncated() ? "; the gzip stream is cut short" : ""; };
  std::byte magic[4];
  size_t got = src.read(magic, 4);
  if (got < 4) bad(name, fmt::format("data{} is {} bytes, too short for the 4-byte IDX magic{}", stream, got, cut()));
  if (magic[0] != std::byte{0} || magic[1] != std::byte{0}) {
    bad(name, fmt::format("byte 0{}: expected IDX magic 00 00 <type> <ndim>, got {:02x} {:02x} {:02x} {:02x}", stream,
                          static_cast<int>(magic[0]), static_cast<int>(magic[1]), static_cast<int>(magic[2]),
                          static_cast<int>(magic[3])));
  }
  const uint8_t code = static_cast<uint8_t>(magic[2]);
  const uint64_t elem = type_size(code);
  if (elem == 0) {
    bad(name,
        fmt::format("byte 2{}: unknown IDX element type 0x{:02x}, expected 08, 09, 0b, 0c, 0d or 0e", stream, code));
  }
  const int ndim = static_cast<int>(magic[3]);
  if (ndim < 1 || ndim > 4) bad(name, fmt::format("byte 3{}: IDX rank {}, expected 1 to 4", stream, ndim));
  std::byte dim_bytes[16];
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  got = src.read(dim_bytes, 4 * static_cast<size_t>(ndim));
  if (got < 4 * static_cast<size_t>(ndim)) {
    bad(name, fmt::format("data{} ends at byte {}, inside the {}-byte header{}", stream, 4 + got, header, cut()));
  }
  RawIdx raw;
  raw.type = static_cast<IdxType>(code);
  for (int i = 0; i < ndim; ++i) raw.dims.push_back(be(dim_bytes + 4 * i, 4));
  std::optional<uint64_t> count = checked_product(raw.dims);
  std::optional<uint64_t> bytes = count ? checked_mul(*count, elem) : std::nullopt;
  std::string dims_text;
  for (uint64_t d : raw.dims) {
    if (!dims_text.empty()) dims_text.push_back('x');
    dims_text.append(std::to_string(d));
  }
  if (!bytes || *bytes > kIdxMaxDataBytes) {
    bad(name, fmt::format("header declares {} {} elements, more than the limit of {} bytes", dims_text,
                          type_name(raw.type), kIdxMaxDataBytes));
  }
  // A zero dimension makes the data empty, but the shape must still fit graphrun's int64 sizes.
  std::vector<uint64_t> nonzero;
  for (uint64_t d : raw.dims) {
    if (d != 0) nonzero.push_back(d);
  }
  if (!checked_product(nonzero, INT64_MAX)) {
    bad(name, fmt::format("header declares dimensions {}, too large for graphrun even with no data", dims_text));
  }
  raw.count = *count;
  if (!src.gzip() && src.raw_remaining() != *bytes) {
    bad(name,
        fmt::format("header declares {} {} elements = {} data bytes after the {}-byte header, but the file has {}{}",
                    dims_text, type_name(raw.type), *bytes, header, src.raw_remaining(),
                    src.raw_remaining() < *bytes ? " (truncated)" : " (trailing bytes)"));
  }
  if (src.gzip() && *bytes > checked_mul(src.input_size(), kMaxInflateRatio).value_or(UINT64_MAX)) {
    bad(name,
        fmt::format("header declares {} data bytes, more than a {}-byte gzip file can hold", *bytes, src.input_size()));
  }
  // Grow with the data that actually arrives, never by the declared size alone.
  constexpr uint64_t kChunk = uint64_t{16} << 20;
  while (raw.data.size() < *bytes) {
    size_t old = raw.data.size();
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, *bytes - old));
    raw.data.resize(old + want);
    size_t n = src.read(raw.data.data() + old, want);
    if (n < want) {
      bad(name, fmt::format("expected {} data bytes{} after the {}-byte header, got {} (truncated{})", *bytes, stream,
                            header, old + n, cut()));
    }
  }
  std::byte extra;
  if (src.read(&extra, 1) != 0) {
    bad(name, fmt::format("data{} continues past the {} bytes the header declares ({} {})", stream, *bytes, dims_text,
                          type_name(raw.type)));
  }
  if (src.truncated()) {
    bad(name, fmt::format("the gzip stream is cut short after all {} declared data bytes (no end marker)", *bytes));
  }
  return raw;
}

// Converts every element with one loop per type (the u8 loop of a 47 MB image file vectorizes).
template <typename Convert>
void convert_all(const RawIdx& raw, int size, float* dst, Convert convert) {
  const std::byte* p = raw.data.data();
  for (uint64_t i = 0; i < raw.count; ++i) dst[i] = convert(p + size * i);
}

// Floating-point elements must be finite as f32 (NaN, infinity and f64 values beyond the f32
// range are refused, as the CSV reader refuses them).
IdxArray to_array(const RawIdx& raw, const std::string& name) {
  Shape shape;
  for (uint64_t d : raw.dims) shape.push_back(static_cast<int64_t>(d));
  IdxArray out{raw.type, Tensor::for_overwrite(shape)};
  float* dst = out.values.data();
  switch (raw.type) {
    case IdxType::U8:
      convert_all(raw, 1, dst, [](const std::byte* e) { return static_cast<float>(static_cast<uint8_t>(*e)); });
      break;
    case IdxType::I8:
      convert_all(raw, 1, dst, [](const std::byte* e) { return static_cast<float>(static_cast<int8_t>(*e)); });
      break;
    case IdxType::I16:
      convert_all(raw, 2, dst, [](const std::byte* e) { return static_cast<float>(static_cast<int16_t>(be(e, 2))); });
      break;
    case IdxType::I32:
      convert_all(raw, 4, dst, [](const std::byte* e) { return static_cast<float>(static_cast<int32_t>(be(e, 4))); });
      break;
    case IdxType::F32:
      convert_all(raw, 4, dst,
                  [](const std::byte* e) { return std::bit_cast<float>(static_cast<uint32_t>(be(e, 4))); });
      break;
    case IdxType::F64:
      convert_all(raw, 8, dst, [](const std::byte* e) { return static_cast<float>(std::bit_cast<double>(be(e, 8))); });
      break;
  }
  if (raw.type == IdxType::F32 || raw.type == IdxType::F64) {
    for (uint64_t i = 0; i < raw.count; ++i) {
      if (!std::isfinite(dst[i])) bad(name, fmt::format("element {} is {} as f32, expected finite values", i, dst[i]));
    }
  }
  return out;
}

std::vector<std::byte> read_idx_file(const std::string& path) {
  // A raw file holds at most kIdxMaxDataBytes plus a 20-byte header; gzip is smaller.
  return read_file(path, kIdxMaxDataBytes + 64);
}

}  // namespace

IdxArray parse_idx(std::span<const std::byte> file_bytes, const std::string& name) {
  return to_array(decode(file_bytes, name), name);
}

IdxArray read_idx(const std::string& path) { return parse_idx(read_idx_file(path), path); }

Tensor read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path);
  if (a.values.shape().rank() != 3) {
    bad(path, fmt::format("IDX images have shape {}, expected rank 3 [count, rows, cols]", a.values.shape().str()));
  }
  return std::move(a.values);
}

std::vector<int32_t> parse_idx_labels(std::span<const std::byte> file_bytes, const std::string& name) {
  RawIdx raw = decode(file_bytes, name);
  if (raw.dims.size() != 1) {
    bad(name, fmt::format("IDX labels have rank {}, expected rank 1 [count]", raw.dims.size()));
  }
  if (raw.type == IdxType::F32 || raw.type == IdxType::F64) {
    bad(name, fmt::format("IDX labels have element type {}, expected an integer type", type_name(raw.type)));
  }
  std::vector<int32_t> labels(raw.count);
  const std::byte* p = raw.data.data();
  for (uint64_t i = 0; i < raw.count; ++i) {
    int64_t v = 0;
    switch (raw.type) {
      case IdxType::U8:
        v = static_cast<uint8_t>(p[i]);
        break;
      case IdxType::I8:
        v = static_cast<int8_t>(p[i]);
        break;
      case IdxType::I16:
        v = static_cast<int16_t>(be(p + 2 * i, 2));
        break;
      case IdxType::I32:
        v = static_cast<int32_t>(be(p + 4 * i, 4));
        break;
      case IdxType::F32:
      case IdxType::F64:
        break;
    }
    if (v < 0) bad(name, fmt::format("label {} is {}, expected a non-negative class index", i, v));
    labels[i] = static_cast<int32_t>(v);
  }
  return labels;
}

std::vector<int32_t> read_idx_labels(const std::string& path) { return parse_idx_labels(read_idx_file(path), path); }

}  // namespace graphrun::io
