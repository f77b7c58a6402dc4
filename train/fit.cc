#include "train/fit.h"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/safetensors.h"

namespace graphrun::train {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void write_text(const std::string& path, const std::string& text) {
  io::write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::string cell(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }

}  // namespace

io::Dataset split_validation(io::Dataset& data, double fraction, uint64_t seed) {
  io::Dataset val;
  if (fraction == 0) return val;
  const int64_t n = data.size();
  const int64_t nv = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
  if (!(fraction > 0 && fraction < 1) || nv < 1 || nv >= n) {
    throw Error(ErrorKind::BadInput,
                fmt::format("validation_split {} of {} samples leaves {} for validation and {} for "
                            "training; both need at least one",
                            fraction, n, nv, n - nv));
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed_for(seed, "validation split"));
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  // take_rows keeps labels and float targets with their rows.
  auto take = [&](int64_t begin, int64_t end) {
    return io::take_rows(
        data, std::span<const int64_t>(order).subspan(static_cast<size_t>(begin), static_cast<size_t>(end - begin)),
        "the validation split");
  };
  val = take(n - nv, n);
  data = take(0, n - nv);
  return val;
}

void write_history_csv(const std::string& path, const std::vector<HistoryRow>& rows) {
  // The validation metrics of the first row name their columns (every row has the same), after
  // val_accuracy; seconds stays the last column.
  std::string s = "epoch,loss,accuracy,val_loss,val_accuracy";
  if (!rows.empty()) {
    for (const auto& [name, value] : rows[0].val_metrics) s += prefixed(",val_", name);
  }
  s += ",lr,seconds\n";
  for (const HistoryRow& r : rows) {
    s += fmt::format("{},{},{},{},{}", r.epoch, cell(r.loss), cell(r.accuracy), cell(r.val_loss), cell(r.val_accuracy));
    for (const auto& [name, value] : r.val_metrics) {
      s += ',';
      s += cell(value);
    }
    s += fmt::format(",{},{}\n", cell(r.lr), cell(r.seconds));
  }
  write_text(path, s);
}

void write_history_json(const std::string& path, const std::vector<HistoryRow>& rows) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  for (const HistoryRow& r : rows) {
    nlohmann::ordered_json row = {{"epoch", r.epoch},
                                  {"loss", num(r.loss)},
                                  {"accuracy", num(r.accuracy)},
                                  {"val_loss", num(r.val_loss)},
                                  {"val_accuracy", num(r.val_accuracy)},
                                  {"lr", num(r.lr)},
                                  {"seconds", num(r.seconds)}};
    for (const auto& [name, value] : r.val_metrics) row[prefixed("val_", name)] = num(value);
    j.push_back(std::move(row));
  }
  write_text(path, j.dump(2) + "\n");
}

std::vector<HistoryRow> read_history_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::BadInput, path + ": cannot open the history file");
  const nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
  if (!j.is_array()) throw Error(ErrorKind::BadInput, path + ": expected a JSON array of epochs");
  std::vector<HistoryRow> rows;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& e = j[i];
    if (!e.is_object() || !e.contains("epoch") || !e["epoch"].is_number_integer()) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: [{}]: expected an object with an integer \"epoch\"", path, i));
    }
    auto num = [&](const char* k) { return e.contains(k) && e[k].is_number() ? e[k].get<double>() : kNaN; };
    HistoryRow r;
    r.epoch = e["epoch"].get<int64_t>();
    r.loss = num("loss");
    r.accuracy = num("accuracy");
    r.val_loss = num("val_loss");
    r.val_accuracy = num("val_accuracy");
    r.lr = num("lr");
    r.seconds = num("seconds");
    rows.push_back(r);
  }
  return rows;
}

