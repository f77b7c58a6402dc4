// graphrun tune: hyperparameter search over a grid (or a seeded random sample of it). Each
// trial is the model file with the trial's values written in, trained by a child process
// (this binary, `graphrun train`, fork/exec), up to --jobs at once; each child's output goes
// to OUT/trial_<i>/train.log. Writes OUT/results.csv, prints the trials best first, and copies
// the best trial's weights and model file to OUT/best_weights.safetensors / best_model.json.
//
// Grid keys: lr, batch_size, epochs, validation_split, units (the first layer's units),
// units.<layer name>, and any other name is an optimizer hyperparameter (momentum, beta1...).
#include <sys/wait.h>
#include <unistd.h>
#include <memory>

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/cpu_info.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/out_folder.h"
#include "tools/graphrun/session.h"

namespace graphrun::tool {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Axis {
  std::string key;
  std::vector<std::string> values;  // as written (numbers)
};

std::vector<Axis> parse_grid(const std::string& grid) {
  std::vector<Axis> axes;
  std::stringstream ss(grid);
  std::string item;
  std::set<std::string> seen;
  while (ss >> item) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      throw Error(ErrorKind::BadInput, fmt::format("--grid: expected key=v1,v2,... , got \"{}\"", item));
    }
    Axis a{item.substr(0, eq), {}};
    if (!seen.insert(a.key).second) throw Error(ErrorKind::BadInput, fmt::format("--grid: {} given twice", a.key));
    std::stringstream vs(item.substr(eq + 1));
    std::string v;
    while (std::getline(vs, v, ',')) {
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !std::isfinite(d)) {
        throw Error(ErrorKind::BadInput, fmt::format("--grid: {}: expected numbers, got \"{}\"", a.key, v));
      }
      a.values.push_back(v);
    }
    axes.push_back(std::move(a));
  }
  if (axes.empty()) throw Error(ErrorKind::BadInput, "--grid: expected at least one key=v1,v2,...");
  return axes;
}

using Trial = std::vector<std::pair<std::string, std::string>>;

// The model file's JSON with the trial's values written in and data paths made absolute.
Json trial_model(const Json& base, const io::ModelFile& file, const Trial& trial, double default_validation) {
  Json m = base;
  if (file.data) {
    const io::DataSpec& d = *file.data;
    Json& data = m["data"];
    // The paths are the model file's, joined to its folder: absolute, they hold from trial_N/ too.
    auto set = [&](const char* key, const std::string& value) {
      if (!value.empty()) data[key] = fs::absolute(value).lexically_normal().string();
    };
    set("train_images", d.train_images);
    set("train_labels", d.train_labels);
    set("test_images", d.test_images);
    set("test_labels", d.test_labels);
    set("train", d.train_csv);
    set("test", d.test_csv);
  }
  if (!m.contains("training")) m["training"] = Json::object();
  if (default_validation > 0 && !m["training"].contains("validation_split"))
    m["training"]["validation_split"] = default_validation;
  if (m["training"].contains("init_from")) {
    const fs::path w(m["training"]["init_from"]["weights"].get<std::string>());
    if (w.is_relative()) {
      m["training"]["init_from"]["weights"] =
          fs::absolute(fs::path(file.path).parent_path() / w).lexically_normal().string();
    }
  }
  if (!m.contains("optimizer") || m["optimizer"].is_string()) {
    m["optimizer"] = Json{{"name", m.contains("optimizer") ? m["optimizer"].get<std::string>() : std::string("sgd")}};
  }
  for (const auto& [key, text] : trial) {
    const double v = std::stod(text);
    const bool integral = std::abs(v - std::round(v)) < 1e-12;
    if (key == "lr" || key == "learning_rate") {
      m["optimizer"]["learning_rate"] = v;
    } else if (key == "batch_size" || key == "epochs") {
      if (!integral || v < 1)
        throw Error(ErrorKind::BadInput, fmt::format("--grid: {} must be a positive integer", key));
      m["training"][key] = static_cast<int64_t>(v);
    } else if (key == "validation_split") {
      m["training"]["validation_split"] = v;
    } else if (key == "units" || key.starts_with("units.")) {
      if (!integral || v < 1)
        throw Error(ErrorKind::BadInput, fmt::format("--grid: {} must be a positive integer", key));
      bool found = false;
      for (size_t i = 0; i < m["layers"].size(); ++i) {
        const std::string name = m["layers"][i].value("name", fmt::format("dense{}", i));
        if ((key == "units" && i == 0) || key == "units." + name) {
          m["layers"][i]["units"] = static_cast<int64_t>(v);
          found = true;
        }
      }
      if (!found) throw Error(ErrorKind::BadInput, fmt::format("--grid: {}: no such layer in {}", key, file.path));
    } else {
      m["optimizer"][key] = v;
    }
  }
  return m;
}

