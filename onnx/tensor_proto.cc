#include "onnx/tensor_proto.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "io/checked_math.h"

namespace graphrun::onnx_io {
namespace {

namespace fs = std::filesystem;
using ::onnx::TensorProto;

static_assert(std::endian::native == std::endian::little, "ONNX raw_data is little-endian");

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::BadInput, where + ": " + what);
}

uint64_t elem_size(int32_t type) {
  switch (type) {
    case TensorProto::FLOAT:
    case TensorProto::INT32:
      return 4;
    case TensorProto::DOUBLE:
    case TensorProto::INT64:
      return 8;
    default:
      return 0;
  }
}

// The bytes of an external-data tensor: "location" relative to model_dir and inside it,
// "offset" and "length" within the file.
std::string read_external(const TensorProto& t, const std::string& model_dir, uint64_t want, const std::string& where) {
  if (model_dir.empty()) bad(where, "external data is not allowed here (no model folder)");
  std::string location;
  uint64_t offset = 0, length = want;
  bool has_length = false;
  for (const auto& kv : t.external_data()) {
    const auto number = [&](const std::string& s) {
      uint64_t v = 0;
      if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
        bad(where,
            fmt::format("external data {}: expected a non-negative integer, got '{}'", kv.key(), s.substr(0, 40)));
      }
      for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
      return v;
    };
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = number(kv.value());
    else if (kv.key() == "length") {
      length = number(kv.value());
      has_length = true;
    }
  }
  if (location.empty()) bad(where, "external data without a location");
  const fs::path rel(location);
  if (rel.is_absolute() || location.find('\0') != std::string::npos) {
    bad(where, "external data location must be relative to the model's folder, got '" + location.substr(0, 200) + "'");
  }
  for (const fs::path& part : rel) {
    if (part == "..")
      bad(where, "external data location must stay inside the model's folder (no '..'), got '" +
                     location.substr(0, 200) + "'");
  }
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(fs::path(model_dir), ec);
  const fs::path file = fs::weakly_canonical(fs::path(model_dir) / rel, ec);
  const std::string d = dir.string(), f = file.string();
  if (ec || f.size() <= d.size() || f.compare(0, d.size(), d) != 0 || f[d.size()] != '/') {
    bad(where, "external data '" + location.substr(0, 200) + "' leads outside the model's folder");
  }
  if (has_length && length != want) {
    bad(where, fmt::format("external data length {} does not match the shape and type ({} bytes)", length, want));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) bad(where, "cannot open external data '" + location.substr(0, 200) + "'");
  in.seekg(0, std::ios::end);
  const uint64_t size = static_cast<uint64_t>(in.tellg());
  const std::optional<uint64_t> end = io::checked_add(offset, want);
  if (!end || *end > size) {
    bad(where, fmt::format("external data '{}': bytes {}..{} are past its end ({} bytes)", location.substr(0, 200),
                           offset, offset + want, size));
  }
  std::string bytes(want, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(want));
  if (!in) bad(where, "cannot read external data '" + location.substr(0, 200) + "'");
  return bytes;
}

template <class T>
void convert_raw(const std::string& raw, uint64_t n, std::vector<float>* f, std::vector<int64_t>* i) {
  for (uint64_t k = 0; k < n; ++k) {
    T v;
    std::memcpy(&v, raw.data() + k * sizeof(T), sizeof(T));
    if (f)
      (*f)[k] = static_cast<float>(v);
    else
      (*i)[k] = static_cast<int64_t>(v);
  }
}

}  // namespace

uint64_t OnnxTensor::numel() const {
  uint64_t n = 1;
  for (int64_t d : dims) n *= static_cast<uint64_t>(d);
  return n;
}

const char* elem_type_name(int32_t type) {
  switch (type) {
    case TensorProto::FLOAT:
      return "float";
    case TensorProto::UINT8:
      return "uint8";
    case TensorProto::INT8:
      return "int8";
    case TensorProto::UINT16:
      return "uint16";
    case TensorProto::INT16:
      return "int16";
    case TensorProto::INT32:
      return "int32";
    case TensorProto::INT64:
      return "int64";
    case TensorProto::STRING:
      return "string";
    case TensorProto::BOOL:
      return "bool";
    case TensorProto::FLOAT16:
      return "float16";
    case TensorProto::DOUBLE:
      return "double";
    case TensorProto::UINT32:
      return "uint32";
    case TensorProto::UINT64:
      return "uint64";
    case TensorProto::COMPLEX64:
      return "complex64";
    case TensorProto::COMPLEX128:
      return "complex128";
    case TensorProto::BFLOAT16:
      return "bfloat16";
    default:
      return "undefined";
  }
}

