// graphrun eval: loss, accuracy, the metrics of the loss (train/metrics.h), per-class accuracy,
// precision and recall, and the confusion matrix of saved weights.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <memory>

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
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: no test data in the model file's \"data\" section; give --data", a.model));
  }
  io::Scaler scaler = scaler_for_inference(*s, had_scaler, std::move(from_weights));
  io::apply_scaler(scaler, data.features);

  train::Trainer trainer(s->model, s->params, base_config(*s, a.common), PluginRegistry::global());
  train::Evaluation ev = trainer.evaluate(data, a.batch_size);
  const std::vector<std::string> names = class_names(s->file, s->classes);

  std::string line = fmt::format("{} samples  loss {:.4f}", ev.samples, ev.loss);
  if (!std::isnan(ev.accuracy)) line += fmt::format("  accuracy {:.4f}", ev.accuracy);
  fmt::print("{}\n", line);
  const auto metrics = train::metric_values(ev.metrics);
  if (!metrics.empty()) {
    std::string m;
    for (const auto& [name, value] : metrics) m += fmt::format("{}{} {:.4f}", m.empty() ? "" : "  ", name, value);
    fmt::print("{}\n", m);
  }
  fmt::print("speed: {:.3f} s, {:.0f} samples/s (batch {}, {} threads)\n", ev.seconds,
             ev.seconds > 0 ? static_cast<double>(ev.samples) / ev.seconds : 0.0, a.batch_size, trainer.pool().size());
  if (ev.confusion.empty()) return 0;  // regression and multi-label: no classes
  // A single sigmoid output is the classes 0 and 1.
  const std::vector<std::string> shown = ev.confusion.size() == names.size() ? names : class_names(s->file, 2);
  size_t width = 5;
  for (const std::string& n : shown) width = std::max(width, n.size());
  fmt::print("\n{:>3}  {:<{}}  {:>8}  {:>9}  {:>7}  {:>7}\n", "#", "class", width, "accuracy", "precision", "recall",
             "samples");
  auto cell = [](const std::vector<double>& v, size_t c) {
    return c < v.size() && !std::isnan(v[c]) ? fmt::format("{:.4f}", v[c]) : std::string("-");
  };
  for (size_t c = 0; c < ev.confusion.size(); ++c) {
    int64_t total = 0;
    for (int64_t v : ev.confusion[c]) total += v;
    const double acc = total ? static_cast<double>(ev.confusion[c][c]) / static_cast<double>(total) : 0.0;
    fmt::print("{:>3}  {:<{}}  {:>8}  {:>9}  {:>7}  {:>7}\n", c, shown[c], width,
               total ? fmt::format("{:.4f}", acc) : "-", cell(ev.metrics.class_precision, c),
               cell(ev.metrics.class_recall, c), total);
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
