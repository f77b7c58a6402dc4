#include "train/model_file.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "train/metrics.h"

namespace graphrun::train {
namespace {

using Json = nlohmann::ordered_json;

// Reads the training-practice keys (io::ModelFile::training_practice); errors name the file
// and the JSON path: "m.json: training.early_stopping.patience: expected ..., got ...".
class PracticeReader {
 public:
  explicit PracticeReader(const std::string& file) : file_(file) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(ErrorKind::BadInput, fmt::format("{}: training.{}: {}", file_, where, what));
  }
  [[noreturn]] void expected(const std::string& where, const std::string& what, const Json& got) const {
    fail(where, fmt::format("expected {}, got {}", what, got.dump()));
  }
  void keys(const Json& v, const std::string& where, std::initializer_list<const char*> allowed) const {
    if (!v.is_object()) expected(where, "an object", v);
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool ok = false;
      std::string list;
      for (const char* a : allowed) {
        ok = ok || it.key() == a;
        list += (list.empty() ? "" : ", ") + std::string(a);
      }
      if (!ok) fail(where + "." + it.key(), "unknown key; expected one of: " + list);
    }
  }
  double number(const Json& v, const std::string& where, double lo, double hi, bool open_lo = false) const {
    const std::string want = fmt::format("a number {} {} and <= {}", open_lo ? ">" : ">=", lo, hi);
    if (!v.is_number()) expected(where, want, v);
    const double d = v.get<double>();
    if (!std::isfinite(d) || d > hi || (open_lo ? d <= lo : d < lo)) expected(where, want, v);
    return d;
  }
  int64_t integer(const Json& v, const std::string& where, int64_t lo, int64_t hi) const {
    const std::string want = fmt::format("an integer from {} to {}", lo, hi);
    if (!v.is_number_integer()) expected(where, want, v);
    const int64_t i = v.get<int64_t>();
    if (i < lo || i > hi) expected(where, want, v);
    return i;
  }
  std::string one_of(const Json& v, const std::string& where, std::initializer_list<const char*> names) const {
    return one_of(v, where, std::vector<std::string>(names.begin(), names.end()));
  }
  std::string one_of(const Json& v, const std::string& where, const std::vector<std::string>& names) const {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    if (v.is_string()) {
      for (const std::string& n : names) {
        if (v.get<std::string>() == n) return n;
      }
    }
    expected(where, "one of " + list, v);
  }
  bool boolean(const Json& v, const std::string& where) const {
    if (!v.is_boolean()) expected(where, "true or false", v);
    return v.get<bool>();
  }

  // val_loss, val_accuracy, loss and every validation metric (train/metrics.h) as val_<name>.
  static std::vector<std::string> monitors() {
    std::vector<std::string> m = {"val_loss", "val_accuracy", "loss"};
    for (const std::string& name : metric_names()) m.push_back(prefixed("val_", name));
    return m;
  }