int64_t read_int(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}

std::string cell(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6g}", v); }

std::string describe(const Trial& trial) {
  std::string desc;
  for (const auto& [k, v] : trial) desc += fmt::format("{}{}={}", desc.empty() ? "" : " ", k, v);
  return desc;
}

// Every combination, in grid order; --random N keeps a seeded sample of N of them.
std::vector<Trial> expand_grid(const std::vector<Axis>& axes, int64_t random, uint64_t seed) {
  std::vector<Trial> trials{{}};
  for (const Axis& axis : axes) {
    std::vector<Trial> next;
    for (const Trial& t : trials) {
      for (const std::string& v : axis.values) {
        Trial u = t;
        u.emplace_back(axis.key, v);
        next.push_back(std::move(u));
      }
    }
    trials = std::move(next);
    if (trials.size() > 10000)
      throw Error(ErrorKind::BadInput, "--grid: more than 10000 combinations; use fewer values");
  }
  if (random > 0 && static_cast<size_t>(random) < trials.size()) {
    std::mt19937_64 rng(seed);
    std::shuffle(trials.begin(), trials.end(), rng);
    trials.resize(static_cast<size_t>(random));
  }
  return trials;
}

// OUT/trial_<i>/model.json for every trial; returns the trial folders.
std::vector<std::string> write_trial_models(const TuneArgs& a, const io::ModelFile& file,
                                            const std::vector<Trial>& trials) {
  std::ifstream in(a.model);
  std::stringstream text;
  text << in.rdbuf();
  const Json base = Json::parse(text.str());
  const double default_validation = a.metric.starts_with("val_") ? 0.1 : 0.0;
  std::vector<std::string> dirs;
  for (size_t i = 0; i < trials.size(); ++i) {
    const std::string dir = (fs::path(a.out_dir) / fmt::format("trial_{}", i + 1)).string();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorKind::Io, fmt::format("{}: cannot create the folder: {}", dir, ec.message()));
    const std::string json = trial_model(base, file, trials[i], default_validation).dump(2) + "\n";
    io::write_file_atomically(dir + "/model.json", std::as_bytes(std::span<const char>(json.data(), json.size())));
    dirs.push_back(dir);
  }
  return dirs;
}

// The `graphrun train` command line of trial folder `dir`.
std::vector<std::string> train_command_line(const TuneArgs& a, const std::string& self, const std::string& dir,
                                            int threads) {
  std::vector<std::string> args = {self,
                                   "train",
                                   dir + "/model.json",
                                   "--out",
                                   dir,
                                   "--metrics-out",
                                   dir + "/metrics.json",
                                   "--threads",
                                   std::to_string(threads),
                                   "--backend",
                                   a.common.backend};
  if (a.epochs) args.insert(args.end(), {"--epochs", std::to_string(*a.epochs)});
  if (a.limit_train >= 0) args.insert(args.end(), {"--limit-train", std::to_string(a.limit_train)});
  if (a.limit_test >= 0) args.insert(args.end(), {"--limit-test", std::to_string(a.limit_test)});
  for (const std::string& d : a.common.plugin_dirs) args.insert(args.end(), {"--plugin-dir", d});
  return args;
}

