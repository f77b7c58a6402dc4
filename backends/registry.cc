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
  throw Error(ErrorKind::BadInput,
              "unknown backend '" + std::string(name) + "'; known: " + known + did_you_mean(name, names()));
}

std::vector<Backend*> chain(std::string_view preferred) {
  std::vector<Backend*> out{&by_name(preferred)};
  for (Backend* b : {&highway::backend(), &reference::backend()}) {
    if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
  }
  return out;
}

}  // namespace graphrun::backends
