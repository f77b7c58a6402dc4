#include "io/model_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/plugin_host.h"
#include "io/atomic_file.h"
#include "io/quote.h"

namespace graphrun::io {
namespace {

using Json = nlohmann::ordered_json;

// First pass: bounds nesting and rejects duplicate keys (nlohmann's DOM keeps the last one
// silently), tracking the JSON path so the message can name the place.
class Checker : public nlohmann::json_sax<Json> {
 public:
  explicit Checker(std::string_view text) : text_(text) {}
  std::string error;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      error = fmt::format("{}: duplicate key {}", where(/*last_key=*/false), quote_text(k));
      return false;
    }
    f.key = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    int line = 0, column = 0;
    std::string path;
    if (size_t at = what.find("at line "); at != std::string::npos) {
      std::sscanf(what.c_str() + at, "at line %d, column %d", &line, &column);
    } else {
      // "[json.exception.out_of_range.406] number overflow parsing '1e400'" carries no place:
      // count it from the byte position (just past the token), and name the JSON path.
      const std::string_view before = text_.substr(0, std::min(position, text_.size()));
      line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
      const size_t nl = before.rfind('\n');
      column = static_cast<int>(before.size() - (nl == std::string_view::npos ? 0 : nl + 1));
      value();  // the failed token is the current value (an array index moves on to it)
      path = " at " + where();
    }
    if (size_t colon = what.find("] "); what.starts_with("[json.exception.") && colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    if (size_t colon = what.find(": "); what.starts_with("parse error") && colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    if (what.size() > 200) what = what.substr(0, 200) + "...";
    error = fmt::format("{}:{}: invalid JSON{}: {}", line, column, path, what);
    syntax = true;
    return false;
  }
  bool syntax = false;

 private:
  struct Frame {
    bool array = false;
    int64_t index = -1;
    std::string key;
    std::set<std::string> keys;
  };
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool open(bool array) {
    value();
    if (static_cast<int>(frames_.size()) >= kModelFileMaxDepth) {
      error = fmt::format("{}: nesting deeper than {} levels", where(), kModelFileMaxDepth);
      return false;
    }
    Frame f;
    f.array = array;
    frames_.push_back(std::move(f));
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  // The JSON path of the current value; without the innermost object's last key when
  // last_key is false (a duplicate key belongs to the object, not to the previous member).
  std::string where(bool last_key = true) const {
    std::string s;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.array) {
        if (f.index >= 0) s += fmt::format("[{}]", f.index);
      } else if (!f.keys.empty() && (last_key || i + 1 < frames_.size())) {
        s += (s.empty() ? "" : ".") + f.key;
      }
    }
    return s.empty() ? "(top level)" : s;
  }
  std::string_view text_;
  std::vector<Frame> frames_;
};

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case Json::value_t::string: return "string " + quote_text(v.get_ref<const std::string&>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return v.dump();
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::binary:
    case Json::value_t::discarded: break;
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

class Parser {
 public:
  Parser(std::string file, const PluginRegistry* plugins) : file_(std::move(file)), plugins_(plugins) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(ErrorKind::BadInput, where.empty() ? fmt::format("{}: {}", file_, what)
                                                   : fmt::format("{}: {}: {}", file_, where, what));
  }
  [[noreturn]] void expected(const std::string& where, const std::string& what, const Json& got) const {
    fail(where, fmt::format("expected {}, got {}", what, describe(got)));
  }

  void check_keys(const Json& obj, const std::string& where, const std::vector<std::string>& allowed) const {
    if (!obj.is_object()) expected(where, "an object", obj);
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (const std::string& a : allowed) ok = ok || a == it.key();
      if (!ok) {
        fail(join(where, it.key()), fmt::format("unknown key; expected one of: {}", join_names(allowed)));
      }
    }
  }

  int64_t integer(const Json& v, const std::string& where, int64_t lo, int64_t hi) const {
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

  double number(const Json& v, const std::string& where, const std::string& what = "a finite number") const {
    if (!v.is_number()) expected(where, what, v);
    double d = v.get<double>();
    if (!std::isfinite(d)) expected(where, what, v);
    return d;
  }

  bool boolean(const Json& v, const std::string& where) const {
    if (!v.is_boolean()) expected(where, "true or false", v);
    return v.get<bool>();
  }

  std::string string(const Json& v, const std::string& where, const std::string& what = "a string") const {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) expected(where, what, v);
    return v.get<std::string>();
  }

