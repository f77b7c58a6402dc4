#include "tools/graphrun/memory_budget.h"

#include <fmt/format.h>
#include <cctype>
#include <charconv>
#include <fstream>
#include <string_view>

#include "core/error.h"

namespace graphrun::tool {

uint64_t parse_bytes(const std::string& text, const std::string& option) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit.ends_with("iB"))
    unit.remove_suffix(2);
  else if (unit.ends_with("B") && unit.size() == 2)
    unit.remove_suffix(1);
  int shift = -1;
  if (unit.empty() || unit == "B")
    shift = 0;
  else if (unit.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
  }
  if (ec != std::errc() || end == text.data() || shift < 0 || value == 0 || value > (UINT64_MAX >> shift)) {
    throw Error(ErrorKind::BadInput, fmt::format("{} \"{}\": expected a positive number of bytes, optionally with a "
                                                 "suffix K, M, G or T (e.g. 512M, 2G)",
                                                 option, text.substr(0, 40)));
  }
  return value << shift;
}

uint64_t available_memory() {
  std::ifstream f("/proc/meminfo");
  std::string key, unit;
  uint64_t kb = 0;
  while (f >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024;
  }
  return 0;
}

int64_t check_parameter_memory(const std::string& model, int64_t parameters, const LoadedOptimizer& optimizer,
                               uint64_t limit, const std::string& limit_source) {
  const uint64_t params = static_cast<uint64_t>(parameters);
  const uint64_t slots = optimizer.entry->n_state_slots;
  const uint64_t need = params * 4 * (1 + slots);  // the loader caps the count far below overflow
  if (need > limit) {
    throw Error(
        ErrorKind::Runtime,
        fmt::format("{}: {} parameters with {} optimizer state slot(s) each ({}) need {} bytes, more than {} of {} "
                    "bytes",
                    model, params, slots, optimizer.entry->name, need, limit_source, limit));
  }
  return static_cast<int64_t>(limit - need);
}

}  // namespace graphrun::tool
