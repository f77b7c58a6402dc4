// Reading checked values out of a model file's JSON (io/model_file.cc, io/model_network.cc):
// every failure is one Error(BadInput) line "<file>: <json.path>: expected ..., got ...".
// Private to io: it includes nlohmann-json, which no public header of io may.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/initializer.h"

namespace graphrun {
class PluginRegistry;
}

namespace graphrun::io::detail {

using Json = nlohmann::ordered_json;

std::string describe(const Json& v);                                 // a short description of a value for "got ..."
std::string join(const std::string& where, const std::string& key);  // "a.b" (or "b")
std::string index(const std::string& where, size_t i);               // "a[i]"
std::string join_names(const std::vector<std::string>& names);       // "a, b, c"

class JsonFields {
 public:
  JsonFields(std::string file, const PluginRegistry* plugins) : file_(std::move(file)), plugins_(plugins) {}

  const std::string& file() const { return file_; }
  const PluginRegistry* plugins() const { return plugins_; }

  [[noreturn]] void fail(const std::string& where, const std::string& what) const;
  [[noreturn]] void expected(const std::string& where, const std::string& what, const Json& got) const;
  // obj is an object whose keys are all in `allowed`.
  void check_keys(const Json& obj, const std::string& where, const std::vector<std::string>& allowed) const;
  int64_t integer(const Json& v, const std::string& where, int64_t lo, int64_t hi) const;
  double number(const Json& v, const std::string& where, const std::string& what = "a finite number") const;
  bool boolean(const Json& v, const std::string& where) const;
  std::string string(const Json& v, const std::string& where, const std::string& what = "a string") const;
  std::string one_of(const Json& v, const std::string& where, const std::vector<std::string>& names) const;
  Initializer initializer(const Json& v, const std::string& where) const;
  std::vector<std::pair<std::string, double>> params(const Json& v, const std::string& where) const;
  // With a plugin registry: `activation` names a loaded activation and `params` fit it.
  void check_activation(const std::string& activation, const std::vector<std::pair<std::string, double>>& params,
                        const std::string& where) const;

 private:
  std::string file_;
  const PluginRegistry* plugins_;
};

}  // namespace graphrun::io::detail
