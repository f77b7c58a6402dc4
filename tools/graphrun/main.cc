// graphrun: train, evaluate, run and inspect model files from the command line.
//
// The only file that includes CLI11 (it costs seconds per translation unit): it implements
// Options (command_line.h) over CLI11, lets every subcommand declare itself, parses, runs the
// parsed one and maps failures to exit codes: 2 for usage and bad input
// (graphrun::Error::is_bad_input, CLI11 parse errors), 1 for anything else, each with exactly
// one line "graphrun: <message>" on stderr.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "core/did_you_mean.h"
#include "core/error.h"
#include "tools/graphrun/command_line.h"
#include "tools/graphrun/timing_cache_scope.h"
#ifdef GRAPHRUN_WITH_ONNX
#include "tools/graphrun/onnx_commands.h"
#endif

#ifndef GRAPHRUN_VERSION
#define GRAPHRUN_VERSION "unknown"
#endif

namespace graphrun::tool {
namespace {

CLI::Option* cli(void* impl) { return static_cast<CLI::Option*>(impl); }
CLI::App* app(void* impl) { return static_cast<CLI::App*>(impl); }

template <typename T>
Option add_optional(void* impl, const std::string& name, std::optional<T>& value, const std::string& help) {
  return Option(app(impl)->add_option_function<T>(
      name, [&value](const T& v) { value = v; }, help));
}

int fail(int code, std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  std::fprintf(stderr, "graphrun: %s\n", message.c_str());
  return code;
}

// "; did you mean ...?" for a misspelt flag of the subcommand given.
std::string flag_suggestion(CLI::App& app, const CLI::ParseError& ex) {
  const std::string what = ex.what();
  const size_t dashes = what.find("--");
  if (dynamic_cast<const CLI::ExtrasError*>(&ex) == nullptr || dashes == std::string::npos) return {};
  const std::string flag = what.substr(dashes, what.find_first_of(" =", dashes) - dashes);
  std::vector<std::string> flags;
  for (CLI::App* sub : app.get_subcommands()) {
    for (const CLI::Option* o : sub->get_options()) {
      for (const std::string& name : o->get_lnames()) flags.push_back("--" + name);
    }
  }
  return graphrun::did_you_mean(flag, flags);
}

}  // namespace

Option& Option::required() { return cli(impl_)->required(), *this; }
Option& Option::range(int min, int max) { return cli(impl_)->check(CLI::Range(min, max)), *this; }
Option& Option::range(int64_t min, int64_t max) { return cli(impl_)->check(CLI::Range(min, max)), *this; }
Option& Option::range(double min, double max) { return cli(impl_)->check(CLI::Range(min, max)), *this; }
Option& Option::one_of(std::vector<std::string> values) {
  return cli(impl_)->check(CLI::IsMember(std::move(values))), *this;
}
Option& Option::positive() { return cli(impl_)->check(CLI::PositiveNumber), *this; }
Option& Option::non_negative() { return cli(impl_)->check(CLI::NonNegativeNumber), *this; }
Option& Option::show_default() { return cli(impl_)->capture_default_str(), *this; }
Option& Option::count(int min, int max) { return cli(impl_)->expected(min, max), *this; }

Option Options::add(const std::string& name, std::string& value, const std::string& help) {
  return Option(app(impl_)->add_option(name, value, help));
}
Option Options::add(const std::string& name, int& value, const std::string& help) {
  return Option(app(impl_)->add_option(name, value, help));
}
Option Options::add(const std::string& name, int64_t& value, const std::string& help) {
  return Option(app(impl_)->add_option(name, value, help));
}
Option Options::add(const std::string& name, uint64_t& value, const std::string& help) {
  return Option(app(impl_)->add_option(name, value, help));
}
Option Options::add(const std::string& name, std::vector<std::string>& values, const std::string& help) {
  return Option(app(impl_)->add_option(name, values, help));
}
Option Options::add(const std::string& name, std::optional<int64_t>& value, const std::string& help) {
  return add_optional(impl_, name, value, help);
}
Option Options::add(const std::string& name, std::optional<uint64_t>& value, const std::string& help) {
  return add_optional(impl_, name, value, help);
}
Option Options::add(const std::string& name, std::optional<double>& value, const std::string& help) {
  return add_optional(impl_, name, value, help);
}
Option Options::add(const std::string& name, std::optional<std::string>& value, const std::string& help) {
  return add_optional(impl_, name, value, help);
}
void Options::flag(const std::string& name, bool& value, const std::string& help) {
  app(impl_)->add_flag(name, value, help);
}
void Options::footer(const std::string& text) { app(impl_)->footer(text); }

}  // namespace graphrun::tool

int main(int argc, char** argv) {
  using namespace graphrun::tool;
  CLI::App app{"graphrun " GRAPHRUN_VERSION ": train, evaluate, run and inspect neural-network model files"};
  app.set_version_flag("--version", "graphrun " GRAPHRUN_VERSION);
  app.require_subcommand(0, 1);
  const Command commands[] = {
      train_command(),
      eval_command(),
      predict_command(),
      inspect_command(),
      plugins_command(),
      plot_command(),
      plot_activations_command(),
      tune_command(),
#ifdef GRAPHRUN_WITH_ONNX
      import_command(),
      export_command(),
      run_command(),
#endif
  };
  std::string names;
  for (const Command& c : commands) {
    Options options(app.add_subcommand(c.name, c.summary));
    c.setup(options);
    names += names.empty() ? c.name : std::string(", ") + c.name;
  }

  std::vector<std::string> command_names;
  for (const Command& c : commands) command_names.emplace_back(c.name);
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(command_names.begin(), command_names.end(), argv[1]) == command_names.end()) {
    return fail(2, fmt::format("unknown command \"{}\"{}; commands: {} (see graphrun --help)", argv[1],
                               graphrun::did_you_mean(argv[1], command_names), names));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& ex) {
    if (ex.get_exit_code() == 0) return app.exit(ex);  // --help, --version
    return fail(2, std::string(ex.what()) + flag_suggestion(app, ex) + " (see graphrun --help)");
  }

  try {
    const TimingCacheScope timing_cache;  // --backend auto's choices from earlier runs
    for (const Command& c : commands) {
      if (app.got_subcommand(c.name)) return c.run();
    }
    return fail(2, "a command is required: " + names + " (see graphrun --help)");
  } catch (const graphrun::Error& ex) {
    std::fflush(stdout);
    return fail(ex.is_bad_input() ? 2 : 1, ex.what());
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    return fail(1, "out of memory");
  } catch (const std::exception& ex) {
    std::fflush(stdout);
    return fail(1, ex.what());
  }
}
