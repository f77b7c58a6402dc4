#include "io/model_file.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/did_you_mean.h"
#include "core/error.h"
#include "core/plugin_host.h"
#include "io/atomic_file.h"
#include "io/detail/json_fields.h"
#include "io/detail/model_network.h"
#include "io/quote.h"

namespace graphrun::io {
namespace {

using detail::describe;
using detail::index;
using detail::join;
using detail::join_names;
using detail::Json;
using detail::JsonFields;

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

class Parser : public JsonFields {
 public:
  using JsonFields::JsonFields;

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
      check_keys(
          v, where,
          {"format", "scaling", "train", "test", "label_column", "header", "skip_lines", "delimiter", "target_columns",
           "train_targets", "test_targets", "test_split", "split_seed", "class_names", "weight_column"});
      csv_data(v, where, d);
    }
    if (v.contains("scaling")) {
      d.scaling = one_of(v.at("scaling"), join(where, "scaling"), {"none", "minmax", "minmax_global", "standardize"});
    }
    return d;
  }

  // The tabular keys of a CSV data section (docs/model-format.md, "Tabular data").
  void csv_data(const Json& v, const std::string& where, DataSpec& d) const {
    d.train_csv = path(v, where, "train", true);
    d.test_csv = path(v, where, "test", false);
    d.train_targets = path(v, where, "train_targets", false);
    d.test_targets = path(v, where, "test_targets", false);
    if (v.contains("label_column")) {
      d.label_column = static_cast<int>(integer(v.at("label_column"), join(where, "label_column"), 0, 1'000'000));
    }
    if (v.contains("weight_column")) {
      d.weight_column = static_cast<int>(integer(v.at("weight_column"), join(where, "weight_column"), 0, 1'000'000));
    }
    if (v.contains("header")) d.header = boolean(v.at("header"), join(where, "header"));
    if (v.contains("skip_lines"))
      d.skip_lines = static_cast<int>(integer(v.at("skip_lines"), join(where, "skip_lines"), 0, 1'000'000));
    if (v.contains("delimiter")) {
      const Json& s = v.at("delimiter");
      if (!s.is_string() || s.get_ref<const std::string&>().size() != 1 || s.get<std::string>() == "\n" ||
          s.get<std::string>() == "\r" || s.get<std::string>() == "\"") {
        expected(join(where, "delimiter"), "one character such as \",\", \";\", \" \" or \"\\t\"", s);
      }
      d.delimiter = s.get<std::string>()[0];
    }
    if (v.contains("target_columns")) {
      const Json& t = v.at("target_columns");
      const std::string w = join(where, "target_columns");
      if (!t.is_array() || t.empty() || t.size() > 100'000) expected(w, "an array of 1 to 100000 column indices", t);
      for (size_t i = 0; i < t.size(); ++i)
        d.target_columns.push_back(static_cast<int>(integer(t[i], index(w, i), 0, 1'000'000)));
      if (v.contains("label_column")) fail(w, "given with \"label_column\": give one of them");
      if (v.contains("train_targets")) fail(w, "given with \"train_targets\": the targets are in one place");
    }
    if (d.weight_column >= 0 &&
        (std::find(d.target_columns.begin(), d.target_columns.end(), d.weight_column) != d.target_columns.end() ||
         (d.target_columns.empty() && d.train_targets.empty() && d.weight_column == d.label_column))) {
      fail(join(where, "weight_column"), fmt::format("column {} is also the label or a target column, expected a "
                                                     "column of its own",
                                                     d.weight_column));
    }
    if (d.test_targets.size() && d.test_csv.empty()) fail(join(where, "test_targets"), "given without \"test\"");
    if (d.test_csv.size() && d.train_targets.size() && d.test_targets.empty()) {
      fail(where, "expected \"test_targets\" beside \"test\" (the training targets are in \"train_targets\")");
    }
    if (v.contains("test_split")) {
      const std::string w = join(where, "test_split");
      d.test_split = number(v.at("test_split"), w, "a fraction greater than 0 and less than 1");
      if (!(d.test_split > 0 && d.test_split < 1))
        expected(w, "a fraction greater than 0 and less than 1", v.at("test_split"));
      if (v.contains("test")) fail(w, "given with \"test\": the test set is a file or a split, not both");
    }
    if (v.contains("split_seed")) {
      const Json& s = v.at("split_seed");
      if (!s.is_number_unsigned()) expected(join(where, "split_seed"), "an integer from 0 to 18446744073709551615", s);
      if (!v.contains("test_split")) fail(join(where, "split_seed"), "given without \"test_split\"");
      d.split_seed = s.get<uint64_t>();
    }
    if (v.contains("class_names")) {
      const Json& c = v.at("class_names");
      const std::string w = join(where, "class_names");
      if (!c.is_array() || c.empty() || c.size() > 1'000'000) expected(w, "an array of class names", c);
      for (size_t i = 0; i < c.size(); ++i) d.class_names.push_back(string(c[i], index(w, i), "a class name"));
    }
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
    if (fp.is_relative()) fp = fs::path(file()).parent_path() / fp;
    return fp.lexically_normal().string();
  }

  ModelFile model(const Json& root) const {
    if (!root.is_object()) expected("", "a JSON object at the top level", root);
    check_keys(root, "",
               {"version", "description", "inputs", "layers", "graph", "loss", "optimizer", "data", "training"});
    ModelFile m;
    m.path = file();
    if (root.contains("version")) integer(root.at("version"), "version", 1, 1);
    if (root.contains("description") && !root.at("description").is_string()) {
      expected("description", "a string", root.at("description"));
    }
    read_network(*this, root, m);

    if (root.contains("loss")) loss(root.at("loss"), m);
    const LayerSpec& out = output_layer(m);
    const char* where = m.graph_form ? "output node" : "last layer";
    if (m.loss == "cross_entropy" && out.activation != "softmax") {
      expected(join(out.where, "activation"), fmt::format("\"softmax\" on the {} with the cross_entropy loss", where),
               Json(out.activation));
    }
    if (m.loss == "binary_cross_entropy" && out.activation != "sigmoid") {
      expected(join(out.where, "activation"),
               fmt::format("\"sigmoid\" on the {} with the binary_cross_entropy loss", where), Json(out.activation));
    }

    if (root.contains("optimizer")) optimizer(root.at("optimizer"), m);
    if (plugins()) {
      const LoadedOptimizer* o = plugins()->find_optimizer(m.optimizer);
      if (!o) {
        std::vector<std::string> known;
        for (const LoadedOptimizer* k : plugins()->optimizers()) known.emplace_back(k->entry->name);
        const bool named = root.contains("optimizer") && root.at("optimizer").is_object();
        fail(named ? "optimizer.name" : "optimizer",
             fmt::format("expected an optimizer, one of {}, got {}{} (another plugin's? load its folder with "
                         "--plugin-dir or GRAPHRUN_PLUGIN_PATH)",
                         join_names(known), describe(Json(m.optimizer)), did_you_mean(m.optimizer, known)));
      }
      resolve_params(o->entry->hyper, o->entry->n_hyper, m.optimizer_params, fmt::format("{}: optimizer", file()));
    }

    if (root.contains("data")) m.data = data(root.at("data"), "data");
    const int64_t units = output_layer(m).units;
    if (m.loss == "binary_cross_entropy" && !m.class_weights.empty() && (units != 1 || m.class_weights.size() != 2)) {
      fail("loss.class_weights",
           units != 1 ? fmt::format("given for {} labels: binary_cross_entropy takes class_weights [w0, w1] for one "
                                    "output only; weigh each label's positives with \"pos_weight\"",
                                    units)
                      : fmt::format("{} weights for a binary output, expected [w0, w1]", m.class_weights.size()));
    }
    if (m.loss == "cross_entropy" && !m.class_weights.empty() && m.class_weights.size() != static_cast<size_t>(units)) {
      fail("loss.class_weights", fmt::format("{} weights for the last layer's {} units, expected one per class",
                                             m.class_weights.size(), units));
    }
    if (m.pos_weight.size() > 1 && m.pos_weight.size() != static_cast<size_t>(units)) {
      fail("loss.pos_weight", fmt::format("{} weights for the last layer's {} units, expected one per label (or one "
                                          "number for all)",
                                          m.pos_weight.size(), units));
    }
    if (m.data && !m.data->class_names.empty() &&
        m.data->class_names.size() != static_cast<size_t>(output_layer(m).units)) {
      fail("data.class_names", fmt::format("{} names for the last layer's {} units, expected one per unit",
                                           m.data->class_names.size(), output_layer(m).units));
    }

    if (root.contains("training")) {
      const Json& t = root.at("training");
      check_keys(t, "training",
                 {"epochs", "batch_size", "shuffle", "seed", "validation_split", "early_stopping",
                  "learning_rate_schedule", "init_from", "clip_norm", "clip_value", "augment"});
      Json practice = Json::object();
      for (const char* k : {"validation_split", "early_stopping", "learning_rate_schedule", "init_from", "clip_norm",
                            "clip_value", "augment"}) {
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
    for (const char* k : {"inputs", "layers", "graph", "loss", "optimizer"}) {
      if (root.contains(k)) canonical[k] = root.at(k);
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : canonical.dump()) h = (h ^ c) * 0x100000001b3ull;
    m.model_hash = h;
    return m;
  }

  // "loss": a name, or {"name": "huber", "delta": 1.0}.
  void loss(const Json& v, ModelFile& m) const {
    static const std::vector<std::string> names = {"cross_entropy",
                                                   "sparse_categorical_crossentropy",
                                                   "categorical_crossentropy",
                                                   "mse",
                                                   "mean_squared_error",
                                                   "mae",
                                                   "mean_absolute_error",
                                                   "huber",
                                                   "binary_cross_entropy",
                                                   "binary_crossentropy"};
    const Json* name = &v;
    std::string where = "loss";
    if (v.is_object()) {
      check_keys(v, "loss", {"name", "delta", "label_smoothing", "class_weights", "pos_weight"});
      if (!v.contains("name")) fail("loss", "expected \"name\" (a loss name)");
      name = &v.at("name");
      where = "loss.name";
    }
    const std::string n = one_of(*name, where, names);
    m.loss = n == "mean_squared_error"                                                   ? "mse"
             : n == "mean_absolute_error"                                                ? "mae"
             : n == "binary_crossentropy"                                                ? "binary_cross_entropy"
             : n == "sparse_categorical_crossentropy" || n == "categorical_crossentropy" ? "cross_entropy"
                                                                                         : n;
    if (v.is_object() && v.contains("label_smoothing")) {
      if (m.loss != "cross_entropy") fail("loss.label_smoothing", "given for a loss other than \"cross_entropy\"");
      m.label_smoothing = number(v.at("label_smoothing"), "loss.label_smoothing", "a number >= 0 and < 1");
      if (!(m.label_smoothing >= 0 && m.label_smoothing < 1)) {
        expected("loss.label_smoothing", "a number >= 0 and < 1", v.at("label_smoothing"));
      }
    }
    if (v.is_object() && v.contains("class_weights")) {
      const Json& w = v.at("class_weights");
      if (m.loss != "cross_entropy" && m.loss != "binary_cross_entropy") {
        fail("loss.class_weights", "given for a loss other than \"cross_entropy\" or \"binary_cross_entropy\"");
      }
      if (!w.is_array() || w.empty() || w.size() > 1'000'000)
        expected("loss.class_weights", "an array of weights > 0, one per class", w);
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string wi = "loss.class_weights[" + std::to_string(i) + "]";
        const double x = number(w[i], wi, "a finite number > 0");
        if (!(x > 0)) expected(wi, "a finite number > 0", w[i]);
        m.class_weights.push_back(x);
      }
    }
    if (v.is_object() && v.contains("pos_weight")) {
      const Json& w = v.at("pos_weight");
      if (m.loss != "binary_cross_entropy")
        fail("loss.pos_weight", "given for a loss other than \"binary_cross_entropy\"");
      const char* what = "a weight > 0, or an array of them, one per label";
      if (w.is_number()) {
        const double x = number(w, "loss.pos_weight", what);
        if (!(x > 0)) expected("loss.pos_weight", what, w);
        m.pos_weight.push_back(x);
      } else {
        if (!w.is_array() || w.empty() || w.size() > 1'000'000) expected("loss.pos_weight", what, w);
        for (size_t i = 0; i < w.size(); ++i) {
          const std::string wi = "loss.pos_weight[" + std::to_string(i) + "]";
          const double x = number(w[i], wi, "a finite number > 0");
          if (!(x > 0)) expected(wi, "a finite number > 0", w[i]);
          m.pos_weight.push_back(x);
        }
      }
    }
    if (v.is_object() && v.contains("delta")) {
      if (m.loss != "huber") fail("loss.delta", "given for a loss other than \"huber\"");
      m.huber_delta = number(v.at("delta"), "loss.delta", "a finite number > 0");
      if (!(m.huber_delta > 0)) expected("loss.delta", "a finite number > 0", v.at("delta"));
    }
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

const LayerSpec& output_layer(const ModelFile& m) {
  for (const LayerSpec& l : m.layers) {
    if (l.name == m.outputs.at(0)) return l;
  }
  throw Error(ErrorKind::Internal, fmt::format("{}: no output layer", m.path));
}

}  // namespace graphrun::io