OnnxTensor decode_tensor(const TensorProto& t, const std::string& model_dir, const std::string& where) {
  OnnxTensor out;
  out.elem_type = t.data_type();
  const uint64_t esize = elem_size(out.elem_type);
  if (esize == 0) {
    bad(where, fmt::format("unsupported element type {} (graphrun reads float, double, int32 and int64 tensors)",
                           elem_type_name(out.elem_type)));
  }
  if (t.has_segment()) bad(where, "segmented tensors are not supported");
  if (t.dims_size() > 8) bad(where, fmt::format("rank {} is more than 8", t.dims_size()));
  std::vector<uint64_t> udims;
  for (int64_t d : t.dims()) {
    if (d < 0) bad(where, fmt::format("dimension {} is negative", d));
    out.dims.push_back(d);
    udims.push_back(static_cast<uint64_t>(d));
  }
  const std::optional<uint64_t> n = io::checked_product(udims, kOnnxMaxElements);
  if (!n) bad(where, fmt::format("more than {} elements", kOnnxMaxElements));
  const bool is_float = out.is_float();
  // Nothing is allocated from the declared shape before the data present is known to match it
  // (a Constant may declare 2^31 elements and hold none).
  const auto allocate = [&] {
    if (is_float)
      out.floats.resize(*n);
    else
      out.ints.resize(*n);
  };

  const bool external = t.data_location() == TensorProto::EXTERNAL;
  if (external || !t.raw_data().empty()) {
    const uint64_t want = *n * esize;
    if (!external && t.raw_data().size() != want) {
      bad(where, fmt::format("raw data has {} bytes, the shape and type need {}", t.raw_data().size(), want));
    }
    const std::string ext = external ? read_external(t, model_dir, want, where) : std::string();
    const std::string& raw = external ? ext : t.raw_data();
    allocate();
    std::vector<float>* f = is_float ? &out.floats : nullptr;
    std::vector<int64_t>* i = is_float ? nullptr : &out.ints;
    switch (out.elem_type) {
      case TensorProto::FLOAT:
        convert_raw<float>(raw, *n, f, i);
        break;
      case TensorProto::DOUBLE:
        convert_raw<double>(raw, *n, f, i);
        break;
      case TensorProto::INT32:
        convert_raw<int32_t>(raw, *n, f, i);
        break;
      default:
        convert_raw<int64_t>(raw, *n, f, i);
        break;
    }
    return out;
  }
  const auto check = [&](uint64_t have) {
    if (have != *n)
      bad(where, fmt::format("holds {} values, its shape {} needs {}", have, fmt::join(out.dims, "x"), *n));
    allocate();
  };
  switch (out.elem_type) {
    case TensorProto::FLOAT:
      check(static_cast<uint64_t>(t.float_data_size()));
      std::copy(t.float_data().begin(), t.float_data().end(), out.floats.begin());
      break;
    case TensorProto::DOUBLE:
      check(static_cast<uint64_t>(t.double_data_size()));
      for (uint64_t k = 0; k < *n; ++k) out.floats[k] = static_cast<float>(t.double_data(static_cast<int>(k)));
      break;
    case TensorProto::INT32:
      check(static_cast<uint64_t>(t.int32_data_size()));
      std::copy(t.int32_data().begin(), t.int32_data().end(), out.ints.begin());
      break;
    default:
      check(static_cast<uint64_t>(t.int64_data_size()));
      std::copy(t.int64_data().begin(), t.int64_data().end(), out.ints.begin());
      break;
  }
  return out;
}

Tensor to_tensor(const OnnxTensor& value, const std::string& where) {
  if (!value.is_float()) bad(where, fmt::format("expected a float tensor, got {}", elem_type_name(value.elem_type)));
  if (value.dims.size() > static_cast<size_t>(Shape::kMaxRank)) {
    bad(where, fmt::format("rank {} is more than graphrun's {}", value.dims.size(), Shape::kMaxRank));
  }
  Shape shape;
  for (int64_t d : value.dims) shape.push_back(d);
  return Tensor(shape, value.floats);
}

void encode_tensor(const Tensor& value, const std::string& name, TensorProto& out) {
  out.set_name(name);
  out.set_data_type(TensorProto::FLOAT);
  for (int64_t d : value.shape()) out.add_dims(d);
  out.set_raw_data(reinterpret_cast<const char*>(value.data()), static_cast<size_t>(value.numel()) * sizeof(float));
}

}  // namespace graphrun::onnx_io
