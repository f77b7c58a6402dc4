#include "backends/registry.h"

#include <algorithm>

#include "backends/highway/backend.h"
#include "backends/onednn/backend.h"
#include "backends/reference/backend.h"
#include "core/error.h"

namespace graphrun::backends {

std::vector<std::string> names() { return {"highway", "onednn", "reference"}; }

Backend& by_name(std::string_view name) {
  if (name == "highway") return highway::backend();
  if (name == "onednn") return onednn::backend();
  if (name == "reference") return reference::backend();
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::BadInput, "unknown backend '" + std::string(name) + "'; known: " + known);
}

std::vector<Backend*> chain(std::string_view preferred) {
  std::vector<Backend*> out{&by_name(preferred)};
  for (Backend* b : {&highway::backend(), &reference::backend()}) {
    if (std::find(out.begin(), out.end(), b) == out.end()) out.push_back(b);
  }
  return out;
}

}  // namespace graphrun::backends
