// How a subcommand declares itself: a name, a one-line summary, its options bound to fields of
// its own argument struct, and what it runs. Each cmd_<name>.cc defines one Command; main.cc
// lists them, declares their options to CLI11 (the only file that includes it: the header costs
// seconds per translation unit) and runs the one parsed.
//
//   Command train_command() {
//     auto a = std::make_shared<TrainArgs>();
//     return {"train", "Train a model file's network",
//             [a](Options& o) { o.add("--epochs", a->epochs, "Epochs").range(0, 1000000); },
//             [a] { return run_train(*a); }};
//   }
//
// An option bound to a std::optional is set only when given on the command line.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace graphrun::tool {

// One declared option; the checks apply when it is given. Defined in main.cc.
class Option {
 public:
  explicit Option(void* impl) : impl_(impl) {}
  Option& required();
  Option& range(int min, int max);  // inclusive
  Option& range(int64_t min, int64_t max);
  Option& range(double min, double max);
  Option& one_of(std::vector<std::string> values);
  Option& positive();               // > 0
  Option& non_negative();           // >= 0
  Option& show_default();           // "[value]" in --help
  Option& count(int min, int max);  // values per use (default 1)

 private:
  void* impl_;  // the CLI11 option
};

// The options of one subcommand. Names are "model" (positional), "--name" or "--name,-n".
// Defined in main.cc.
class Options {
 public:
  explicit Options(void* impl) : impl_(impl) {}
  Option add(const std::string& name, std::string& value, const std::string& help);
  Option add(const std::string& name, int& value, const std::string& help);
  Option add(const std::string& name, int64_t& value, const std::string& help);
  Option add(const std::string& name, uint64_t& value, const std::string& help);
  Option add(const std::string& name, std::vector<std::string>& values, const std::string& help);
  Option add(const std::string& name, std::optional<int64_t>& value, const std::string& help);
  Option add(const std::string& name, std::optional<uint64_t>& value, const std::string& help);
  Option add(const std::string& name, std::optional<double>& value, const std::string& help);
  Option add(const std::string& name, std::optional<std::string>& value, const std::string& help);
  void flag(const std::string& name, bool& value, const std::string& help);
  // Extra text at the end of the subcommand's --help.
  void footer(const std::string& text);

 private:
  void* impl_;  // the CLI11 subcommand
};

struct Command {
  const char* name;
  const char* summary;                  // the line in `graphrun --help`
  std::function<void(Options&)> setup;  // declares the options
  std::function<int()> run;             // after parsing: the exit code; throws graphrun::Error
};

// The subcommands, in the order `graphrun --help` lists them (each defined in its cmd_*.cc).
Command train_command();
Command eval_command();
Command predict_command();
Command inspect_command();
Command plugins_command();
Command plot_command();
Command plot_activations_command();
Command tune_command();

}  // namespace graphrun::tool
