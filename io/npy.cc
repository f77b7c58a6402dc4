#include "io/npy.h"

#include <fmt/format.h>
#include <cstring>
#include <regex>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/checked_math.h"

namespace graphrun::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr uint64_t kMaxHeader = 1 << 16;

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw Error(ErrorKind::BadInput, name + ": " + what);
}

}  // namespace

Tensor parse_npy(std::span<const std::byte> bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(p, kMagic, 6) != 0) bad(name, "not a .npy file (no \\x93NUMPY magic)");
  const int major = p[6];
  uint64_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = p[8] | (uint64_t{p[9]} << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad(name, "truncated header");
    header_len = p[8] | (uint64_t{p[9]} << 8) | (uint64_t{p[10]} << 16) | (uint64_t{p[11]} << 24);
    start = 12;
  } else {
    bad(name, fmt::format("unsupported .npy version {}", major));
  }
  if (header_len > kMaxHeader || start + header_len > bytes.size()) {
    bad(name, fmt::format("header of {} bytes does not fit in the file ({} bytes)", header_len, bytes.size()));
  }
  const std::string header(reinterpret_cast<const char*>(p + start), header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')")) || m[1] != "<f4") {
    bad(name, "expected float32 data (descr '<f4')");
  }
  if (!std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*(True|False))")) || m[1] != "False") {
    bad(name, "expected C order (fortran_order False)");
  }
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) bad(name, "the header has no shape");
  Shape shape;
  std::vector<uint64_t> dims;
  const std::string list = m[1];
  const std::regex item(R"([^,\s]+)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), item); it != std::sregex_iterator(); ++it) {
    const std::string d = it->str();
    if (d.size() > 18 || d.find_first_not_of("0123456789") != std::string::npos)
      bad(name, "shape: expected integers, got '" + d + "'");
    if (shape.rank() == Shape::kMaxRank) bad(name, fmt::format("rank above {}", Shape::kMaxRank));
    dims.push_back(std::stoull(d));
    shape.push_back(static_cast<int64_t>(dims.back()));
  }
  const std::optional<uint64_t> n = checked_product(dims, uint64_t{1} << 40);
  const uint64_t have = bytes.size() - start - header_len;
  if (!n || *n * 4 != have)
    bad(name, fmt::format("data has {} bytes, the shape {} needs {}", have, shape.str(), n ? *n * 4 : 0));
  Tensor t = Tensor::for_overwrite(shape);
  if (*n) std::memcpy(t.data(), p + start + header_len, *n * 4);
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path, uint64_t{16} << 30), path); }

std::vector<std::byte> serialize_npy(const Tensor& t) {
  std::string dims;
  for (int64_t d : t.shape()) dims += fmt::format("{}, ", d);
  if (t.shape().rank() > 1) dims.resize(dims.size() - 1);
  if (t.shape().rank() > 1) dims.pop_back();
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<std::byte> out(10 + header.size() + static_cast<size_t>(t.numel()) * 4);
  std::memcpy(out.data(), kMagic, 6);
  out[6] = std::byte{1};
  out[7] = std::byte{0};
  out[8] = static_cast<std::byte>(header.size() & 0xff);
  out[9] = static_cast<std::byte>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (t.numel()) std::memcpy(out.data() + 10 + header.size(), t.data(), static_cast<size_t>(t.numel()) * 4);
  return out;
}

void write_npy(const std::string& path, const Tensor& t) { write_file_atomically(path, serialize_npy(t)); }

}  // namespace graphrun::io
