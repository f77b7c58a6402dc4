// graphrun train: fit a model file's network on its data, with checkpoints per epoch and
// every --checkpoint-every steps (train_files.h), stopping cleanly on SIGINT/SIGTERM.
#include <unistd.h>
#include <memory>

#include <fmt/format.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backends/registry.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/distributed.h"
#include "tools/graphrun/interrupt.h"
#include "tools/graphrun/memory_budget.h"
#include "tools/graphrun/out_folder.h"
#include "tools/graphrun/session.h"
#include "tools/graphrun/train_files.h"
#include "train/checkpoint.h"
#include "train/fit.h"
#include "train/model_file.h"

namespace graphrun::tool {
namespace {

std::string eta(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  return s >= 60 ? fmt::format("{}m{:02}s", s / 60, s % 60) : fmt::format("{}s", s);
}

// A checkpoint written inside an epoch carries the epoch's running sums; they must describe
// `batch` batches of this run's size over this data, or the epoch's figures would be wrong.
void resume_mid_epoch(const train::Checkpoint& c, int64_t batch_size, int64_t samples, train::Trainer& trainer) {
  const train::TrainingState& st = c.state;
  const int64_t expected = std::min(samples, st.batch * batch_size);
  if (st.epoch_seen != expected) {
    throw Error(
        ErrorKind::BadInput,
        fmt::format("{}: __metadata__.epoch_seen is {}, but {} batches of {} of these {} samples are {}: resume "
                    "with the batch size and data the checkpoint was written with",
                    c.path, st.epoch_seen, st.batch, batch_size, samples, expected));
  }
  trainer.resume_progress({st.batch, st.epoch_loss_sum, st.epoch_correct, st.epoch_seen, 0.0f});
}

// Whether `file` lies directly in folder `dir`.
bool in_folder(const std::string& file, const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::absolute(file, ec).parent_path();
  return std::filesystem::equivalent(parent, dir, ec);
}

// Everything a run is made of, filled step by step by the functions below (in their order).
struct Run {
  Run(const TrainArgs& args, PluginRegistry& registry) : a(args), plugins(registry) {}
  const TrainArgs& a;
  PluginRegistry& plugins;
  std::unique_ptr<Session> s;
  std::optional<train::Checkpoint> ckpt;
  int64_t arena_budget = 0;
  bool replaces_earlier = false;  // the --out folder holds another run's results
  train::TrainConfig cfg;
  io::Dataset train_set, test_set, val_set;
  std::unique_ptr<train::Trainer> trainer;
  double base_learning_rate = 0;  // configured (model file, --lr, a resumed checkpoint's; else the plugin's default)
  io::Scaler scaler;
  int64_t start_batch = 0;
  train::FitState fit_state;  // reduce-on-plateau and early stopping: the checkpoint's, then fit()'s
};

// Usage errors that need no file read, found before any work.
void check_arguments(const TrainArgs& a) {
  backends::check_name(a.common.backend);
  if (a.checkpoint_every > 0 && a.out_dir.empty()) {
    throw Error(ErrorKind::BadInput, "--checkpoint-every needs --out (the folder of the checkpoint)");
  }
  if (!a.metrics_out.empty()) {
    const std::filesystem::path folder = std::filesystem::path(a.metrics_out).parent_path();
    std::error_code ec;
    if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("--metrics-out {}: no such folder {}", a.metrics_out, folder.string()));
    }
  }
}

// A resumed run without --out writes into its checkpoint's folder (where its history is).
TrainArgs with_default_out(const TrainArgs& args) {
  TrainArgs a = args;
  if (!a.resume.empty() && a.out_dir.empty()) {
    const std::filesystem::path folder = std::filesystem::path(a.resume).parent_path();
    a.out_dir = folder.empty() ? "." : folder.string();
    a.out_from_resume = true;
  }
  return a;
}

