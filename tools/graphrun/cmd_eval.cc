// graphrun eval: loss, accuracy, per-class accuracy and the confusion matrix of saved weights.
#include <memory>
#include <algorithm>
#include <fmt/format.h>

#include "backends/registry.h"
#include "core/error.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/session.h"
#include "train/checkpoint.h"

namespace graphrun::tool {

namespace {

int run_eval(const EvalArgs& a) {
  io::Scaler from_weights;
  bool had_scaler = false;
  std::unique_ptr<Session> s = open_with_weights(a.common, a.model, a.weights, &had_scaler, &from_weights);

  io::Dataset data = a.data.empty() ? load_test_set(*s, a.limit) : load_data_files(*s, a.data, "--data", a.limit);
  if (data.size() == 0) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: no test data in the model file's \"data\" section; give --data",
                                                 a.model));
  }
  io::Scaler scaler = scaler_for_inference(*s, had_scaler, std::move(from_weights));
  io::apply_scaler(scaler, data.features);

  train::Trainer trainer(s->model, s->params, base_config(*s, a.common), PluginRegistry::global());
  train::Evaluation ev = trainer.evaluate(data, a.batch_size);
  const std::vector<std::string> names = class_names(s->file, s->classes);

  fmt::print("{} samples  loss {:.4f}  accuracy {:.4f}\n", ev.samples, ev.loss, ev.accuracy);
  fmt::print("speed: {:.3f} s, {:.0f} samples/s (batch {}, {} threads)\n\n", ev.seconds,
             ev.seconds > 0 ? static_cast<double>(ev.samples) / ev.seconds : 0.0, a.batch_size, trainer.pool().size());
  size_t width = 5;
  for (const std::string& n : names) width = std::max(width, n.size());
  fmt::print("{:>3}  {:<{}}  {:>8}  {:>7}\n", "#", "class", width, "accuracy", "samples");
  for (size_t c = 0; c < ev.confusion.size(); ++c) {
    int64_t total = 0;
    for (int64_t v : ev.confusion[c]) total += v;
    const double acc = total ? static_cast<double>(ev.confusion[c][c]) / static_cast<double>(total) : 0.0;
    fmt::print("{:>3}  {:<{}}  {:>8}  {:>7}\n", c, names[c], width, total ? fmt::format("{:.4f}", acc) : "-", total);
  }
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted class)\n{:>5}", "");
  for (size_t c = 0; c < ev.confusion.size(); ++c) fmt::print(" {:>5}", c);
  fmt::print("\n");
  for (size_t r = 0; r < ev.confusion.size(); ++r) {
    fmt::print("{:>5}", r);
    for (int64_t v : ev.confusion[r]) fmt::print(" {:>5}", v);
    fmt::print("\n");
  }
  return 0;
}

}  // namespace

Command eval_command() {
  auto a = std::make_shared<EvalArgs>();
  return {"eval", "Loss, accuracy, per-class accuracy and confusion matrix of saved weights",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--weights", a->weights, "Weights or checkpoint (safetensors)").required();
            o.add("--data", a->data,
                  "One CSV file, or two IDX files: images then labels (default: the model file's test set)")
                .count(1, 2);
            o.add("--limit", a->limit, "Use only the first N samples").non_negative();
            o.add("--batch-size", a->batch_size, "Samples per forward pass").show_default().range(1, 1000000);
            add_common_options(o, a->common, true);
          },
          [a] { return run_eval(*a); }};
}

}  // namespace graphrun::tool
