// graphrun train: fit a model file's network on its data, with checkpoints per epoch and
// every --checkpoint-every steps (train_files.h), stopping cleanly on SIGINT/SIGTERM.
#include <memory>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
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
    throw Error(ErrorKind::BadInput,
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

void write_metrics(const std::string& path, const nlohmann::ordered_json& j) {
  const std::string text = j.dump(2) + "\n";
  io::write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

int train_model(const TrainArgs& a, Ranks& ranks) {
  PluginRegistry& plugins = load_plugins(a.common);
  backends::by_name(a.common.backend);  // an unknown backend is a usage error before any work
  if (a.checkpoint_every > 0 && a.out_dir.empty()) {
    throw Error(ErrorKind::BadInput, "--checkpoint-every needs --out (the folder of the checkpoint)");
  }

  // One run per folder: a second run on it stops here, before any work (out_folder.h).
  std::optional<OutFolderLock> lock;
  if (!a.out_dir.empty()) lock.emplace(a.out_dir, "--out");

  // The checkpoint's metadata decides the seed, so read it before building anything.
  std::unique_ptr<Session> s;
  std::optional<train::Checkpoint> ckpt;
  int64_t arena_budget = 0;
  {
    io::ModelFile probe = io::read_model_file(a.model, &plugins);
    // Refuse a model too big for the memory limit before its parameters are allocated.
    const uint64_t limit = a.max_memory.empty() ? available_memory() : parse_bytes(a.max_memory, "--max-memory");
    if (limit > 0) {
      int64_t parameters = 0;
      const train::Model shape_only = train::build_network(train::to_network_spec(probe), plugins);
      for (NodeId id : shape_only.graph.parameters()) parameters += shape_only.graph.shape(id).numel();
      arena_budget = check_parameter_memory(a.model, parameters, plugins.optimizer(probe.optimizer), limit,
                                            a.max_memory.empty() ? "the available memory" : "--max-memory");
    }
    uint64_t seed = a.seed.value_or(probe.seed);
    if (!a.resume.empty()) {
      require_file(a.resume, "--resume");
      ckpt = train::read_checkpoint(a.resume, probe.model_hash);
      if (a.seed && *a.seed != ckpt->state.seed) {
        throw Error(ErrorKind::BadInput, fmt::format("--seed {} differs from the checkpoint's seed {} ({})", *a.seed,
                                                     ckpt->state.seed, a.resume));
      }
      seed = ckpt->state.seed;
    }
    s = open_model(a.model, plugins, seed);
  }
  // A resumed run continues its checkpoint's folder; any other run replaces what the folder holds.
  std::string earlier;
  if (!a.out_dir.empty() && !(ckpt && in_folder(a.resume, a.out_dir))) {
    earlier = describe_earlier_run(a.out_dir, s->file.model_hash);
    if (!earlier.empty()) fmt::print("{}\n", earlier);
  }
  train::TrainConfig cfg = base_config(*s, a.common);
  cfg.max_arena_bytes = arena_budget;
  if (a.epochs) cfg.epochs = *a.epochs;
  if (a.batch_size) cfg.batch_size = *a.batch_size;
  if (a.learning_rate) cfg.learning_rate = *a.learning_rate;
  cfg.seed = ranks.agree(ckpt ? ckpt->state.seed : a.seed.value_or(cfg.seed));
  if (a.validation_split) cfg.validation_split = *a.validation_split;
  if (a.patience) {
    cfg.early_stopping.enabled = true;
    cfg.early_stopping.patience = *a.patience;
  }
  if (a.monitor) cfg.early_stopping.monitor = *a.monitor;
  if (a.schedule) cfg.schedule.kind = train::parse_schedule_kind(*a.schedule, "--schedule");
  if (a.warmup_steps) cfg.schedule.warmup_steps = *a.warmup_steps;
  // A schedule recomputes the rate from the step: the checkpoint's last rate is not the base.
  if (ckpt && !a.learning_rate && !cfg.schedule.active()) cfg.learning_rate = ckpt->state.learning_rate;

  io::Dataset train_set = load_train_set(*s, a.limit_train);
  io::Dataset test_set = load_test_set(*s, a.limit_test);
  io::Dataset val_set = train::split_validation(train_set, cfg.validation_split, cfg.seed);

  train::Trainer trainer(s->model, s->params, cfg, plugins);
  if (!cfg.init_from.weights.empty() && !ckpt) {
    require_file(cfg.init_from.weights, "training.init_from.weights");
    const int64_t copied = train::load_layers(cfg.init_from.weights, cfg.init_from.layers, s->params, a.model);
    fmt::print("init_from {}: {} tensors of {} layers\n", cfg.init_from.weights, copied, cfg.init_from.layers.size());
  }
  io::Scaler scaler;
  int64_t start_batch = 0;
  train::FitState fit_state;  // reduce-on-plateau and early stopping: the checkpoint's, then fit()'s
  if (ckpt) {
    scaler = fit_model_scaler(*s, train_set);  // replaced by the checkpoint's when it has one
    train::restore_checkpoint(*ckpt, s->params, trainer.optimizer(), &scaler, &fit_state);
    check_weights_scaler(*s, scaler.offset.numel() > 0, scaler, a.resume);
    trainer.set_epoch(ckpt->state.epoch);
    start_batch = ckpt->state.batch;
    const int64_t batches = (train_set.size() + cfg.batch_size - 1) / cfg.batch_size;
    if (start_batch > batches) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: __metadata__.batch {} is past the end of an epoch ({} batches of {})",
                                                   a.resume, start_batch, batches, cfg.batch_size));
    }
    if (start_batch > 0 && ckpt->state.has_epoch_sums) resume_mid_epoch(*ckpt, cfg.batch_size, train_set.size(), trainer);
    fmt::print("resuming {} at epoch {} (step {})\n", a.resume, ckpt->state.epoch + 1, ckpt->state.step);
  } else {
    scaler = fit_model_scaler(*s, train_set);
  }
  ranks.join(trainer, s->model, s->params, scaler, start_batch);  // under mpirun: rank 0's state everywhere
  io::apply_scaler(scaler, train_set.features);
  if (test_set.size() > 0) io::apply_scaler(scaler, test_set.features);
  if (val_set.size() > 0) io::apply_scaler(scaler, val_set.features);

  if (!a.out_dir.empty()) {
    // Temporary files of a run that was killed mid-save (their process is gone).
    for (const char* base : {"checkpoint.safetensors", "weights.safetensors", "history.csv", "history.json"}) io::remove_stale_temp_files(a.out_dir, base);
  }
  train::TrainingState identity;
  identity.seed = cfg.seed;
  identity.optimizer = trainer.optimizer().name();
  identity.model_hash = s->file.model_hash;
  TrainFiles files(a.out_dir, a.checkpoint_every, identity, ckpt ? ckpt->state.step : 0, !earlier.empty(), trainer,
                   s->params, scaler, fit_state);

  const bool tty = ::isatty(2) == 1;
  const int64_t n = train_set.size();
  fmt::print("training {} on {} samples ({} features, {} classes), {} test samples; backend {}, {} threads, "
             "optimizer {} (lr {}), batch {}\n",
             a.model, n, train_set.feature_count(), s->classes,
             val_set.size() > 0 ? fmt::format("{} validation samples, {}", val_set.size(), test_set.size())
                                : fmt::format("{}", test_set.size()),
             cfg.backend, trainer.pool().size(),
             trainer.optimizer().name(), trainer.optimizer().learning_rate(), cfg.batch_size);
  std::fflush(stdout);

  nlohmann::ordered_json epochs_json = nlohmann::ordered_json::array();
  double total_seconds = 0;
  int64_t total_samples = 0;
  const bool has_val = val_set.size() > 0;
  auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  int64_t progress_epoch = -1, first_done = 0;
  train::FitHooks hooks;
  const train::FitState resumed_fit = fit_state;
  if (ckpt) hooks.resume = &resumed_fit;
  hooks.state = &fit_state;
  hooks.on_batch = [&](int64_t epoch, int64_t done, int64_t total, double loss, double acc) {
    files.after_step(done, total);
    if (tty) {
      const auto now = std::chrono::steady_clock::now();
      if (epoch != progress_epoch) {
        progress_epoch = epoch;
        first_done = done - 1;
        t0 = now;
      }
      if (done != total && now - last < std::chrono::milliseconds(200)) return;
      last = now;
      const double secs = std::chrono::duration<double>(now - t0).count();
      const double rate = secs > 0 ? static_cast<double>((done - first_done) * cfg.batch_size) / secs : 0;
      const double left = rate > 0 ? static_cast<double>((total - done) * cfg.batch_size) / rate : -1;
      std::fprintf(stderr, "\repoch %lld/%lld  %lld/%lld  loss %.4f  accuracy %.4f  %.0f samples/s  ETA %s   ",
                   static_cast<long long>(epoch), static_cast<long long>(cfg.epochs), static_cast<long long>(done),
                   static_cast<long long>(total), loss, acc, rate, eta(left).c_str());
      std::fflush(stderr);
    }
  };
  std::vector<train::HistoryRow> history;
  const std::string& history_csv = files.history_csv();
  const std::string& history_json = files.history_json();
  // A resumed run continues the history of its --out folder (the epochs before the checkpoint).
  if (ckpt && earlier.empty() && !history_csv.empty() && std::filesystem::exists(history_csv)) {
    for (const train::HistoryRow& r : train::read_history_csv(history_csv)) {
      if (r.epoch <= trainer.epoch()) history.push_back(r);
    }
  }
  int64_t resume_batch = start_batch;
  hooks.on_epoch = [&](const train::HistoryRow& r) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    const int64_t samples = n - std::min(n, resume_batch * cfg.batch_size);
    resume_batch = 0;
    total_seconds += r.seconds;
    total_samples += samples;
    const std::string val = has_val ? fmt::format("  val_loss {:.4f}  val_accuracy {:.4f}", r.val_loss, r.val_accuracy) : "";
    fmt::print("epoch {}/{}  loss {:.4f}  accuracy {:.4f}{}  lr {:.3g}  {:.2f} s  {:.0f} samples/s\n", r.epoch, cfg.epochs,
               r.loss, r.accuracy, val, r.lr, r.seconds, r.samples_per_second);
    std::fflush(stdout);
    nlohmann::ordered_json row = {{"epoch", r.epoch}, {"loss", r.loss}, {"accuracy", r.accuracy}};
    if (has_val) {
      row["val_loss"] = r.val_loss;
      row["val_accuracy"] = r.val_accuracy;
    }
    row["lr"] = r.lr;
    row["seconds"] = r.seconds;
    row["samples_per_second"] = r.samples_per_second;
    epochs_json.push_back(row);
    history.push_back(r);
    files.after_epoch(history);
  };
  train::FitResult fit;
  try {
    InterruptHandlers handlers;
    fit = train::fit(trainer, s->params, train_set, val_set, hooks, start_batch);
  } catch (const Interrupted& stop) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    std::fflush(stdout);
    std::fprintf(stderr, "graphrun: %s\n", stop.message.c_str());
    return 128 + stop.signal;
  }
  if (fit.stopped_early) fmt::print("{}\n", fit.stop_reason);
  else if (fit.restored_best) fmt::print("restored the weights of epoch {} (best {})\n", fit.best_epoch, cfg.early_stopping.monitor);

  ranks.check_identical(s->params);

  train::Evaluation ev;
  if (test_set.size() > 0) {
    ev = trainer.evaluate(test_set);
    fmt::print("test  loss {:.4f}  accuracy {:.4f}  ({} samples)\n", ev.loss, ev.accuracy, ev.samples);
  } else {
    fmt::print("no test set in {}: skipped the evaluation\n", a.model);
  }
  if (!a.out_dir.empty()) {
    const std::string w = (std::filesystem::path(a.out_dir) / "weights.safetensors").string();
    files.start_writing();
    const train::WeightsOrigin origin{s->file.model_hash, trainer.epoch(), trainer.optimizer().steps()};
    train::save_weights(w, s->params, &scaler, &origin);
    fmt::print("wrote {}\n", w);
    if (!history.empty()) fmt::print("wrote {} and {}\n", history_csv, history_json);
  }
  if (!a.metrics_out.empty()) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["backend"] = cfg.backend;
    j["threads"] = trainer.pool().size();
    j["optimizer"] = trainer.optimizer().name();
    j["learning_rate"] = trainer.optimizer().learning_rate();
    j["batch_size"] = cfg.batch_size;
    j["train_samples"] = n;
    j["test_samples"] = test_set.size();
    j["epochs"] = epochs_json;
    if (has_val) j["validation_samples"] = val_set.size();
    j["stopped_early"] = fit.stopped_early;
    if (fit.stopped_early) j["stop_reason"] = fit.stop_reason;
    if (cfg.early_stopping.enabled) j["best_epoch"] = fit.best_epoch;
    j["seconds"] = total_seconds;
    j["samples_per_second"] = total_seconds > 0 ? static_cast<double>(total_samples) / total_seconds : 0.0;
    if (test_set.size() > 0) {
      j["test_loss"] = ev.loss;
      j["test_accuracy"] = ev.accuracy;
    } else {
      j["test_loss"] = nullptr;
      j["test_accuracy"] = nullptr;
    }
    write_metrics(a.metrics_out, j);
  }
  return 0;
}

