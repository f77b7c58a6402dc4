// graphrun train: fit a model file's network on its data, with per-epoch checkpoints.
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
#include "tools/graphrun/session.h"
#include "train/checkpoint.h"

namespace graphrun::tool {
namespace {

std::string eta(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  return s >= 60 ? fmt::format("{}m{:02}s", s / 60, s % 60) : fmt::format("{}s", s);
}

void write_metrics(const std::string& path, const nlohmann::ordered_json& j) {
  const std::string text = j.dump(2) + "\n";
  io::write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

}  // namespace

int run_train(const TrainArgs& a) {
  PluginRegistry& plugins = load_plugins(a.common);
  backends::by_name(a.common.backend);  // an unknown backend is a usage error before any work

  // The checkpoint's metadata decides the seed, so read it before building anything.
  std::unique_ptr<Session> s;
  std::optional<train::Checkpoint> ckpt;
  {
    io::ModelFile probe = io::read_model_file(a.model, &plugins);
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
  train::TrainConfig cfg = base_config(*s, a.common);
  if (a.epochs) cfg.epochs = *a.epochs;
  if (a.batch_size) cfg.batch_size = *a.batch_size;
  if (a.learning_rate) cfg.learning_rate = *a.learning_rate;
  cfg.seed = ckpt ? ckpt->state.seed : a.seed.value_or(cfg.seed);
  if (ckpt && !a.learning_rate) cfg.learning_rate = ckpt->state.learning_rate;

  io::Dataset train_set = load_train_set(*s, a.limit_train);
  io::Dataset test_set = load_test_set(*s, a.limit_test);

  train::Trainer trainer(s->model, s->params, cfg, plugins);
  io::Scaler scaler;
  int64_t start_batch = 0;
  if (ckpt) {
    scaler = fit_model_scaler(*s, train_set);  // replaced by the checkpoint's when it has one
    train::restore_checkpoint(*ckpt, s->params, trainer.optimizer(), &scaler);
    trainer.set_epoch(ckpt->state.epoch);
    start_batch = ckpt->state.batch;
    const int64_t batches = (train_set.size() + cfg.batch_size - 1) / cfg.batch_size;
    if (start_batch > batches) {
      throw Error(ErrorKind::BadInput, fmt::format("{}: __metadata__.batch {} is past the end of an epoch ({} batches of {})",
                                                   a.resume, start_batch, batches, cfg.batch_size));
    }
    fmt::print("resuming {} at epoch {} (step {})\n", a.resume, ckpt->state.epoch + 1, ckpt->state.step);
  } else {
    scaler = fit_model_scaler(*s, train_set);
  }
  io::apply_scaler(scaler, train_set.features);
  if (test_set.size() > 0) io::apply_scaler(scaler, test_set.features);

  if (!a.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out_dir, ec);
    if (ec) throw Error(ErrorKind::Io, fmt::format("--out {}: cannot create the folder: {}", a.out_dir, ec.message()));
    // Temporary files of a run that was killed mid-save (their process is gone).
    for (const char* base : {"checkpoint.safetensors", "weights.safetensors"}) io::remove_stale_temp_files(a.out_dir, base);
  }
  const std::string ckpt_path = a.out_dir.empty() ? "" : (std::filesystem::path(a.out_dir) / "checkpoint.safetensors").string();

  const bool tty = ::isatty(2) == 1;
  const int64_t n = train_set.size();
  fmt::print("training {} on {} samples ({} features, {} classes), {} test samples; backend {}, {} threads, "
             "optimizer {} (lr {}), batch {}\n",
             a.model, n, train_set.feature_count(), s->classes, test_set.size(), cfg.backend, trainer.pool().size(),
             trainer.optimizer().name(), trainer.optimizer().learning_rate(), cfg.batch_size);
  std::fflush(stdout);

  nlohmann::ordered_json epochs_json = nlohmann::ordered_json::array();
  double total_seconds = 0;
  int64_t total_samples = 0;
  for (int64_t e = trainer.epoch(); e < cfg.epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    auto last = t0;
    const int64_t first = start_batch;
    train::BatchCallback progress;
    if (tty) {
      progress = [&](int64_t done, int64_t total, double loss, double acc) {
        const auto now = std::chrono::steady_clock::now();
        if (done != total && now - last < std::chrono::milliseconds(200)) return;
        last = now;
        const double secs = std::chrono::duration<double>(now - t0).count();
        const double rate = secs > 0 ? static_cast<double>((done - first) * cfg.batch_size) / secs : 0;
        const double left = rate > 0 ? static_cast<double>((total - done) * cfg.batch_size) / rate : -1;
        std::fprintf(stderr, "\repoch %lld/%lld  %lld/%lld  loss %.4f  accuracy %.4f  %.0f samples/s  ETA %s   ",
                     static_cast<long long>(e + 1), static_cast<long long>(cfg.epochs), static_cast<long long>(done),
                     static_cast<long long>(total), loss, acc, rate, eta(left).c_str());
        std::fflush(stderr);
      };
    }
    train::EpochResult r = trainer.train_epoch(train_set, start_batch, progress);
    if (tty) std::fprintf(stderr, "\r\033[K");
    const int64_t samples = n - std::min(n, start_batch * cfg.batch_size);
    start_batch = 0;
    total_seconds += r.seconds;
    total_samples += samples;
    fmt::print("epoch {}/{}  loss {:.4f}  accuracy {:.4f}  {:.2f} s  {:.0f} samples/s\n", e + 1, cfg.epochs, r.loss,
               r.accuracy, r.seconds, r.samples_per_second);
    std::fflush(stdout);
    epochs_json.push_back({{"epoch", e + 1}, {"loss", r.loss}, {"accuracy", r.accuracy}, {"seconds", r.seconds},
                           {"samples_per_second", r.samples_per_second}});
    if (!ckpt_path.empty()) {
      train::TrainingState st;
      st.epoch = trainer.epoch();
      st.batch = 0;
      st.step = trainer.optimizer().steps();
      st.learning_rate = trainer.optimizer().learning_rate();
      st.seed = cfg.seed;
      st.optimizer = trainer.optimizer().name();
      st.model_hash = s->file.model_hash;
      train::save_checkpoint(ckpt_path, s->params, trainer.optimizer(), &scaler, st);
    }
  }

  train::Evaluation ev;
  if (test_set.size() > 0) {
    ev = trainer.evaluate(test_set);
    fmt::print("test  loss {:.4f}  accuracy {:.4f}  ({} samples)\n", ev.loss, ev.accuracy, ev.samples);
  } else {
    fmt::print("no test set in {}: skipped the evaluation\n", a.model);
  }
  if (!a.out_dir.empty()) {
    const std::string w = (std::filesystem::path(a.out_dir) / "weights.safetensors").string();
    train::save_weights(w, s->params, &scaler);
    fmt::print("wrote {}\n", w);
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

}  // namespace graphrun::tool
