#include "io/safetensors.h"

#include <fmt/format.h>
#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/checked_math.h"
#include "io/quote.h"

namespace graphrun::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; graphrun reads it by memcpy");

namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw Error(ErrorKind::BadInput, fmt::format("{}: {}", file, what));
}

// First pass over the header: bounds the nesting depth and rejects duplicate keys before any
// DOM is built (nlohmann's DOM would keep the last duplicate silently).
class HeaderChecker : public nlohmann::json_sax<Json> {
 public:
  explicit HeaderChecker(int max_depth) : max_depth_(max_depth) {}
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    if (!push()) return false;
    keys_.emplace_back(std::set<std::string>{});
    return true;
  }
  bool key(string_t& k) override {
    if (keys_.size() == 1) top_key_ = k;
    std::optional<std::set<std::string>>& current = keys_.back();
    if (current && !current->insert(k).second) {
      error = keys_.size() == 1 ? fmt::format("duplicate key {} in the header", quote_text(k))
                                : fmt::format("duplicate field {} in entry {}", quote_text(k), quote_text(top_key_));
      return false;
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (!push()) return false;
    keys_.emplace_back(std::nullopt);
    return true;
  }
  bool end_array() override {
    keys_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> "...".
    if (size_t colon = what.find(": "); what.starts_with("[json.exception") && colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    error = fmt::format("header is not valid JSON at header byte {}: {}", position, what);
    return false;
  }

 private:
  bool push() {
    if (static_cast<int>(keys_.size()) >= max_depth_) {
      error = fmt::format("header JSON nests deeper than {} levels{}", max_depth_,
                          keys_.size() > 1 ? " (in entry " + quote_text(top_key_) + ")" : std::string());
      return false;
    }
    return true;
  }

  int max_depth_;
  std::vector<std::optional<std::set<std::string>>> keys_;  // nullopt for arrays
  std::string top_key_;
};

struct DtypeInfo {
  const char* name;
  uint64_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"I64", 8},     {"U64", 8}, {"F64", 8},
};

std::string known_dtypes() {
  std::string s;
  for (const DtypeInfo& d : kDtypes) {
    if (!s.empty()) s.push_back(',');
    s.append(d.name);
  }
  return s;
}

uint64_t read_u64_le(const std::byte* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, 8);
  return v;
}

// A non-negative JSON integer, or nullopt (negative, fractional, too large, not a number).
std::optional<uint64_t> as_unsigned(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

std::string json_text(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

SafetensorsEntry parse_entry(const std::string& file, const std::string& name, const Json& v) {
  const std::string where = "tensor " + quote_text(name);
  if (!v.is_object()) bad(file, fmt::format("{}: expected an object with dtype, shape and data_offsets", where));
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets") {
      bad(file, fmt::format("{}: unexpected field {}, expected only dtype, shape and data_offsets", where,
                            quote_text(it.key())));
    }
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(field)) bad(file, fmt::format("{}: missing field \"{}\"", where, field));
  }
  SafetensorsEntry e;
  e.name = name;
  const Json& dtype = v["dtype"];
  if (!dtype.is_string()) bad(file, fmt::format("{}: dtype is {}, expected a string", where, json_text(dtype)));
  e.dtype = dtype.get<std::string>();
  uint64_t elem_size = safetensors_dtype_size(e.dtype);
  if (elem_size == 0) {
    bad(file, fmt::format("{}: unknown dtype {}, expected one of {}", where, quote_text(e.dtype), known_dtypes()));
  }
  const Json& shape = v["shape"];
  if (!shape.is_array()) bad(file, fmt::format("{}: shape is {}, expected an array", where, json_text(shape)));
  for (size_t i = 0; i < shape.size(); ++i) {
    std::optional<uint64_t> d = as_unsigned(shape[i]);
    if (!d) {
      bad(file, fmt::format("{}: shape[{}] is {}, expected a non-negative integer", where, i, json_text(shape[i])));
    }
    e.shape.push_back(*d);
  }
  const Json& offsets = v["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    bad(file, fmt::format("{}: data_offsets is {}, expected [begin, end]", where, json_text(offsets)));
  }
  for (size_t i = 0; i < 2; ++i) {
    std::optional<uint64_t> o = as_unsigned(offsets[i]);
    if (!o) {
      bad(file,
          fmt::format("{}: data_offsets[{}] is {}, expected a non-negative integer", where, i, json_text(offsets[i])));
    }
    (i == 0 ? e.begin : e.end) = *o;
  }
  if (e.end < e.begin) {
    bad(file, fmt::format("{}: data_offsets [{}, {}] end before begin", where, e.begin, e.end));
  }
  std::optional<uint64_t> numel = checked_product(e.shape);
  std::optional<uint64_t> bytes = numel ? checked_mul(*numel, elem_size) : std::nullopt;
  if (!bytes) bad(file, fmt::format("{}: shape {} has more elements than fit in 64 bits", where, json_text(shape)));
  if (*bytes != e.end - e.begin) {
    bad(file, fmt::format("{}: shape {} of {} needs {} bytes, but data_offsets [{}, {}] span {}", where,
                          json_text(shape), e.dtype, *bytes, e.begin, e.end, e.end - e.begin));
  }
  return e;
}

}  // namespace

