// libFuzzer round trip: tensors and metadata made from the input are serialised with
// io::serialize_safetensors, parsed back with io::parse_safetensors, and must come back equal
// (names, order, shapes, every bit of every value, metadata). The writer may refuse a name
// (invalid UTF-8, duplicate, "__metadata__") with Error(BadInput); nothing else.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::string text() {
    size_t len = byte() % 12;
    std::string s;
    for (size_t i = 0; i < len && n > 0; ++i) s.push_back(static_cast<char>(byte()));
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  const int count = r.byte() % 5;
  std::vector<std::pair<std::string, graphrun::Tensor>> owned;
  for (int t = 0; t < count; ++t) {
    std::string name = r.text();
    graphrun::Shape shape;
    const int rank = r.byte() % 4;
    for (int d = 0; d < rank; ++d) shape.push_back(r.byte() % 4);
    graphrun::Tensor tensor(shape);
    for (int64_t i = 0; i < tensor.numel(); ++i) {
      uint32_t bits = 0;
      for (int b = 0; b < 4; ++b) bits = (bits << 8) | r.byte();
      std::memcpy(tensor.data() + i, &bits, 4);
    }
    owned.emplace_back(std::move(name), std::move(tensor));
  }
  std::map<std::string, std::string> meta;
  const int metas = r.byte() % 3;
  for (int m = 0; m < metas; ++m) meta[r.text()] = r.text();

  std::vector<std::pair<std::string, const graphrun::Tensor*>> list;
  for (const auto& [name, t] : owned) list.emplace_back(name, &t);
  std::vector<std::byte> bytes;
  try {
    bytes = graphrun::io::serialize_safetensors(list, meta);
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
    return 0;
  }
  graphrun::io::SafetensorsFile back;
  try {
    back = graphrun::io::parse_safetensors(bytes, "roundtrip.safetensors");
  } catch (const graphrun::Error&) {
    __builtin_trap();  // the reader refused what the writer wrote
  }
  // Zero-sized tensors sharing an offset keep header order; the writer keeps the given order.
  if (back.tensors.size() != owned.size() || back.metadata != meta) __builtin_trap();
  for (size_t i = 0; i < owned.size(); ++i) {
    const auto& [name, t] = owned[i];
    const auto& [bname, bt] = back.tensors[i];
    if (name != bname || !(t.shape() == bt.shape())) __builtin_trap();
    if (t.numel() > 0 && std::memcmp(t.data(), bt.data(), static_cast<size_t>(t.numel()) * 4) != 0) __builtin_trap();
  }
  return 0;
}
