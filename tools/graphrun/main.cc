// graphrun: train, evaluate, run and inspect model files from the command line.
//
// The only file that includes CLI11 (it costs seconds per translation unit). It parses, then
// calls the subcommand's run_* (commands.h) and maps failures to exit codes: 2 for usage and
// bad input (graphrun::Error::is_bad_input, CLI11 parse errors), 1 for anything else, each with
// exactly one line "graphrun: <message>" on stderr.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "core/error.h"
#include "tools/graphrun/commands.h"
#ifdef GRAPHRUN_WITH_ONNX
#include "tools/graphrun/onnx_commands.h"
#endif

#ifndef GRAPHRUN_VERSION
#define GRAPHRUN_VERSION "unknown"
#endif

namespace {

using namespace graphrun::tool;

int fail(int code, std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  std::fprintf(stderr, "graphrun: %s\n", message.c_str());
  return code;
}

void add_common(CLI::App* sub, CommonArgs& c, bool compute) {
  sub->add_option("--plugin-dir", c.plugin_dirs, "Extra folder to load plugins from (searched first; repeatable)");
  if (!compute) return;
  sub->add_option("--backend", c.backend, "Backend tried first for every node: highway, onednn or reference")
      ->capture_default_str();
  sub->add_option("--threads", c.threads, "Threads (0: one per core)")->check(CLI::Range(0, 4096))->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"graphrun " GRAPHRUN_VERSION ": train, evaluate, run and inspect neural-network model files"};
  app.set_version_flag("--version", "graphrun " GRAPHRUN_VERSION);
  app.require_subcommand(0, 1);

  TrainArgs train;
  int64_t epochs = 0, batch = 0;
  double lr = 0;
  uint64_t seed = 0;
  CLI::App* t = app.add_subcommand("train", "Train a model file's network on its data, then evaluate on its test set");
  t->add_option("model", train.model, "Model file (JSON)")->required();
  CLI::Option* o_epochs = t->add_option("--epochs", epochs, "Epochs (overrides the model file)")->check(CLI::Range(0, 1000000));
  CLI::Option* o_batch =
      t->add_option("--batch-size", batch, "Samples per batch (overrides the model file)")->check(CLI::Range(1, 1000000));
  CLI::Option* o_lr = t->add_option("--lr", lr, "Learning rate (overrides the model file)")->check(CLI::PositiveNumber);
  CLI::Option* o_seed = t->add_option("--seed", seed, "Seed of initialisation and shuffling");
  t->add_option("--out", train.out_dir, "Folder for weights.safetensors and checkpoint.safetensors (per epoch)");
  t->add_option("--resume", train.resume, "Continue from this checkpoint (exactly as if never stopped)");
  t->add_option("--checkpoint-every", train.checkpoint_every,
                "Also write the checkpoint every N optimizer steps (needs --out)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  t->add_option("--max-memory", train.max_memory,
                "Refuse a model whose memory plan exceeds this many bytes, e.g. 512M, 2G (default: MemAvailable)");
  t->add_option("--metrics-out", train.metrics_out, "Write the run's metrics as JSON to this file");
  t->add_option("--limit-train", train.limit_train, "Use only the first N training samples")->check(CLI::NonNegativeNumber);
  t->add_option("--limit-test", train.limit_test, "Use only the first N test samples")->check(CLI::NonNegativeNumber);
  double val_split = 0;
  int64_t patience = 0, warmup = 0;
  std::string monitor, schedule;
  CLI::Option* o_val = t->add_option("--validation-split", val_split, "Fraction of the training set held out for validation")
                           ->check(CLI::Range(0.0, 0.9));
  CLI::Option* o_patience =
      t->add_option("--patience", patience, "Early stopping: stop after N epochs without improvement")->check(CLI::Range(1, 1000000));
  CLI::Option* o_monitor = t->add_option("--monitor", monitor, "Early stopping's monitor: val_loss, val_accuracy or loss")
                               ->check(CLI::IsMember({"val_loss", "val_accuracy", "loss"}));
  CLI::Option* o_schedule = t->add_option("--schedule", schedule, "Learning-rate schedule: constant, step, exponential, cosine")
                                ->check(CLI::IsMember({"constant", "step", "exponential", "cosine"}));
  CLI::Option* o_warmup = t->add_option("--warmup-steps", warmup, "Linear learning-rate warmup over N steps")
                              ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
  add_common(t, train.common, true);

