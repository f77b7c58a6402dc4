#include "io/detail/json_fields.h"

#include <fmt/format.h>
#include <cmath>

#include "core/did_you_mean.h"
#include "core/error.h"
#include "core/plugin_host.h"
#include "io/quote.h"

namespace graphrun::io::detail {

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return "string " + quote_text(v.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return v.dump();
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return "an unexpected value";
}

std::string join(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }
std::string index(const std::string& where, size_t i) { return fmt::format("{}[{}]", where, i); }

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void JsonFields::fail(const std::string& where, const std::string& what) const {
  throw Error(ErrorKind::BadInput,
              where.empty() ? fmt::format("{}: {}", file_, what) : fmt::format("{}: {}: {}", file_, where, what));
}

void JsonFields::expected(const std::string& where, const std::string& what, const Json& got) const {
  fail(where, fmt::format("expected {}, got {}", what, describe(got)));
}

void JsonFields::check_keys(const Json& obj, const std::string& where, const std::vector<std::string>& allowed) const {
  if (!obj.is_object()) expected(where, "an object", obj);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == it.key();
    if (!ok) {
      fail(join(where, it.key()),
           fmt::format("unknown key; expected one of: {}{}", join_names(allowed), did_you_mean(it.key(), allowed)));
    }
  }
}

int64_t JsonFields::integer(const Json& v, const std::string& where, int64_t lo, int64_t hi) const {
  const std::string want = fmt::format("an integer from {} to {}", lo, hi);
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi) || static_cast<int64_t>(u) < lo) expected(where, want, v);
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < lo || i > hi) expected(where, want, v);
    return i;
  }
  expected(where, want, v);
}

double JsonFields::number(const Json& v, const std::string& where, const std::string& what) const {
  if (!v.is_number()) expected(where, what, v);
  double d = v.get<double>();
  if (!std::isfinite(d)) expected(where, what, v);
  return d;
}

bool JsonFields::boolean(const Json& v, const std::string& where) const {
  if (!v.is_boolean()) expected(where, "true or false", v);
  return v.get<bool>();
}

std::string JsonFields::string(const Json& v, const std::string& where, const std::string& what) const {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) expected(where, what, v);
  return v.get<std::string>();
}

std::string JsonFields::one_of(const Json& v, const std::string& where, const std::vector<std::string>& names) const {
  const std::string want = "one of " + join_names(names);
  if (!v.is_string()) expected(where, want, v);
  std::string s = v.get<std::string>();
  for (const std::string& n : names) {
    if (n == s) return s;
  }
  fail(where, fmt::format("expected {}, got {}{}", want, describe(v), did_you_mean(s, names)));
}

Initializer JsonFields::initializer(const Json& v, const std::string& where) const {
  static const std::vector<std::string> kinds = {"zeros",          "constant",      "normal",    "uniform",
                                                 "glorot_uniform", "glorot_normal", "he_normal", "he_uniform"};
  const Json* kind_json = &v;
  std::string kind_where = where;
  if (v.is_object()) {
    if (!v.contains("kind")) fail(where, "expected a \"kind\" (one of " + join_names(kinds) + ")");
    kind_json = &v.at("kind");
    kind_where = join(where, "kind");
  } else if (!v.is_string()) {
    expected(where, "an initializer name or an object with \"kind\"", v);
  }
  const std::string kind = one_of(*kind_json, kind_where, kinds);
  Initializer init;
  init.kind = parse_init_kind(kind, file_);
  init.a = 0.0;
  init.b = 0.0;
  if (init.kind == InitKind::Normal) init = Initializer::normal(0.0, 1.0);
  if (init.kind == InitKind::Uniform) init = Initializer::uniform(-0.05, 0.05);  // Keras's default
  if (!v.is_object()) return init;
  switch (init.kind) {
    case InitKind::Normal:
      check_keys(v, where, {"kind", "mean", "std"});
      if (v.contains("mean")) init.a = number(v.at("mean"), join(where, "mean"));
      if (v.contains("std")) {
        init.b = number(v.at("std"), join(where, "std"), "a finite number >= 0");
        if (init.b < 0) expected(join(where, "std"), "a finite number >= 0", v.at("std"));
      }
      break;
    case InitKind::Uniform:
      check_keys(v, where, {"kind", "low", "high"});
      if (v.contains("low")) init.a = number(v.at("low"), join(where, "low"));
      if (v.contains("high")) init.b = number(v.at("high"), join(where, "high"));
      if (init.a > init.b) fail(where, fmt::format("expected low <= high, got low {} and high {}", init.a, init.b));
      break;
    case InitKind::Constant:
      check_keys(v, where, {"kind", "value"});
      if (v.contains("value")) init.a = number(v.at("value"), join(where, "value"));
      break;
    case InitKind::Zeros:
    case InitKind::GlorotUniform:
    case InitKind::GlorotNormal:
    case InitKind::HeNormal:
    case InitKind::HeUniform:
      check_keys(v, where, {"kind"});
      break;
  }
  return init;
}

std::vector<std::pair<std::string, double>> JsonFields::params(const Json& v, const std::string& where) const {
  if (!v.is_object()) expected(where, "an object of numbers", v);
  std::vector<std::pair<std::string, double>> out;
  for (auto it = v.begin(); it != v.end(); ++it) out.emplace_back(it.key(), number(it.value(), join(where, it.key())));
  return out;
}

void JsonFields::check_activation(const std::string& activation,
                                  const std::vector<std::pair<std::string, double>>& params,
                                  const std::string& where) const {
  const std::string w = join(where, "activation");
  if (activation == "linear") {
    if (!params.empty()) fail(join(where, "activation_params"), "\"linear\" takes no parameters");
    return;
  }
  if (!plugins_) return;
  const LoadedActivation* a = plugins_->find_activation(activation);
  if (!a) {
    std::vector<std::string> known = {"linear"};
    for (const LoadedActivation* k : plugins_->activations()) known.emplace_back(k->entry->name);
    fail(w, fmt::format("expected an activation, one of {}, got {}{} (another plugin's? load its folder with "
                        "--plugin-dir or GRAPHRUN_PLUGIN_PATH)",
                        join_names(known), describe(Json(activation)), did_you_mean(activation, known)));
  }
  resolve_params(a->entry->params, a->entry->n_params, params,
                 fmt::format("{}: {}", file_, join(where, "activation_params")));
}

}  // namespace graphrun::io::detail