// The model file, its memory check and the checkpoint (whose metadata decides the seed, so it
// is read before anything is built), then the session.
void open_model_and_checkpoint(Run& r) {
  const TrainArgs& a = r.a;
  if (is_onnx(a.model)) {
    throw Error(ErrorKind::BadInput, a.model +
                                         ": an ONNX model has no training data: `graphrun import` it, then add "
                                         "a \"data\" section to the model.json it writes");
  }
  io::ModelFile probe = io::read_model_file(a.model, &r.plugins);
  // Refuse a model too big for the memory limit before its parameters are allocated.
  const uint64_t limit = a.max_memory.empty() ? available_memory() : parse_bytes(a.max_memory, "--max-memory");
  if (limit > 0) {
    int64_t parameters = 0;
    const train::Model shape_only = train::build_network(train::to_network_spec(probe), r.plugins);
    for (NodeId id : shape_only.graph.parameters()) parameters += shape_only.graph.shape(id).numel();
    r.arena_budget = check_parameter_memory(a.model, parameters, r.plugins.optimizer(probe.optimizer), limit,
                                            a.max_memory.empty() ? "the available memory" : "--max-memory");
  }
  uint64_t seed = a.seed.value_or(probe.seed);
  if (!a.resume.empty()) {
    require_file(a.resume, "--resume");
    r.ckpt = train::read_checkpoint(a.resume, probe.model_hash);
    if (a.seed && *a.seed != r.ckpt->state.seed) {
      throw Error(ErrorKind::BadInput, fmt::format("--seed {} differs from the checkpoint's seed {} ({})", *a.seed,
                                                   r.ckpt->state.seed, a.resume));
    }
    seed = r.ckpt->state.seed;
  }
  r.s = open_model(a.model, r.plugins, seed);
}

// A resumed run continues its checkpoint's folder; any other run replaces what the folder
// holds, and says so before it trains.
void announce_replaced_results(Run& r) {
  if (r.a.out_dir.empty() || (r.ckpt && in_folder(r.a.resume, r.a.out_dir))) return;
  const std::string earlier = describe_earlier_run(r.a.out_dir, r.s->file.model_hash);
  r.replaces_earlier = !earlier.empty();
  if (r.replaces_earlier) fmt::print("{}\n", earlier);
}

// The model file's training settings with the command line's overrides.
void configure(Run& r, Ranks& ranks) {
  const TrainArgs& a = r.a;
  train::TrainConfig& cfg = r.cfg;
  cfg = base_config(*r.s, a.common);
  cfg.max_arena_bytes = r.arena_budget;
  if (a.epochs) cfg.epochs = *a.epochs;
  if (a.batch_size) cfg.batch_size = *a.batch_size;
  if (a.learning_rate) cfg.learning_rate = *a.learning_rate;
  cfg.seed = ranks.agree(r.ckpt ? r.ckpt->state.seed : a.seed.value_or(cfg.seed));
  if (a.validation_split) cfg.validation_split = *a.validation_split;
  if (a.patience) {
    cfg.early_stopping.enabled = true;
    cfg.early_stopping.patience = *a.patience;
  }
  if (a.monitor) cfg.early_stopping.monitor = *a.monitor;
  if (a.schedule) cfg.schedule.kind = train::parse_schedule_kind(*a.schedule, "--schedule");
  if (a.warmup_steps) cfg.schedule.warmup_steps = *a.warmup_steps;
  // A schedule recomputes the rate from the step: the checkpoint's last rate is not the base.
  if (r.ckpt && !a.learning_rate && !cfg.schedule.active()) cfg.learning_rate = r.ckpt->state.learning_rate;
}

void load_data(Run& r) {
  r.train_set = load_train_set(*r.s, r.a.limit_train);
  r.test_set = load_test_set(*r.s, r.a.limit_test);
  r.val_set = train::split_validation(r.train_set, r.cfg.validation_split, r.cfg.seed);
}