// Starts `args` (this binary) with its output in log; returns the child's PID.
pid_t launch(std::vector<std::string> args, const std::string& log) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(ErrorKind::Runtime, "tune: fork failed");
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f) ::dup2(::fileno(stdout), 2);
    std::vector<char*> argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv(args[0].c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs every trial's `train`, up to --jobs at once, printing each as it ends; returns their
// exit codes.
std::vector<int> run_trials(const TuneArgs& a, const std::vector<Trial>& trials, const std::vector<std::string>& dirs) {
  const int jobs = std::max(1, a.jobs);
  const int cores = usable_cpus();
  const int threads = a.common.threads > 0 ? a.common.threads : std::max(1, cores / jobs);
  fmt::print("tuning {}: {} trials, {} at a time, {} threads each, metric {}\n", a.model, trials.size(), jobs, threads,
             a.metric);
  std::fflush(stdout);
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw Error(ErrorKind::Io, "tune: cannot find this program's path (/proc/self/exe)");
  std::map<pid_t, size_t> running;
  std::vector<int> status(trials.size(), -1);
  size_t next = 0, done = 0;
  while (done < trials.size()) {
    while (running.size() < static_cast<size_t>(jobs) && next < trials.size()) {
      running[launch(train_command_line(a, self, dirs[next], threads), dirs[next] + "/train.log")] = next;
      ++next;
    }
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const size_t i = it->second;
    running.erase(it);
    status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    ++done;
    fmt::print("trial {}/{} ({}) {}\n", i + 1, trials.size(), describe(trials[i]),
               status[i] == 0 ? "done" : fmt::format("failed (exit {}, see {}/train.log)", status[i], dirs[i]));
    std::fflush(stdout);
  }
  return status;
}

struct Result {
  size_t trial;
  double metric = NAN, val_loss = NAN, val_accuracy = NAN, test_accuracy = NAN, seconds = 0;
  int64_t epochs = 0;
};

// A trial's figures from its metrics.json: the metric at the best epoch (the weights kept with
// restore_best_weights) or the last. NaN for a failed trial.
Result read_result(const TuneArgs& a, size_t trial, int status, const std::string& dir) {
  Result r{trial};
  if (status != 0 || !fs::exists(dir + "/metrics.json")) return r;
  std::ifstream mf(dir + "/metrics.json");
  const Json m = Json::parse(mf);
  const Json& ep = m["epochs"];
  r.epochs = static_cast<int64_t>(ep.size());
  const int64_t best = read_int(m, "best_epoch");
  const Json& e = ep.empty() ? Json::object() : ep[static_cast<size_t>(best > 0 ? best - 1 : r.epochs - 1)];
  auto num = [](const Json& j, const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN; };
  r.val_loss = num(e, "val_loss");
  r.val_accuracy = num(e, "val_accuracy");
  r.test_accuracy = num(m, "test_accuracy");
  r.seconds = num(m, "seconds");
  r.metric = a.metric.starts_with("test_") ? num(m, a.metric.c_str()) : num(e, a.metric.c_str());
  return r;
}

// The trials best first (failed ones last), printed as a table and written to OUT/results.csv.
std::vector<Result> rank_trials(const TuneArgs& a, const std::vector<Axis>& axes, const std::vector<Trial>& trials,
                                const std::vector<std::string>& dirs, const std::vector<int>& status) {
  std::vector<Result> rows;
  for (size_t i = 0; i < trials.size(); ++i) rows.push_back(read_result(a, i, status[i], dirs[i]));
  const bool lower_better = !train::higher_is_better(a.metric);
  std::stable_sort(rows.begin(), rows.end(), [&](const Result& x, const Result& y) {
    if (std::isnan(x.metric) != std::isnan(y.metric)) return !std::isnan(x.metric);
    return lower_better ? x.metric < y.metric : x.metric > y.metric;
  });
  std::string csv = "rank,trial";
  for (const Axis& axis : axes) csv += "," + axis.key;
  csv += ",metric,val_loss,val_accuracy,test_accuracy,epochs,seconds,status\n";  // metric: --metric's value
  fmt::print("\n{:>4}  {:>5}  {:<40} {:>12} {:>13} {:>7} {:>8}\n", "rank", "trial", "values", a.metric, "test_accuracy",
             "epochs", "seconds");
  for (size_t k = 0; k < rows.size(); ++k) {
    const Result& r = rows[k];
    csv += fmt::format("{},{}", k + 1, r.trial + 1);
    for (const auto& [key, v] : trials[r.trial]) csv += "," + v;
    csv += fmt::format(",{},{},{},{},{},{:.2f},{}\n", cell(r.metric), cell(r.val_loss), cell(r.val_accuracy),
                       cell(r.test_accuracy), r.epochs, r.seconds, status[r.trial] == 0 ? "ok" : "failed");
    fmt::print("{:>4}  {:>5}  {:<40} {:>12} {:>13} {:>7} {:>8.1f}\n", k + 1, r.trial + 1, describe(trials[r.trial]),
               cell(r.metric), cell(r.test_accuracy), r.epochs, r.seconds);
  }
  const std::string results = (fs::path(a.out_dir) / "results.csv").string();
  io::write_file_atomically(results, std::as_bytes(std::span<const char>(csv.data(), csv.size())));
  fmt::print("wrote {}\n", results);
  return rows;
}

// OUT/best_weights.safetensors and OUT/best_model.json from the best trial.
void keep_best(const TuneArgs& a, const Result& best, const std::string& dir) {
  fs::copy_file(dir + "/weights.safetensors", fs::path(a.out_dir) / "best_weights.safetensors",
                fs::copy_options::overwrite_existing);
  fs::copy_file(dir + "/model.json", fs::path(a.out_dir) / "best_model.json", fs::copy_options::overwrite_existing);
  fmt::print("best: trial {} ({} {}); wrote {}/best_weights.safetensors and best_model.json\n", best.trial + 1,
             a.metric, cell(best.metric), a.out_dir);
}

int run_tune(const TuneArgs& a) {
  PluginRegistry& plugins = load_plugins(a.common);
  const io::ModelFile file = io::read_model_file(a.model, &plugins);
  const std::vector<Axis> axes = parse_grid(a.grid);
  std::set<std::string> metrics = {"val_accuracy", "val_loss", "test_accuracy", "test_loss", "accuracy", "loss"};
  for (const std::string& m : train::metric_names())
    metrics.insert({train::prefixed("val_", m), train::prefixed("test_", m)});
  if (!metrics.contains(a.metric)) {
    throw Error(ErrorKind::BadInput,
                "--metric: expected val_accuracy, val_loss, test_accuracy, test_loss, accuracy, loss, "
                "or val_/test_ before mae, rmse, r2, precision, recall, f1, roc_auc, top2_accuracy, "
                "top3_accuracy or macro_f1");
  }
  const std::vector<Trial> trials = expand_grid(axes, a.random, a.seed);
  const OutFolderLock lock(a.out_dir, "--out");  // each trial's `train` locks its own folder
  const std::vector<std::string> dirs = write_trial_models(a, file, trials);
  const std::vector<int> status = run_trials(a, trials, dirs);
  const std::vector<Result> ranked = rank_trials(a, axes, trials, dirs, status);
  if (ranked.empty() || std::isnan(ranked[0].metric)) throw Error(ErrorKind::Runtime, "tune: every trial failed");
  keep_best(a, ranked[0], dirs[ranked[0].trial]);
  return 0;
}

}  // namespace