std::vector<HistoryRow> read_history_csv(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(ErrorKind::BadInput, path + ": cannot open the history file");
  std::string line;
  if (!std::getline(f, line)) throw Error(ErrorKind::BadInput, path + ": empty history file; expected a header line");
  std::vector<std::string> cols;
  {
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cols.push_back(c);
  }
  for (const char* required : {"epoch", "loss"}) {
    if (std::find(cols.begin(), cols.end(), required) == cols.end()) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}:1: not a history file: the header has no \"{}\" column (expected "
                              "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds), got \"{}\"",
                              path, required, line.substr(0, 60)));
    }
  }
  std::vector<HistoryRow> rows;
  int64_t line_no = 1;
  while (std::getline(f, line)) {
    ++line_no;
    if (line.empty()) continue;
    HistoryRow r;
    r.val_loss = r.val_accuracy = r.loss = r.accuracy = r.lr = r.seconds = kNaN;
    r.epoch = static_cast<int64_t>(rows.size()) + 1;
    std::stringstream ss(line);
    std::string c;
    for (size_t i = 0; std::getline(ss, c, ','); ++i) {
      if (i >= cols.size() || c.empty()) continue;
      char* end = nullptr;
      const double v = std::strtod(c.c_str(), &end);
      if (end == c.c_str() || *end != '\0') {
        throw Error(ErrorKind::BadInput,
                    fmt::format("{}:{}: column {}: expected a number, got \"{}\"", path, line_no, cols[i], c));
      }
      const std::string& k = cols[i];
      if (k == "epoch")
        r.epoch = static_cast<int64_t>(v);
      else if (k == "loss")
        r.loss = v;
      else if (k == "accuracy")
        r.accuracy = v;
      else if (k == "val_loss")
        r.val_loss = v;
      else if (k == "val_accuracy")
        r.val_accuracy = v;
      else if (k == "lr")
        r.lr = v;
      else if (k == "seconds")
        r.seconds = v;
    }
    rows.push_back(r);
  }
  if (rows.empty()) throw Error(ErrorKind::BadInput, path + ": the history has no epochs");
  return rows;
}

double monitored(const HistoryRow& row, const std::string& monitor) {
  if (monitor == "loss") return row.loss;
  if (monitor == "accuracy") return row.accuracy;
  if (monitor == "val_loss") return row.val_loss;
  if (monitor == "val_accuracy") return row.val_accuracy;
  for (const auto& [name, value] : row.val_metrics) {
    if (monitor == prefixed("val_", name)) return value;
  }
  if (monitor.starts_with("val_")) return kNaN;  // a metric this model's loss does not give (or no validation set)
  throw Error(ErrorKind::BadInput,
              "unknown monitor \"" + monitor + "\"; expected val_loss, val_accuracy, loss, accuracy or val_<metric>");
}

EarlyStopper::EarlyStopper(TrainConfig::EarlyStopping config) : c_(std::move(config)) {}

bool EarlyStopper::update(int64_t epoch, double value, const ParameterStore& params) {
  const double v = higher_is_better(c_.monitor) ? -value : value;
  if (best_epoch_ == 0 || v < best_ - c_.min_delta) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (c_.restore_best_weights) {
      best_params_.resize(params.size());
      for (size_t i = 0; i < params.size(); ++i) best_params_[i] = params.tensor(i);
    }
    return false;
  }
  return ++wait_ >= c_.patience;
}

bool EarlyStopper::restore(ParameterStore& params) const {
  if (!c_.restore_best_weights || best_params_.size() != params.size()) return false;
  for (size_t i = 0; i < params.size(); ++i) params.assign(params.name(i), best_params_[i], "early stopping");
  return true;
}

void EarlyStopper::save(FitState& s) const {
  s.stop_best = best_;
  s.stop_best_epoch = best_epoch_;
  s.stop_wait = wait_;
  s.best_params = best_params_;
}

void EarlyStopper::restore(const FitState& s) {
  best_ = s.stop_best;
  best_epoch_ = s.stop_best_epoch;
  wait_ = s.stop_wait;
  best_params_ = s.best_params;
}

std::string EarlyStopper::reason() const {
  const double best = higher_is_better(c_.monitor) ? -best_ : best_;
  return fmt::format("early stopping: {} did not improve by more than {} for {} epochs (best {:.4f} at epoch {})",
                     c_.monitor, c_.min_delta, c_.patience, best, best_epoch_);
}

