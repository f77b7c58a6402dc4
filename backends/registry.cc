#include "backends/registry.h"

#include <algorithm>

#include "backends/highway/backend.h"
#include "backends/reference/backend.h"
#include "core/did_you_mean.h"
#include "core/error.h"
#ifdef GRAPHRUN_HAS_ONEDNN  // set by backends/CMakeLists.txt when GRAPHRUN_WITH_ONEDNN
#include "backends/onednn/backend.h"
#endif

namespace graphrun::backends {

std::vector<std::string> names() {
#ifdef GRAPHRUN_HAS_ONEDNN
  return {"highway", "onednn", "reference"};
#else
  return {"highway", "reference"};
#endif
}

Backend& by_name(std::string_view name) {
  if (name == "highway") return highway::backend();
#ifdef GRAPHRUN_HAS_ONEDNN
  if (name == "onednn") return onednn::backend();
#endif
  if (name == "reference") return reference::backend();
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  if (name == "onednn")
    throw Error(ErrorKind::BadInput,
                "backend 'onednn' is not in this build (configured with GRAPHRUN_WITH_ONEDNN=OFF); built: " + known);
  std::vector<std::string> choices = names();
  choices.emplace_back(kAuto);
  throw Error(ErrorKind::BadInput, "unknown backend '" + std::string(name) + "'; known: " + known + ", or " +
                                       std::string(kAuto) + did_you_mean(name, choices));
}

void check_name(std::string_view name) {
  if (name != kAuto) by_name(name);
}

void select(std::string_view name, CompileOptions& options) {
  options.backends = chain(name);
  options.choose_by_time = name == kAuto;
}

std::vector<Backend*> chain(std::string_view preferred) {
  if (preferred == kAuto) {
    std::vector<Backend*> out;
    for (const std::string& n : names()) {
      if (n != "reference") out.push_back(&by_name(n));
    }
    out.push_back(&reference::backend());
    return out;
  }
  std::vector<Backend*> out{&by_name(preferred)};
  for (Backend* b : {&highway::backend(), &reference::backend()}) {
    if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
  }
  return out;
}

}  // namespace graphrun::backends