  EvalArgs eval;
  CLI::App* e = app.add_subcommand("eval", "Loss, accuracy, per-class accuracy and confusion matrix of saved weights");
  e->add_option("model", eval.model, "Model file (JSON)")->required();
  e->add_option("--weights", eval.weights, "Weights or checkpoint (safetensors)")->required();
  e->add_option("--data", eval.data, "One CSV file, or IDX images and labels (default: the model file's test set)")
      ->expected(1, 2);
  e->add_option("--limit", eval.limit, "Use only the first N samples")->check(CLI::NonNegativeNumber);
  e->add_option("--batch-size", eval.batch_size, "Samples per forward pass")->capture_default_str()->check(CLI::Range(1, 1000000));
  add_common(e, eval.common, true);

  PredictArgs predict;
  CLI::App* p = app.add_subcommand("predict", "Class and class probabilities for every row of an input file");
  p->add_option("model", predict.model, "Model file (JSON)")->required();
  p->add_option("--weights", predict.weights, "Weights or checkpoint (safetensors)")->required();
  p->add_option("--input", predict.input, "CSV of features (no label column) or IDX images")->required();
  p->add_option("--output", predict.output, "Write the CSV here (default: standard output)");
  p->add_flag("--header", predict.header, "The input CSV starts with a header line");
  add_common(p, predict.common, true);

  InspectArgs inspect;
  int64_t inspect_batch = 0;
  CLI::App* i = app.add_subcommand("inspect", "Nodes, shapes, backends, parameters, FLOPs and memory plan of a model");
  i->add_option("model", inspect.model, "Model file (JSON)")->required();
  CLI::Option* o_ibatch =
      i->add_option("--batch-size", inspect_batch, "Batch size to compile for")->check(CLI::Range(1, 1000000));
  add_common(i, inspect.common, true);

  PluginsArgs plugins;
  CLI::App* pl = app.add_subcommand("plugins", "List the activation and optimizer plugins found");
  add_common(pl, plugins.common, false);

  PlotArgs plot;
  CLI::App* pt = app.add_subcommand("plot", "SVG of a history.csv: loss and accuracy per epoch, train and validation");
  pt->add_option("history", plot.history, "history.csv (written by train --out)")->required();
  pt->add_option("--output,-o", plot.output, "SVG file to write")->capture_default_str();

  PlotActivationsArgs plot_act;
  CLI::App* pa = app.add_subcommand("plot-activations", "SVG of activations and their derivatives over [-6, 6]");
  pa->add_option("names", plot_act.names, "Activation names (default: every elementwise one)");
  pa->add_option("--output,-o", plot_act.output, "SVG file to write")->capture_default_str();
  add_common(pa, plot_act.common, false);