// The trainer, and the starting point: pretrained layers, or the checkpoint's parameters,
// optimizer state, scaler and position; under mpirun rank 0's state everywhere. Then scales
// the data.
void build_trainer(Run& r, Ranks& ranks) {
  const TrainArgs& a = r.a;
  r.trainer = std::make_unique<train::Trainer>(r.s->model, r.s->params, r.cfg, r.plugins);
  r.base_learning_rate = r.trainer->optimizer().learning_rate();
  const train::TrainConfig& cfg = r.cfg;
  if (!cfg.init_from.weights.empty() && !r.ckpt) {
    require_file(cfg.init_from.weights, "training.init_from.weights");
    const int64_t copied = train::load_layers(cfg.init_from.weights, cfg.init_from.layers, r.s->params, a.model);
    fmt::print("init_from {}: {} tensors of {} layers\n", cfg.init_from.weights, copied, cfg.init_from.layers.size());
  }
  r.scaler = fit_model_scaler(*r.s, r.train_set);  // replaced by the checkpoint's when it has one
  if (r.ckpt) {
    const train::Checkpoint& c = *r.ckpt;
    train::restore_checkpoint(c, r.s->params, r.trainer->optimizer(), &r.scaler, &r.fit_state);
    check_weights_scaler(*r.s, r.scaler.offset.numel() > 0, r.scaler, a.resume);
    r.trainer->set_epoch(c.state.epoch);
    r.start_batch = c.state.batch;
    const int64_t batches = (r.train_set.size() + cfg.batch_size - 1) / cfg.batch_size;
    if (r.start_batch > batches) {
      throw Error(ErrorKind::BadInput,
                  fmt::format("{}: __metadata__.batch {} is past the end of an epoch ({} batches of {})", a.resume,
                              r.start_batch, batches, cfg.batch_size));
    }
    if (r.start_batch > 0 && c.state.has_epoch_sums)
      resume_mid_epoch(c, cfg.batch_size, r.train_set.size(), *r.trainer);
    fmt::print("resuming {} at epoch {} (step {})\n", a.resume, c.state.epoch + 1, c.state.step);
  }
  ranks.join(*r.trainer, r.s->model, r.s->params, r.scaler, r.start_batch);
  io::apply_scaler(r.scaler, r.train_set.features);
  if (r.test_set.size() > 0) io::apply_scaler(r.scaler, r.test_set.features);
  if (r.val_set.size() > 0) io::apply_scaler(r.scaler, r.val_set.features);
}

std::unique_ptr<TrainFiles> open_train_files(const Run& r) {
  if (!r.a.out_dir.empty()) {
    // Temporary files of a run that was killed mid-save (their process is gone).
    for (const char* base : {"checkpoint.safetensors", "weights.safetensors", "history.csv", "history.json"}) {
      io::remove_stale_temp_files(r.a.out_dir, base);
    }
  }
  train::TrainingState identity;
  identity.seed = r.cfg.seed;
  identity.optimizer = r.trainer->optimizer().name();
  identity.model_hash = r.s->file.model_hash;
  return std::make_unique<TrainFiles>(r.a.out_dir, r.a.checkpoint_every, identity, r.ckpt ? r.ckpt->state.step : 0,
                                      r.replaces_earlier, *r.trainer, r.s->params, r.scaler, r.fit_state);
}

void print_start(const Run& r) {
  // Float targets are one per output ("targets"); binary_cross_entropy's outputs are labels.
  const char* outputs = r.train_set.has_targets()
                            ? (r.s->model.loss_kind == train::Loss::BinaryCrossEntropy ? "labels" : "targets")
                            : "classes";
  fmt::print(
      "training {} on {} samples ({} features, {} {}), {} test samples; backend {}, {} threads, "
      "optimizer {} (lr {}), batch {}\n",
      r.a.model, r.train_set.size(), r.train_set.feature_count(), r.s->classes, outputs,
      r.val_set.size() > 0 ? fmt::format("{} validation samples, {}", r.val_set.size(), r.test_set.size())
                           : fmt::format("{}", r.test_set.size()),
      r.cfg.backend, r.trainer->pool().size(), r.trainer->optimizer().name(), r.trainer->optimizer().learning_rate(),
      r.cfg.batch_size);
  std::fflush(stdout);
}