  void read(const Json& t, const std::vector<io::InputSpec>& inputs, TrainConfig& c) const {
    if (t.contains("augment")) read_augment(t.at("augment"), inputs, c.augment);
    if (t.contains("clip_norm")) c.clip_norm = number(t.at("clip_norm"), "clip_norm", 0, 1e9, true);
    if (t.contains("clip_value")) c.clip_value = number(t.at("clip_value"), "clip_value", 0, 1e9, true);
    if (t.contains("validation_split"))
      c.validation_split = number(t.at("validation_split"), "validation_split", 0, 0.9);
    if (t.contains("early_stopping")) {
      const Json& v = t.at("early_stopping");
      const std::string w = "early_stopping";
      keys(v, w, {"monitor", "patience", "min_delta", "restore_best_weights"});
      c.early_stopping.enabled = true;
      if (v.contains("monitor")) c.early_stopping.monitor = one_of(v.at("monitor"), w + ".monitor", monitors());
      if (v.contains("patience")) c.early_stopping.patience = integer(v.at("patience"), w + ".patience", 1, 1'000'000);
      if (v.contains("min_delta")) c.early_stopping.min_delta = number(v.at("min_delta"), w + ".min_delta", 0, 1e9);
      if (v.contains("restore_best_weights")) {
        c.early_stopping.restore_best_weights = boolean(v.at("restore_best_weights"), w + ".restore_best_weights");
      }
    }
    if (t.contains("learning_rate_schedule")) {
      const Json& v = t.at("learning_rate_schedule");
      const std::string w = "learning_rate_schedule";
      keys(v, w,
           {"schedule", "warmup_steps", "warmup_epochs", "step_size", "gamma", "min_lr", "decay_epochs",
            "reduce_on_plateau"});
      ScheduleConfig& s = c.schedule;
      if (v.contains("schedule")) {
        s.kind = parse_schedule_kind(
            one_of(v.at("schedule"), w + ".schedule", {"constant", "step", "exponential", "cosine"}), w);
      }
      if (v.contains("warmup_steps") && v.contains("warmup_epochs"))
        fail(w, "give warmup_steps or warmup_epochs, not both");
      if (v.contains("warmup_steps"))
        s.warmup_steps = integer(v.at("warmup_steps"), w + ".warmup_steps", 0, 1'000'000'000);
      if (v.contains("warmup_epochs")) s.warmup_epochs = number(v.at("warmup_epochs"), w + ".warmup_epochs", 0, 1e6);
      if (v.contains("step_size")) s.step_size = integer(v.at("step_size"), w + ".step_size", 1, 1'000'000);
      if (v.contains("gamma")) s.gamma = number(v.at("gamma"), w + ".gamma", 0, 1, true);
      if (v.contains("min_lr")) s.min_lr = number(v.at("min_lr"), w + ".min_lr", 0, 1e6);
      if (v.contains("decay_epochs")) s.decay_epochs = integer(v.at("decay_epochs"), w + ".decay_epochs", 1, 1'000'000);
      if (v.contains("reduce_on_plateau")) {
        const Json& p = v.at("reduce_on_plateau");
        const std::string pw = w + ".reduce_on_plateau";
        keys(p, pw, {"monitor", "factor", "patience", "min_delta", "min_lr"});
        s.plateau.enabled = true;
        if (p.contains("monitor")) s.plateau.monitor = one_of(p.at("monitor"), pw + ".monitor", monitors());
        if (p.contains("factor")) {
          s.plateau.factor = number(p.at("factor"), pw + ".factor", 0, 1, true);
          if (s.plateau.factor >= 1) expected(pw + ".factor", "a number > 0 and < 1", p.at("factor"));
        }
        if (p.contains("patience")) s.plateau.patience = integer(p.at("patience"), pw + ".patience", 1, 1'000'000);
        if (p.contains("min_delta")) s.plateau.min_delta = number(p.at("min_delta"), pw + ".min_delta", 0, 1e9);
        if (p.contains("min_lr")) s.plateau.min_lr = number(p.at("min_lr"), pw + ".min_lr", 0, 1e6);
      }
    }
    if (t.contains("init_from")) {
      const Json& v = t.at("init_from");
      keys(v, "init_from", {"weights", "layers"});
      if (!v.contains("weights") || !v.at("weights").is_string() || v.at("weights").get<std::string>().empty()) {
        fail("init_from.weights", "expected a safetensors file path");
      }
      std::filesystem::path p(v.at("weights").get<std::string>());
      if (p.is_relative()) p = std::filesystem::path(file_).parent_path() / p;
      c.init_from.weights = p.lexically_normal().string();
      if (!v.contains("layers") || !v.at("layers").is_array() || v.at("layers").empty()) {
        fail("init_from.layers", "expected a non-empty array of layer names");
      }
      for (size_t i = 0; i < v.at("layers").size(); ++i) {
        const Json& n = v.at("layers")[i];
        if (!n.is_string()) expected(fmt::format("init_from.layers[{}]", i), "a layer name", n);
        c.init_from.layers.push_back(n.get<std::string>());
      }
    }
  }

  // {"horizontal_flip": b, "shift": pixels}: needs the model's one input to be an image.
  void read_augment(const Json& v, const std::vector<io::InputSpec>& inputs, AugmentConfig& a) const {
    keys(v, "augment", {"horizontal_flip", "shift"});
    if (inputs.size() != 1 || inputs[0].shape.size() != 3) {
      std::string shape;
      for (const io::InputSpec& in : inputs) shape += (shape.empty() ? "" : ", ") + Json(in.shape).dump();
      fail("augment",
           "needs one image input with a per-sample shape [channels, height, width]; the model's "
           "inputs are " +
               shape);
    }
    a.image = inputs[0].shape;
    if (v.contains("horizontal_flip")) a.horizontal_flip = boolean(v.at("horizontal_flip"), "augment.horizontal_flip");
    if (v.contains("shift")) {
      a.shift = integer(v.at("shift"), "augment.shift", 0, std::min(a.image[1], a.image[2]) / 2);
    }
  }

 private:
  std::string file_;
};

}  // namespace

NetworkSpec to_network_spec(const io::ModelFile& m) {
  NetworkSpec spec;
  spec.inputs = m.graph_inputs;
  spec.nodes = m.layers;
  spec.outputs = m.outputs;
  spec.loss = parse_loss(m.loss, m.path + ": loss");
  spec.huber_delta = static_cast<float>(m.huber_delta);
  spec.label_smoothing = static_cast<float>(m.label_smoothing);
  spec.class_weights.assign(m.class_weights.begin(), m.class_weights.end());
  spec.pos_weight.assign(m.pos_weight.begin(), m.pos_weight.end());
  spec.sample_weights = m.data && m.data->weight_column >= 0;
  spec.context = m.path;
  return spec;
}

TrainConfig to_train_config(const io::ModelFile& m) {
  TrainConfig c;
  c.epochs = m.epochs;
  c.batch_size = m.batch_size;
  c.shuffle = m.shuffle;
  c.seed = m.seed;
  c.optimizer = m.optimizer;
  c.optimizer_params = m.optimizer_params;
  c.learning_rate = m.learning_rate;
  c.context = m.path;
  PracticeReader(m.path).read(Json::parse(m.training_practice), m.graph_inputs, c);
  return c;
}

}  // namespace graphrun::train