  TuneArgs tune;
  int64_t tune_epochs = 0;
  CLI::App* tu = app.add_subcommand("tune", "Hyperparameter search: train a grid of variants, rank them, keep the best");
  tu->add_option("model", tune.model, "Model file (JSON)")->required();
  tu->add_option("--grid", tune.grid, "Values to try, e.g. 'lr=0.1,0.01 batch_size=16,32 units=200,400'")->required();
  tu->add_option("--random", tune.random, "Try a seeded random sample of N combinations")->check(CLI::NonNegativeNumber);
  tu->add_option("--jobs", tune.jobs, "Trials at once (separate processes)")->check(CLI::Range(1, 256))->capture_default_str();
  tu->add_option("--metric", tune.metric, "Rank by val_accuracy, val_loss, test_accuracy, test_loss, accuracy or loss")
      ->capture_default_str();
  CLI::Option* o_tepochs = tu->add_option("--epochs", tune_epochs, "Epochs per trial")->check(CLI::Range(1, 1000000));
  tu->add_option("--limit-train", tune.limit_train, "Use only the first N training samples")->check(CLI::NonNegativeNumber);
  tu->add_option("--limit-test", tune.limit_test, "Use only the first N test samples")->check(CLI::NonNegativeNumber);
  tu->add_option("--out", tune.out_dir, "Folder for trials, results.csv and the best weights")->capture_default_str();
  tu->add_option("--seed", tune.seed, "Seed of the --random sample");
  add_common(tu, tune.common, true);

#ifdef GRAPHRUN_WITH_ONNX
  ImportArgs import_args;
  CLI::App* im = app.add_subcommand("import", "An ONNX model as a model file (graph form) and weights");
  im->add_option("model", import_args.model, "ONNX model (.onnx)")->required();
  im->add_option("--out", import_args.out_dir, "Folder for model.json and weights.safetensors")->required();
  add_common(im, import_args.common, false);
  ExportArgs export_args;
  CLI::App* ex = app.add_subcommand("export", "A model file and its weights as an ONNX model for inference");
  ex->add_option("model", export_args.model, "Model file (JSON)")->required();
  ex->add_option("--weights", export_args.weights, "Weights or checkpoint (safetensors)")->required();
  ex->add_option("--out", export_args.out, "ONNX file to write")->required();
  ex->add_option("--opset", export_args.opset, "ONNX opset")->check(CLI::Range(9, 17))->capture_default_str();
  add_common(ex, export_args.common, false);
  RunArgs run_args;
  CLI::App* rn = app.add_subcommand("run", "Run a model (.onnx, or a model file with weights) on named tensors");
  rn->add_option("model", run_args.model, "ONNX model or model file")->required();
  rn->add_option("--weights", run_args.weights, "Weights (safetensors; optional for .onnx)");
  rn->add_option("--inputs", run_args.inputs, "Input tensors by name (.safetensors), or one input (.npy)")->required();
  rn->add_option("--out", run_args.out, "Output tensors by name (.safetensors), or one output (.npy)")->required();
  add_common(rn, run_args.common, true);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& ex) {
    if (ex.get_exit_code() == 0) return app.exit(ex);  // --help, --version
    return fail(2, std::string(ex.what()) + " (see graphrun --help)");
  }

  try {
    if (o_epochs->count()) train.epochs = epochs;
    if (o_batch->count()) train.batch_size = batch;
    if (o_lr->count()) train.learning_rate = lr;
    if (o_seed->count()) train.seed = seed;
    if (o_val->count()) train.validation_split = val_split;
    if (o_patience->count()) train.patience = patience;
    if (o_monitor->count()) train.monitor = monitor;
    if (o_schedule->count()) train.schedule = schedule;
    if (o_warmup->count()) train.warmup_steps = warmup;
    if (o_ibatch->count()) inspect.batch_size = inspect_batch;
    if (t->parsed()) return run_train(train);
    if (e->parsed()) return run_eval(eval);
    if (p->parsed()) return run_predict(predict);
    if (i->parsed()) return run_inspect(inspect);
    if (pl->parsed()) return run_plugins(plugins);
    if (pt->parsed()) return run_plot(plot);
    if (o_tepochs->count()) tune.epochs = tune_epochs;
    if (tu->parsed()) return run_tune(tune);
    if (pa->parsed()) return run_plot_activations(plot_act);
#ifdef GRAPHRUN_WITH_ONNX
    if (im->parsed()) return run_import(import_args);
    if (ex->parsed()) return run_export(export_args);
    if (rn->parsed()) return run_run(run_args);
#endif
    return fail(2, "a command is required: train, eval, predict, inspect, plugins, plot, plot-activations or tune (see graphrun --help)");
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
