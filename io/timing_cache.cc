#include "io/timing_cache.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>

#include "core/backend_timing.h"
#include "core/error.h"
#include "io/atomic_file.h"

namespace graphrun::io {
namespace {

constexpr std::string_view kFormat = "graphrun backend timings";
constexpr uint64_t kMaxBytes = 16 << 20;

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& where, const std::string& what) {
  throw Error(ErrorKind::BadInput, path + ": " + where + ": " + what);
}

// The file's entries, checked; empty for a missing file.
Json read_entries(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Json::array();
  const std::vector<std::byte> bytes = read_file(path, kMaxBytes);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) bad(path, "the file", "invalid JSON");
  if (!doc.is_object() || doc.value("format", "") != kFormat)
    bad(path, "\"format\"", "expected \"" + std::string(kFormat) + "\"");
  const auto choices = doc.find("choices");
  if (choices == doc.end() || !choices->is_array()) bad(path, "\"choices\"", "expected an array");
  for (size_t i = 0; i < choices->size(); ++i) {
    const Json& e = (*choices)[i];
    for (const char* field : {"machine", "key", "backend", "timings"}) {
      if (!e.is_object() || !e.contains(field) || !e[field].is_string())
        bad(path, "choices[" + std::to_string(i) + "]." + field, "expected a string");
    }
  }
  return *choices;
}

}  // namespace

std::string default_timing_cache_path() {
  constexpr const char* kName = "backend-timings.json";
  if (const char* dir = std::getenv("GRAPHRUN_CACHE_DIR")) return *dir ? std::string(dir) + "/" + kName : "";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/graphrun/" + kName;
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/graphrun/" + kName;
  return "";
}

size_t load_timing_cache(const std::string& path, const std::string& machine) {
  TimedChoices mine;
  for (const Json& e : read_entries(path)) {
    if (e["machine"] == machine) mine.push_back({e["key"], {e["backend"], e["timings"]}});
  }
  adopt_timed_choices(mine);
  return mine.size();
}

void save_timing_cache(const std::string& path, const std::string& machine) {
  Json entries = Json::array();
  try {
    for (const Json& e : read_entries(path)) {
      if (e["machine"] != machine) entries.push_back(e);
    }
  } catch (const Error&) {
    // A malformed file is replaced: it held nothing this run could use.
  }
  for (const auto& [key, choice] : timed_choices())
    entries.push_back({{"machine", machine}, {"key", key}, {"backend", choice.backend}, {"timings", choice.report}});
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw Error(ErrorKind::Io, "cannot create " + parent.string() + ": " + ec.message());
  const std::string text = Json{{"format", kFormat}, {"choices", entries}}.dump(1) + "\n";
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace graphrun::io
