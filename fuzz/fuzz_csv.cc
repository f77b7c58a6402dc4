// libFuzzer target: io::parse_csv; the first byte picks the options (header, label column,
// delimiter), the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "io/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  graphrun::io::CsvOptions o;
  o.header = data[0] & 1;
  o.label_column = static_cast<int>((data[0] >> 1) & 7) - 1;  // -1 .. 6
  o.delimiter = (data[0] & 0x10) ? ';' : (data[0] & 0x20) ? '\t' : ',';
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    graphrun::io::CsvTable t = graphrun::io::parse_csv(text, "fuzz.csv", o);
    if (!t.labels.empty() && static_cast<int64_t>(t.labels.size()) != t.features.shape()[0]) __builtin_trap();
  } catch (const graphrun::Error& e) {
    if (!e.is_bad_input()) __builtin_trap();
  }
  return 0;
}