// The progress line on a terminal (stderr): redrawn at most every 200 ms, with rate and ETA.
class ProgressLine {
 public:
  ProgressLine(int64_t epochs, int64_t batch_size) : epochs_(epochs), batch_size_(batch_size) {}
  bool shown() const { return tty_; }
  void update(int64_t epoch, int64_t done, int64_t total, double loss, double acc) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (epoch != epoch_) {
      epoch_ = epoch;
      first_done_ = done - 1;
      t0_ = now;
    }
    if (done != total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - t0_).count();
    const double rate = secs > 0 ? static_cast<double>((done - first_done_) * batch_size_) / secs : 0;
    const double left = rate > 0 ? static_cast<double>((total - done) * batch_size_) / rate : -1;
    std::fprintf(stderr, "\repoch %lld/%lld  %lld/%lld  loss %.4f  accuracy %.4f  %.0f samples/s  ETA %s   ",
                 static_cast<long long>(epoch), static_cast<long long>(epochs_), static_cast<long long>(done),
                 static_cast<long long>(total), loss, acc, rate, eta(left).c_str());
    std::fflush(stderr);
  }
  void clear() const {
    if (tty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  const bool tty_ = ::isatty(2) == 1;
  int64_t epochs_, batch_size_;
  int64_t epoch_ = -1, first_done_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now(), last_ = t0_;
};

// The epochs of this run: printed as they end, kept for the history files and metrics.json.
struct EpochLog {
  std::vector<train::HistoryRow> history;                         // with the resumed folder's earlier epochs first
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();  // this run's epochs only
  double seconds = 0;
  int64_t samples = 0;
};

// A resumed run continues the history of its --out folder (the epochs before the checkpoint),
// read from the JSON, whose numbers are exact (the CSV's are rounded to 6 digits).
std::vector<train::HistoryRow> earlier_history(const Run& r, const TrainFiles& files) {
  std::vector<train::HistoryRow> history;
  if (!r.ckpt || r.replaces_earlier || files.history_csv().empty()) return history;
  const bool json = std::filesystem::exists(files.history_json());
  if (!json && !std::filesystem::exists(files.history_csv())) return history;
  for (const train::HistoryRow& row :
       json ? train::read_history_json(files.history_json()) : train::read_history_csv(files.history_csv())) {
    if (row.epoch <= r.trainer->epoch()) history.push_back(row);
  }
  return history;
}

void record_epoch(const Run& r, const train::HistoryRow& row, int64_t samples, EpochLog& log) {
  const bool has_val = r.val_set.size() > 0;
  log.seconds += row.seconds;
  log.samples += samples;
  // Regression has no accuracy (NaN): the line leaves it out.
  const bool acc = !std::isnan(row.accuracy);
  std::string val;
  if (has_val) {
    val = fmt::format("  val_loss {:.4f}", row.val_loss);
    if (acc) val += fmt::format("  val_accuracy {:.4f}", row.val_accuracy);
    for (const auto& [name, value] : row.val_metrics) val += fmt::format("  val_{} {:.4f}", name, value);
  }
  fmt::print("epoch {}/{}  loss {:.4f}{}{}  lr {:.3g}  {:.2f} s  {:.0f} samples/s\n", row.epoch, r.cfg.epochs, row.loss,
             acc ? fmt::format("  accuracy {:.4f}", row.accuracy) : "", val, row.lr, row.seconds,
             row.samples_per_second);
  std::fflush(stdout);
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  nlohmann::ordered_json j = {{"epoch", row.epoch}, {"loss", row.loss}, {"accuracy", num(row.accuracy)}};
  if (has_val) {
    j["val_loss"] = row.val_loss;
    j["val_accuracy"] = num(row.val_accuracy);
    for (const auto& [name, value] : row.val_metrics) j[train::prefixed("val_", name)] = num(value);
  }
  j["lr"] = row.lr;
  j["seconds"] = row.seconds;
  j["samples_per_second"] = row.samples_per_second;
  log.rows.push_back(j);
  log.history.push_back(row);
}

// fit() with the files written after every step and epoch; an interrupt (SIGINT/SIGTERM) is
// the exit code 128 + signal, after the checkpoint TrainFiles wrote.
std::optional<int> fit_and_record(Run& r, TrainFiles& files, EpochLog& log, train::FitResult& fit) {
  ProgressLine progress(r.cfg.epochs, r.cfg.batch_size);
  train::FitHooks hooks;
  const train::FitState resumed_fit = r.fit_state;
  if (r.ckpt) hooks.resume = &resumed_fit;
  hooks.state = &r.fit_state;
  hooks.on_batch = [&](int64_t epoch, int64_t done, int64_t total, double loss, double acc) {
    files.after_step(done, total);
    progress.update(epoch, done, total, loss, acc);
  };
  const int64_t n = r.train_set.size();
  int64_t resume_batch = r.start_batch;
  hooks.on_epoch = [&](const train::HistoryRow& row) {
    progress.clear();
    record_epoch(r, row, n - std::min(n, resume_batch * r.cfg.batch_size), log);
    resume_batch = 0;
    files.after_epoch(log.history);
  };
  try {
    InterruptHandlers handlers;
    fit = train::fit(*r.trainer, r.s->params, r.train_set, r.val_set, hooks, r.start_batch);
  } catch (const Interrupted& stop) {
    progress.clear();
    std::fflush(stdout);
    std::fprintf(stderr, "graphrun: %s\n", stop.message.c_str());
    return 128 + stop.signal;
  }
  if (fit.stopped_early)
    fmt::print("{}\n", fit.stop_reason);
  else if (fit.restored_best)
    fmt::print("restored the weights of epoch {} (best {})\n", fit.best_epoch, r.cfg.early_stopping.monitor);
  return std::nullopt;
}

train::Evaluation evaluate_test_set(const Run& r) {
  if (r.test_set.size() == 0) {
    fmt::print("no test set in {}: skipped the evaluation\n", r.a.model);
    return {};
  }
  const train::Evaluation ev = r.trainer->evaluate(r.test_set);
  std::string line = fmt::format("test  loss {:.4f}", ev.loss);
  if (!std::isnan(ev.accuracy)) line += fmt::format("  accuracy {:.4f}", ev.accuracy);
  for (const auto& [name, value] : train::metric_values(ev.metrics)) line += fmt::format("  {} {:.4f}", name, value);
  fmt::print("{}  ({} samples)\n", line, ev.samples);
  return ev;
}

void save_final_weights(const Run& r, TrainFiles& files, const EpochLog& log) {
  if (r.a.out_dir.empty()) return;
  const std::string w = (std::filesystem::path(r.a.out_dir) / "weights.safetensors").string();
  files.start_writing();
  const train::WeightsOrigin origin{r.s->file.model_hash, r.trainer->epoch(), r.trainer->optimizer().steps()};
  train::save_weights(w, r.s->params, &r.scaler, &origin);
  fmt::print("wrote {}\n", w);
  if (!log.history.empty()) fmt::print("wrote {} and {}\n", files.history_csv(), files.history_json());
}

void write_metrics(const Run& r, const EpochLog& log, const train::FitResult& fit, const train::Evaluation& ev) {
  if (r.a.metrics_out.empty()) return;
  nlohmann::ordered_json j;
  j["model"] = r.a.model;
  j["backend"] = r.cfg.backend;
  j["threads"] = r.trainer->pool().size();
  j["optimizer"] = r.trainer->optimizer().name();
  j["learning_rate"] = r.base_learning_rate;
  j["final_learning_rate"] = r.trainer->optimizer().learning_rate();  // after the schedule's last step
  j["batch_size"] = r.cfg.batch_size;
  j["train_samples"] = r.train_set.size();
  j["test_samples"] = r.test_set.size();
  j["epochs"] = log.rows;
  if (r.val_set.size() > 0) j["validation_samples"] = r.val_set.size();
  j["stopped_early"] = fit.stopped_early;
  if (fit.stopped_early) j["stop_reason"] = fit.stop_reason;
  if (r.cfg.early_stopping.enabled) j["best_epoch"] = fit.best_epoch;
  j["seconds"] = log.seconds;
  j["samples_per_second"] = log.seconds > 0 ? static_cast<double>(log.samples) / log.seconds : 0.0;
  j["test_loss"] = r.test_set.size() > 0 ? nlohmann::ordered_json(ev.loss) : nlohmann::ordered_json(nullptr);
  const bool tested = r.test_set.size() > 0 && !std::isnan(ev.accuracy);
  j["test_accuracy"] = tested ? nlohmann::ordered_json(ev.accuracy) : nlohmann::ordered_json(nullptr);
  if (r.test_set.size() > 0) {
    for (const auto& [name, value] : train::metric_values(ev.metrics)) j[train::prefixed("test_", name)] = value;
  }
  const std::string text = j.dump(2) + "\n";
  io::write_file_atomically(r.a.metrics_out, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

int train_model(const TrainArgs& a, Ranks& ranks) {
  Run r(a, load_plugins(a.common));
  check_arguments(a);
  // One run per folder: a second run on it stops here, before any work (out_folder.h).
  std::optional<OutFolderLock> lock;
  if (!a.out_dir.empty()) lock.emplace(a.out_dir, "--out");
  if (a.out_from_resume) fmt::print("results go to {}, the checkpoint's folder (--out chooses another)\n", a.out_dir);
  open_model_and_checkpoint(r);
  announce_replaced_results(r);
  configure(r, ranks);
  load_data(r);
  build_trainer(r, ranks);
  std::unique_ptr<TrainFiles> files = open_train_files(r);
  EpochLog log;
  log.history = earlier_history(r, *files);
  print_start(r);
  train::FitResult fit;
  if (std::optional<int> interrupted = fit_and_record(r, *files, log, fit)) return *interrupted;
  ranks.check_identical(r.s->params);
  const train::Evaluation ev = evaluate_test_set(r);
  save_final_weights(r, *files, log);
  write_metrics(r, log, fit, ev);
  return 0;
}

int run_train(const TrainArgs& args) {
  Ranks ranks;  // under mpirun: this process is one rank of a data-parallel run
  return ranks.guard([&] { return train_model(ranks.for_this_rank(with_default_out(args)), ranks); });
}

}  // namespace

Command train_command() {
  auto a = std::make_shared<TrainArgs>();
  return {
      "train", "Train a model file's network on its data, then evaluate on its test set",
      [a](Options& o) {
        o.add("model", a->model, "Model file (JSON)").required();
        o.add("--epochs", a->epochs, "Epochs (overrides the model file)").range(0, 1000000);
        o.add("--batch-size", a->batch_size, "Samples per batch (overrides the model file)").range(1, 1000000);
        o.add("--lr", a->learning_rate, "Learning rate (overrides the model file)").positive();
        o.add("--seed", a->seed, "Seed of initialisation and shuffling");
        o.add("--out", a->out_dir,
              "Folder for weights.safetensors, checkpoint.safetensors and the history (locked while the run "
              "lasts; an earlier run's results there are replaced)");
        o.add("--resume", a->resume,
              "Continue from this checkpoint (exactly as if never stopped); --out defaults to its folder");
        o.add("--checkpoint-every", a->checkpoint_every,
              "Also write the checkpoint every N optimizer steps (needs --out)")
            .range(int64_t{0}, int64_t{1000000000});
        o.add("--max-memory", a->max_memory,
              "Refuse a model whose memory plan exceeds this many bytes, e.g. 512M, 2G (default: MemAvailable)");
        o.add("--metrics-out", a->metrics_out, "Write the run's metrics as JSON to this file");
        o.add("--limit-train", a->limit_train, "Use only the first N training samples").non_negative();
        o.add("--limit-test", a->limit_test, "Use only the first N test samples").non_negative();
        o.add("--validation-split", a->validation_split, "Fraction of the training set held out for validation")
            .range(0.0, 0.9);
        o.add("--patience", a->patience, "Early stopping: stop after N epochs without improvement").range(1, 1000000);
        o.add("--monitor", a->monitor,
              "Early stopping's monitor: val_loss, val_accuracy, loss or val_<metric> (val_r2, val_f1, ...)")
            .one_of({"val_loss", "val_accuracy", "loss", "val_mae", "val_rmse", "val_r2", "val_precision", "val_recall",
                     "val_f1", "val_roc_auc", "val_top2_accuracy", "val_top3_accuracy", "val_macro_f1"});
        o.add("--schedule", a->schedule, "Learning-rate schedule: constant, step, exponential, cosine")
            .one_of({"constant", "step", "exponential", "cosine"});
        o.add("--warmup-steps", a->warmup_steps, "Linear learning-rate warmup over N steps")
            .range(int64_t{0}, int64_t{1000000000});
        add_common_options(o, a->common, true);
      },
      [a] { return run_train(*a); }};
}

}  // namespace graphrun::tool
