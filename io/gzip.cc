#include "io/gzip.h"

#include <zlib.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace graphrun::io {

bool is_gzip(std::span<const std::byte> b) {
  return b.size() >= 2 && b[0] == std::byte{0x1f} && b[1] == std::byte{0x8b};
}

std::string gunzip_text(std::span<const std::byte> in, const std::string& name, uint64_t max_bytes) {
  if (!is_gzip(in)) return std::string(reinterpret_cast<const char*>(in.data()), in.size());
  auto bad = [&](const std::string& what) { throw Error(ErrorKind::BadInput, fmt::format("{}: {}", name, what)); };
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw Error(ErrorKind::Runtime, name + ": cannot initialise zlib");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  std::string out;
  size_t at = 0;  // input bytes consumed by finished members
  constexpr size_t kChunk = size_t{1} << 20;
  while (at < in.size()) {
    if (!is_gzip(in.subspan(at)))
      bad(fmt::format("{} bytes of trailing garbage after the gzip stream at byte {}", in.size() - at, at));
    inflateReset(&z);
    // avail_in is 32 bits; a CSV is capped far below 4 GiB of compressed input.
    const size_t fed = std::min<size_t>(in.size() - at, UINT32_MAX);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data() + at));
    z.avail_in = static_cast<uInt>(fed);
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      const size_t old = out.size();
      if (old >= max_bytes) bad(fmt::format("inflates to more than the limit of {} bytes", max_bytes));
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, max_bytes + 1 - old));
      out.resize(old + want);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z.avail_out = static_cast<uInt>(want);
      rc = inflate(&z, Z_NO_FLUSH);
      out.resize(old + want - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0) bad("the gzip stream is cut short (truncated file)");
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        bad(fmt::format("corrupt gzip data near compressed byte {}: {}", at + (fed - z.avail_in),
                        z.msg ? z.msg : "zlib error " + std::to_string(rc)));
      }
    }
    if (out.size() > max_bytes) bad(fmt::format("inflates to more than the limit of {} bytes", max_bytes));
    at += fed - z.avail_in;
  }
  return out;
}

}  // namespace graphrun::io