FitResult fit(Trainer& trainer, ParameterStore& params, const io::Dataset& train, const io::Dataset& val,
              const FitHooks& hooks, int64_t start_batch) {
  const TrainConfig& cfg = trainer.config();
  const bool has_val = val.size() > 0;
  auto check_monitor = [&](const std::string& monitor, const std::string& what) {
    monitored(HistoryRow{}, monitor);  // throws on an unknown name
    if (monitor.starts_with("val_") && !has_val) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: {}.monitor \"{}\" needs a validation set (training.validation_split)", cfg.context,
                              what, monitor));
    }
  };
  if (cfg.early_stopping.enabled) check_monitor(cfg.early_stopping.monitor, "training.early_stopping");
  if (cfg.schedule.plateau.enabled)
    check_monitor(cfg.schedule.plateau.monitor, "training.learning_rate_schedule.reduce_on_plateau");

  const int64_t steps_per_epoch = (train.size() + cfg.batch_size - 1) / cfg.batch_size;
  LrSchedule schedule(cfg.schedule, trainer.optimizer().learning_rate(), steps_per_epoch, cfg.epochs);
  double last_lr = trainer.optimizer().learning_rate();
  if (cfg.schedule.active()) {
    trainer.set_step_hook([&](uint64_t step, Optimizer& opt) {
      last_lr = schedule.lr(step);
      opt.set_learning_rate(last_lr);
    });
  }
  struct Unhook {
    Trainer& t;
    ~Unhook() { t.set_step_hook({}); }
  } unhook{trainer};

  EarlyStopper stopper(cfg.early_stopping);
  if (hooks.resume) {
    schedule.restore(*hooks.resume);
    stopper.restore(*hooks.resume);
  }
  FitResult result;
  // A checkpoint written by the epoch that triggered early stopping: that run was done.
  const bool already_stopped = cfg.early_stopping.enabled && hooks.resume && hooks.resume->stop_best_epoch > 0 &&
                               hooks.resume->stop_wait >= cfg.early_stopping.patience;
  if (already_stopped) {
    result.stopped_early = true;
    result.stop_reason = stopper.reason();
  }
  for (int64_t e = trainer.epoch(); e < cfg.epochs && !already_stopped; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    BatchCallback on_batch;
    if (hooks.on_batch) {
      on_batch = [&](int64_t done, int64_t total, double loss, double acc) {
        hooks.on_batch(e + 1, done, total, loss, acc);
      };
    }
    const EpochResult r = trainer.train_epoch(train, start_batch, on_batch);
    start_batch = 0;
    HistoryRow row;
    row.epoch = e + 1;
    row.loss = r.loss;
    row.accuracy = r.accuracy;
    row.samples_per_second = r.samples_per_second;
    row.val_loss = row.val_accuracy = kNaN;
    if (has_val) {
      const Evaluation ev = trainer.evaluate(val);
      row.val_loss = ev.loss;
      row.val_accuracy = ev.accuracy;
      row.val_metrics = metric_values(ev.metrics);
    }
    row.lr = last_lr;
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.history.push_back(row);
    // A validation metric the loss does not give (val_r2 of a classifier, val_accuracy of a
    // regression) is known only now.
    auto require = [&](bool enabled, const std::string& monitor, const char* what) {
      if (enabled && has_val && monitor.starts_with("val_") && std::isnan(monitored(row, monitor))) {
        std::string given = "val_loss";
        if (!std::isnan(row.val_accuracy)) given += ", val_accuracy";
        for (const auto& [name, value] : row.val_metrics) given += prefixed(", val_", name);
        throw Error(ErrorKind::BadInput,
                    fmt::format("{}: {}.monitor \"{}\": this model's loss does not give it; expected "
                                "one of {}",
                                cfg.context, what, monitor, given));
      }
    };
    require(cfg.early_stopping.enabled, cfg.early_stopping.monitor, "training.early_stopping");
    require(cfg.schedule.plateau.enabled, cfg.schedule.plateau.monitor,
            "training.learning_rate_schedule.reduce_on_plateau");
    if (cfg.schedule.plateau.enabled) schedule.end_epoch(monitored(row, cfg.schedule.plateau.monitor));
    const bool stop =
        cfg.early_stopping.enabled && stopper.update(row.epoch, monitored(row, cfg.early_stopping.monitor), params);
    if (hooks.state) {
      schedule.save(*hooks.state);
      stopper.save(*hooks.state);
    }
    if (hooks.on_epoch) hooks.on_epoch(row);
    if (stop) {
      result.stopped_early = true;
      result.stop_reason = stopper.reason();
      break;
    }
  }
  if (cfg.early_stopping.enabled) {
    result.best_epoch = stopper.best_epoch();
    const int64_t last = result.history.empty() ? 0 : result.history.back().epoch;
    if (stopper.best_epoch() != last && stopper.restore(params)) {
      result.restored_best = true;
      if (!result.stop_reason.empty())
        result.stop_reason += fmt::format("; restored the weights of epoch {}", stopper.best_epoch());
    }
  }
  return result;
}

int64_t load_layers(const std::string& weights_path, const std::vector<std::string>& layers, ParameterStore& params,
                    const std::string& context) {
  const io::SafetensorsFile file = io::read_safetensors(weights_path);
  int64_t copied = 0;
  for (const std::string& layer : layers) {
    bool any = false;
    for (const char* suffix : {".weight", ".bias", ".gamma", ".beta", ".running_mean", ".running_var"}) {
      const std::string name = layer + suffix;
      if (!params.contains(name)) continue;
      any = true;
      const Tensor* found = nullptr;
      for (const auto& [n, t] : file.tensors) {
        if (n == name) found = &t;
      }
      if (!found)
        throw Error(ErrorKind::BadInput,
                    fmt::format("{}: init_from: {} has no tensor \"{}\"", context, weights_path, name));
      params.assign(name, *found, fmt::format("{}: init_from: {}: {}", context, weights_path, name));
      ++copied;
    }
    if (!any)
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: init_from.layers: the model has no layer \"{}\"", context, layer));
  }
  return copied;
}

}  // namespace graphrun::train