Command tune_command() {
  auto a = std::make_shared<TuneArgs>();
  return {"tune", "Hyperparameter search: train a grid of variants, rank them, keep the best",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--grid", a->grid, "Values to try, e.g. 'lr=0.1,0.01 batch_size=16,32 units=200,400'").required();
            o.add("--random", a->random, "Try a seeded random sample of N combinations").non_negative();
            o.add("--jobs", a->jobs, "Trials at once (separate processes)").range(1, 256).show_default();
            o.add("--metric", a->metric,
                  "Rank by val_accuracy, val_loss, test_accuracy, test_loss, accuracy, loss or val_/test_<metric> "
                  "(mae, rmse, r2, f1, roc_auc, macro_f1, ...)")
                .show_default();
            o.add("--epochs", a->epochs, "Epochs per trial").range(1, 1000000);
            o.add("--limit-train", a->limit_train, "Use only the first N training samples").non_negative();
            o.add("--limit-test", a->limit_test, "Use only the first N test samples").non_negative();
            o.add("--out", a->out_dir, "Folder for trials, results.csv and the best weights").show_default();
            o.add("--seed", a->seed, "Seed of the --random sample");
            add_common_options(o, a->common, true);
          },
          [a] { return run_tune(*a); }};
}

}  // namespace graphrun::tool
