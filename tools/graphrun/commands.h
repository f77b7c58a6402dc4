// The graphrun tool's subcommands: one option struct and one run_* function each, one file
// each (cmd_<name>.cc). main.cc parses the command line (CLI11 lives there only) and turns
// errors into exit codes: 0 success, 2 bad input or usage, 1 any other failure.
// Each run_* returns the exit code and throws graphrun::Error for failures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace graphrun::tool {

struct CommonArgs {
  std::vector<std::string> plugin_dirs;
  std::string backend = "highway";
  int threads = 0;  // 0: one per core
};

struct TrainArgs {
  CommonArgs common;
  std::string model;
  std::optional<int64_t> epochs, batch_size;
  std::optional<double> learning_rate;
  std::optional<uint64_t> seed;
  std::string out_dir, resume, metrics_out;
  int64_t limit_train = -1, limit_test = -1;  // < 0: all rows
};

struct EvalArgs {
  CommonArgs common;
  std::string model, weights;
  std::vector<std::string> data;  // empty: the model file's test set; one CSV; or IDX images + labels
  int64_t limit = -1;
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

int run_train(const TrainArgs& args);
int run_eval(const EvalArgs& args);
int run_predict(const PredictArgs& args);
int run_inspect(const InspectArgs& args);
int run_plugins(const PluginsArgs& args);

}  // namespace graphrun::tool