int run_train(const TrainArgs& args) {
  Ranks ranks;  // under mpirun: this process is one rank of a data-parallel run
  return ranks.guard([&] { return train_model(ranks.for_this_rank(args), ranks); });
}

}  // namespace

Command train_command() {
  auto a = std::make_shared<TrainArgs>();
  return {"train", "Train a model file's network on its data, then evaluate on its test set",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--epochs", a->epochs, "Epochs (overrides the model file)").range(0, 1000000);
            o.add("--batch-size", a->batch_size, "Samples per batch (overrides the model file)").range(1, 1000000);
            o.add("--lr", a->learning_rate, "Learning rate (overrides the model file)").positive();
            o.add("--seed", a->seed, "Seed of initialisation and shuffling");
            o.add("--out", a->out_dir, "Folder for weights.safetensors and checkpoint.safetensors (per epoch)");
            o.add("--resume", a->resume, "Continue from this checkpoint (exactly as if never stopped)");
            o.add("--checkpoint-every", a->checkpoint_every, "Also write the checkpoint every N optimizer steps (needs --out)")
                .range(0, 1e9);
            o.add("--max-memory", a->max_memory,
                  "Refuse a model whose memory plan exceeds this many bytes, e.g. 512M, 2G (default: MemAvailable)");
            o.add("--metrics-out", a->metrics_out, "Write the run's metrics as JSON to this file");
            o.add("--limit-train", a->limit_train, "Use only the first N training samples").non_negative();
            o.add("--limit-test", a->limit_test, "Use only the first N test samples").non_negative();
            o.add("--validation-split", a->validation_split, "Fraction of the training set held out for validation")
                .range(0.0, 0.9);
            o.add("--patience", a->patience, "Early stopping: stop after N epochs without improvement").range(1, 1000000);
            o.add("--monitor", a->monitor, "Early stopping's monitor: val_loss, val_accuracy or loss")
                .one_of({"val_loss", "val_accuracy", "loss"});
            o.add("--schedule", a->schedule, "Learning-rate schedule: constant, step, exponential, cosine")
                .one_of({"constant", "step", "exponential", "cosine"});
            o.add("--warmup-steps", a->warmup_steps, "Linear learning-rate warmup over N steps").range(0, 1e9);
            add_common_options(o, a->common, true);
          },
          [a] { return run_train(*a); }};
}

}  // namespace graphrun::tool
