// The graphrun tool's subcommands: one argument struct each, filled by the options the
// subcommand declares (its Command in cmd_<name>.cc, command_line.h). main.cc parses and turns
// errors into exit codes: 0 success, 2 bad input or usage, 1 any other failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/registry.h"
#include "tools/graphrun/command_line.h"
#include "train/trainer.h"

namespace graphrun::tool {

struct CommonArgs {
  std::vector<std::string> plugin_dirs;
  std::string backend = "highway";
  int threads = 0;  // 0: one per CPU this process may use
};

struct TrainArgs {
  CommonArgs common;
  std::string model;
  std::optional<int64_t> epochs, batch_size;
  std::optional<double> learning_rate;
  std::optional<uint64_t> seed;
  std::string out_dir, resume, metrics_out;
  bool out_from_resume = false;               // out_dir defaulted to the --resume checkpoint's folder
  int64_t checkpoint_every = 0;               // 0: checkpoints at epoch ends only
  std::string max_memory;                     // "512M", "2G"; empty: MemAvailable
  int64_t limit_train = -1, limit_test = -1;  // < 0: all rows
  // Training practice (override the model file's "training" keys).
  std::optional<double> validation_split;
  std::optional<int64_t> patience;     // enables early stopping
  std::optional<std::string> monitor;  // early stopping's monitor
  std::optional<std::string> schedule;
  std::optional<int64_t> warmup_steps;
};

struct EvalArgs {
  CommonArgs common;
  std::string model, weights;
  std::vector<std::string> data;  // empty: the model file's test set; one CSV; or IDX images + labels
  int64_t limit = -1;
  int64_t batch_size = train::kInferenceBatch;
};

struct PredictArgs {
  CommonArgs common;
  std::string model, weights, input, output;  // output empty: stdout
  bool header = false;                        // the CSV input has a header line
};

struct InspectArgs {
  CommonArgs common;
  std::string model;
  std::optional<int64_t> batch_size;
};

struct PluginsArgs {
  CommonArgs common;
};

struct PlotArgs {
  std::string history;  // history.csv written by train --out
  std::string output = "curves.svg";
};

struct PlotActivationsArgs {
  CommonArgs common;
  std::vector<std::string> names;  // empty: every elementwise activation
  std::string output = "activations.svg";
};

struct TuneArgs {
  CommonArgs common;
  std::string model, grid;
  int64_t random = 0;  // > 0: a seeded sample of this many combinations
  int jobs = 1;        // trials at once (child processes)
  std::string metric = "val_accuracy";
  std::optional<int64_t> epochs;
  int64_t limit_train = -1, limit_test = -1;
  std::string out_dir = "tune";
  uint64_t seed = 0;  // of the random sample
};

// --plugin-dir, and with `compute` also --backend and --threads.
inline void add_common_options(Options& o, CommonArgs& c, bool compute) {
  o.add("--plugin-dir", c.plugin_dirs, "Extra folder to load plugins from (searched first; repeatable)");
  if (!compute) return;
  std::string built;  // the backends this build holds
  for (const std::string& name : backends::names()) built += (built.empty() ? "" : ", ") + name;
  o.add("--backend", c.backend,
        "Backend tried first for every node: " + built +
            "; or auto: each MatMul and convolution runs on the backend that was fastest for its shapes when "
            "timed at compile time (a few runs per node, kept in ~/.cache/graphrun/backend-timings.json or under "
            "$GRAPHRUN_CACHE_DIR, so each shape is timed once per machine). With onednn or auto, run "
            "with OMP_WAIT_POLICY=passive in the environment (OpenMP's threads otherwise spin between kernels: "
            "~15 ms per GEMM on a busy machine)")
      .show_default();
  o.add("--threads", c.threads, "Threads (0: one per CPU this process may use; more are capped to those)")
      .range(0, 4096)
      .show_default();
}

}  // namespace graphrun::tool