  std::string one_of(const Json& v, const std::string& where, const std::vector<std::string>& names) const {
    const std::string want = "one of " + join_names(names);
    if (!v.is_string()) expected(where, want, v);
    std::string s = v.get<std::string>();
    for (const std::string& n : names) {
      if (n == s) return s;
    }
    expected(where, want, v);
  }

  Initializer initializer(const Json& v, const std::string& where) const {
    static const std::vector<std::string> kinds = {"zeros",        "constant",      "normal",    "uniform",
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
      case InitKind::HeUniform: check_keys(v, where, {"kind"}); break;
    }
    return init;
  }

  std::vector<std::pair<std::string, double>> params(const Json& v, const std::string& where) const {
    if (!v.is_object()) expected(where, "an object of numbers", v);
    std::vector<std::pair<std::string, double>> out;
    for (auto it = v.begin(); it != v.end(); ++it) out.emplace_back(it.key(), number(it.value(), join(where, it.key())));
    return out;
  }

  LayerSpec layer(const Json& v, const std::string& where, size_t i) const {
    check_keys(v, where,
               {"name", "units", "activation", "activation_params", "init", "bias", "bias_init", "trainable"});
    LayerSpec l;
    l.name = fmt::format("dense{}", i);
    if (v.contains("name")) {
      const std::string w = join(where, "name");
      l.name = string(v.at("name"), w, "a name of 1 to 64 letters, digits, '_', '-' or '.'");
      bool ok = l.name.size() <= 64;
      for (char c : l.name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
      if (!ok) expected(w, "a name of 1 to 64 letters, digits, '_', '-' or '.'", v.at("name"));
    }
    if (!v.contains("units")) fail(where, "expected \"units\" (an integer from 1 to 1000000)");
    l.units = integer(v.at("units"), join(where, "units"), 1, kModelMaxUnits);
    if (v.contains("activation")) l.activation = string(v.at("activation"), join(where, "activation"), "an activation name");
    if (v.contains("activation_params")) l.activation_params = params(v.at("activation_params"), join(where, "activation_params"));
    if (v.contains("init")) l.init = initializer(v.at("init"), join(where, "init"));
    if (v.contains("bias")) l.use_bias = boolean(v.at("bias"), join(where, "bias"));
    if (v.contains("bias_init")) {
      if (!l.use_bias) fail(join(where, "bias_init"), "given for a layer with \"bias\": false");
      l.bias_init = initializer(v.at("bias_init"), join(where, "bias_init"));
    }
    if (v.contains("trainable")) l.trainable = boolean(v.at("trainable"), join(where, "trainable"));
    check_activation(l, where);
    return l;
  }

  void check_activation(const LayerSpec& l, const std::string& where) const {
    const std::string w = join(where, "activation");
    if (l.activation == "linear") {
      if (!l.activation_params.empty()) fail(join(where, "activation_params"), "\"linear\" takes no parameters");
      return;
    }
    if (!plugins_) return;
    const LoadedActivation* a = plugins_->find_activation(l.activation);
    if (!a) {
      std::vector<std::string> known = {"linear"};
      for (const LoadedActivation* k : plugins_->activations()) known.emplace_back(k->entry->name);
      expected(w, "an activation, one of " + join_names(known), Json(l.activation));
    }
    resolve_params(a->entry->params, a->entry->n_params, l.activation_params,
                   fmt::format("{}: {}", file_, join(where, "activation_params")));
  }

  DataSpec data(const Json& v, const std::string& where) const {
    if (!v.is_object()) expected(where, "an object", v);
    DataSpec d;
    if (v.contains("format")) d.format = one_of(v.at("format"), join(where, "format"), {"idx", "csv"});
    if (d.format == "idx") {
      check_keys(v, where, {"format", "scaling", "train_images", "train_labels", "test_images", "test_labels"});
      d.train_images = path(v, where, "train_images", true);
      d.train_labels = path(v, where, "train_labels", true);
      d.test_images = path(v, where, "test_images", false);
      d.test_labels = path(v, where, "test_labels", d.test_images.size() > 0);
      if (d.test_labels.size() && d.test_images.empty()) fail(where, "\"test_labels\" given without \"test_images\"");
    } else {
      check_keys(v, where, {"format", "scaling", "train", "test", "label_column", "header"});
      d.train_csv = path(v, where, "train", true);
      d.test_csv = path(v, where, "test", false);
      if (v.contains("label_column")) {
        d.label_column = static_cast<int>(integer(v.at("label_column"), join(where, "label_column"), 0, 1'000'000));
      }
      if (v.contains("header")) d.header = boolean(v.at("header"), join(where, "header"));
    }
    if (v.contains("scaling")) {
      d.scaling = one_of(v.at("scaling"), join(where, "scaling"), {"none", "minmax", "minmax_global", "standardize"});
    }
    return d;
  }

  std::string path(const Json& obj, const std::string& where, const char* key, bool required) const {
    if (!obj.contains(key)) {
      if (required) fail(where, fmt::format("expected \"{}\" (a file path)", key));
      return {};
    }
    std::string p = string(obj.at(key), join(where, key), "a file path");
    if (p.find('\0') != std::string::npos) expected(join(where, key), "a file path", obj.at(key));
    namespace fs = std::filesystem;
    fs::path fp(p);
    if (fp.is_relative()) fp = fs::path(file_).parent_path() / fp;
    return fp.lexically_normal().string();
  }

  ModelFile model(const Json& root) const {
    if (!root.is_object()) expected("", "a JSON object at the top level", root);
    check_keys(root, "",
               {"version", "description", "inputs", "layers", "graph", "loss", "optimizer", "data", "training"});
    ModelFile m;
    m.path = file_;
    if (root.contains("version")) integer(root.at("version"), "version", 1, 1);
    if (root.contains("description") && !root.at("description").is_string()) {
      expected("description", "a string", root.at("description"));
    }
    if (root.contains("graph")) {
      fail("graph", "the full graph form is not supported yet; describe the model with \"inputs\" and \"layers\"");
    }
    if (!root.contains("inputs") || !root.contains("layers")) {
      fail("", "expected \"inputs\" and \"layers\" (the sequential form)");
    }
    m.inputs = integer(root.at("inputs"), "inputs", 1, 100'000'000);
    const Json& layers = root.at("layers");
    if (!layers.is_array() || layers.empty() || layers.size() > static_cast<size_t>(kModelMaxLayers)) {
      expected("layers", fmt::format("an array of 1 to {} layers", kModelMaxLayers), layers);
    }
    std::set<std::string> names;
    for (size_t i = 0; i < layers.size(); ++i) {
      m.layers.push_back(layer(layers[i], index("layers", i), i));
      if (!names.insert(m.layers.back().name).second) {
        fail(join(index("layers", i), "name"), fmt::format("duplicate layer name {}", quote_text(m.layers.back().name)));
      }
    }

    // Bounded before anything is allocated: a few lines of JSON must not ask for terabytes.
    if (const int64_t n = parameter_count(m); n > kModelMaxParameters) {
      fail("layers", fmt::format("the layers hold {} parameters, more than the limit of {}", n, kModelMaxParameters));
    }

    if (root.contains("loss")) {
      const std::string loss = one_of(root.at("loss"), "loss",
                                      {"cross_entropy", "sparse_categorical_crossentropy", "categorical_crossentropy",
                                       "mse", "mean_squared_error"});
      m.loss = (loss == "mse" || loss == "mean_squared_error") ? "mse" : "cross_entropy";
    }
    if (m.loss == "cross_entropy" && m.layers.back().activation != "softmax") {
      expected(join(index("layers", m.layers.size() - 1), "activation"),
               "\"softmax\" on the last layer with the cross_entropy loss", Json(m.layers.back().activation));
    }

    if (root.contains("optimizer")) optimizer(root.at("optimizer"), m);
    if (plugins_) {
      const LoadedOptimizer* o = plugins_->find_optimizer(m.optimizer);
      if (!o) {
        std::vector<std::string> known;
        for (const LoadedOptimizer* k : plugins_->optimizers()) known.emplace_back(k->entry->name);
        const bool named = root.contains("optimizer") && root.at("optimizer").is_object();
        expected(named ? "optimizer.name" : "optimizer", "an optimizer, one of " + join_names(known), Json(m.optimizer));
      }
      resolve_params(o->entry->hyper, o->entry->n_hyper, m.optimizer_params, fmt::format("{}: optimizer", file_));
    }

    if (root.contains("data")) m.data = data(root.at("data"), "data");

    if (root.contains("training")) {
      const Json& t = root.at("training");
      check_keys(t, "training", {"epochs", "batch_size", "shuffle", "seed", "validation_split", "early_stopping",
                                 "learning_rate_schedule", "init_from"});
      Json practice = Json::object();
      for (const char* k : {"validation_split", "early_stopping", "learning_rate_schedule", "init_from"}) {
        if (t.contains(k)) practice[k] = t.at(k);
      }
      m.training_practice = practice.dump();
      if (t.contains("epochs")) m.epochs = integer(t.at("epochs"), "training.epochs", 0, 1'000'000);
      if (t.contains("batch_size")) m.batch_size = integer(t.at("batch_size"), "training.batch_size", 1, 1'000'000);
      if (t.contains("shuffle")) m.shuffle = boolean(t.at("shuffle"), "training.shuffle");
      if (t.contains("seed")) {
        const Json& s = t.at("seed");
        if (!s.is_number_unsigned()) expected("training.seed", "an integer from 0 to 18446744073709551615", s);
        m.seed = s.get<uint64_t>();
      }
    }

    Json canonical = Json::object();
    for (const char* k : {"inputs", "layers", "loss", "optimizer"}) {
      if (root.contains(k)) canonical[k] = root.at(k);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : canonical.dump()) h = (h ^ c) * 0x100000001b3ull;
    m.model_hash = h;
    return m;
  }

  void optimizer(const Json& v, ModelFile& m) const {
    if (v.is_string()) {
      m.optimizer = string(v, "optimizer", "an optimizer name");
      return;
    }
    if (!v.is_object()) expected("optimizer", "an optimizer name or an object with \"name\"", v);
    if (!v.contains("name")) fail("optimizer", "expected \"name\" (an optimizer name)");
    m.optimizer = string(v.at("name"), "optimizer.name", "an optimizer name");
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() == "name") continue;
      const std::string w = join("optimizer", it.key());
      if (it.key() == "learning_rate") {
        m.learning_rate = number(it.value(), w, "a finite number > 0");
        if (!(m.learning_rate > 0)) expected(w, "a finite number > 0", it.value());
      } else {
        m.optimizer_params.emplace_back(it.key(), number(it.value(), w));
      }
    }
  }

 private:
  std::string file_;
  const PluginRegistry* plugins_;
};

}  // namespace

ModelFile parse_model_file(const std::string& text, const std::string& path, const PluginRegistry* plugins) {
  Parser parser(path, plugins);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    parser.fail("", "empty file; expected a JSON object");
  }
  Checker checker(text);
  if (!Json::sax_parse(text, &checker)) {
    throw Error(ErrorKind::BadInput, checker.syntax ? fmt::format("{}:{}", path, checker.error)
                                                    : fmt::format("{}: {}", path, checker.error));
  }
  Json root;
  try {
    root = Json::parse(text);
  } catch (const nlohmann::json::exception& ex) {  // the checker accepted it: unexpected
    parser.fail("", fmt::format("invalid JSON: {}", ex.what()));
  }
  return parser.model(root);
}

ModelFile read_model_file(const std::string& path, const PluginRegistry* plugins) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: no such model file", path));
  }
  std::vector<std::byte> bytes = read_file(path, kModelFileMaxBytes);
  return parse_model_file(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path, plugins);
}

int64_t parameter_count(const ModelFile& m) {
  int64_t n = 0, in = m.inputs;
  for (const LayerSpec& l : m.layers) {
    n += in * l.units + (l.use_bias ? l.units : 0);
    in = l.units;
  }
  return n;
}

}  // namespace graphrun::io