uint64_t safetensors_dtype_size(const std::string& dtype) {
  for (const DtypeInfo& d : kDtypes) {
    if (dtype == d.name) return d.size;
  }
  return 0;
}

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> bytes, const std::string& file) {
  if (bytes.size() < 8) {
    bad(file, fmt::format("file is {} bytes, too short for the 8-byte header length", bytes.size()));
  }
  const uint64_t n = read_u64_le(bytes.data());
  if (n > kSafetensorsMaxHeaderBytes) {
    bad(file,
        fmt::format("header length {} (byte 0) is more than the limit of {} bytes", n, kSafetensorsMaxHeaderBytes));
  }
  if (n > bytes.size() - 8) {
    bad(file, fmt::format("header length {} (byte 0) runs past the end of the file ({} bytes after byte 8)", n,
                          bytes.size() - 8));
  }
  const char* text = reinterpret_cast<const char*>(bytes.data() + 8);
  HeaderChecker checker(kSafetensorsMaxJsonDepth);
  if (!Json::sax_parse(text, text + n, &checker)) bad(file, checker.error);
  Json root;
  try {
    root = Json::parse(text, text + n);
  } catch (const nlohmann::json::exception& ex) {  // the checker already accepted it: unexpected
    bad(file, fmt::format("header is not valid JSON: {}", ex.what()));
  }
  if (!root.is_object()) bad(file, "header is not a JSON object");

  SafetensorsHeader header;
  header.data_start = 8 + n;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) bad(file, "__metadata__ is not an object of strings");
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        if (!m.value().is_string()) {
          bad(file,
              fmt::format("__metadata__ field {} is {}, expected a string", quote_text(m.key()), json_text(m.value())));
        }
        header.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    header.entries.push_back(parse_entry(file, it.key(), it.value()));
  }

  // Data order; a stable sort keeps header order between zero-sized tensors at one offset.
  std::stable_sort(header.entries.begin(), header.entries.end(),
                   [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.begin < b.begin; });
  const uint64_t data_size = bytes.size() - header.data_start;
  uint64_t expected = 0;
  for (const SafetensorsEntry& e : header.entries) {
    if (e.begin != expected) {
      bad(file, fmt::format("tensor {}: data_offsets [{}, {}] {} (expected begin {})", quote_text(e.name), e.begin,
                            e.end, e.begin < expected ? "overlap the previous tensor" : "leave a gap", expected));
    }
    expected = e.end;
  }
  if (expected != data_size) {
    bad(file, fmt::format("tensors cover {} data bytes, but the file has {} bytes after the header (byte {})", expected,
                          data_size, header.data_start));
  }
  return header;
}

SafetensorsFile parse_safetensors(std::span<const std::byte> bytes, const std::string& file) {
  SafetensorsHeader header = parse_safetensors_header(bytes, file);
  SafetensorsFile out;
  out.metadata = std::move(header.metadata);
  for (const SafetensorsEntry& e : header.entries) {
    if (e.dtype != "F32") {
      bad(file, fmt::format("tensor {} has dtype {}; graphrun loads only F32 tensors", quote_text(e.name), e.dtype));
    }
    if (e.shape.size() > static_cast<size_t>(Shape::kMaxRank)) {
      bad(file, fmt::format("tensor {} has rank {}; graphrun tensors have at most {} dimensions", quote_text(e.name),
                            e.shape.size(), Shape::kMaxRank));
    }
    // Zero-sized tensors may have huge other dims: keep every partial product within int64.
    std::vector<uint64_t> nonzero;
    for (uint64_t d : e.shape) {
      if (d != 0) nonzero.push_back(d);
    }
    if (!checked_product(nonzero, INT64_MAX)) {
      bad(file, fmt::format("tensor {}: dimensions too large for graphrun", quote_text(e.name)));
    }
    Shape shape;
    for (uint64_t d : e.shape) shape.push_back(static_cast<int64_t>(d));
    Tensor t(shape);
    if (e.end > e.begin) std::memcpy(t.data(), bytes.data() + header.data_start + e.begin, e.end - e.begin);
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::vector<std::byte> bytes = read_file(path, kSafetensorsMaxFileBytes);
  return parse_safetensors(bytes, path);
}

std::vector<std::byte> serialize_safetensors(const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                                             const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") {
      throw Error(ErrorKind::BadInput, "safetensors: a tensor cannot be named \"__metadata__\"");
    }
    if (t == nullptr || (t->data() == nullptr && t->numel() > 0)) {
      throw Error(ErrorKind::BadInput, fmt::format("safetensors: tensor {} has no data", quote_text(name)));
    }
    if (header.contains(name)) {
      throw Error(ErrorKind::BadInput, fmt::format("safetensors: duplicate tensor name {}", quote_text(name)));
    }
    uint64_t size = static_cast<uint64_t>(t->numel()) * sizeof(float);
    Json shape = Json::array();
    for (int64_t d : t->shape()) shape.push_back(d);
    header[name] = Json{{"dtype", "F32"}, {"shape", std::move(shape)}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text;
  try {
    text = header.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorKind::BadInput, "safetensors: a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + text.size() + offset);
  uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte* data = out.data() + 8 + text.size();
  for (const auto& [name, t] : tensors) {
    size_t size = static_cast<size_t>(t->numel()) * sizeof(float);
    if (size > 0) std::memcpy(data, t->data(), size);
    data += size;
  }
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, serialize_safetensors(tensors, metadata));
}

}  // namespace graphrun::io
