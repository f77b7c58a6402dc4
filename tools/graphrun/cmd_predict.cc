// graphrun predict, as CSV: the class and the class probabilities of every input row; for a
// regression loss the predicted values (y0, y1, ...); for binary_cross_entropy each label's
// probability (p0, p1, ...).
#include <fmt/format.h>
#include <cstdio>
#include <memory>

#include "backends/registry.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "tools/graphrun/commands.h"
#include "tools/graphrun/session.h"
#include "train/checkpoint.h"

namespace graphrun::tool {

namespace {

void write_predictions(const PredictArgs& a, const std::string& out, int64_t n) {
  if (a.output.empty()) {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    io::write_file_atomically(a.output, std::as_bytes(std::span<const char>(out.data(), out.size())));
    fmt::print("wrote {} predictions to {}\n", n, a.output);
  }
}

int run_predict(const PredictArgs& a) {
  io::Scaler from_weights;
  bool had_scaler = false;
  std::unique_ptr<Session> s = open_with_weights(a.common, a.model, a.weights, &had_scaler, &from_weights);
  Tensor features = load_features(*s, a.input, a.header);
  io::Scaler scaler = scaler_for_inference(*s, had_scaler, std::move(from_weights));
  if (features.shape()[0] > 0) io::apply_scaler(scaler, features);

  train::Trainer trainer(s->model, s->params, base_config(*s, a.common), PluginRegistry::global());
  Tensor probs;
  const int64_t n = features.shape()[0], c = s->classes;
  if (n > 0) trainer.predict(features, probs);

  std::string out;
  const bool targets = s->file.data && (!s->file.data->target_columns.empty() || !s->file.data->train_targets.empty());
  const train::Loss loss = s->model.loss_kind;
  if ((train::is_regression(loss) && targets) || loss == train::Loss::BinaryCrossEntropy) {
    // Regression: the predicted values; binary_cross_entropy: each label's probability.
    const bool probabilities = s->model.loss_kind == train::Loss::BinaryCrossEntropy;
    out = "row";
    for (int64_t k = 0; k < c; ++k) out += fmt::format(",{}{}", probabilities ? 'p' : 'y', k);
    out += '\n';
    for (int64_t i = 0; i < n; ++i) {
      out += std::to_string(i);
      for (int64_t k = 0; k < c; ++k) out += fmt::format(",{:.7g}", probs.data()[i * c + k]);
      out += '\n';
    }
    write_predictions(a, out, n);
    return 0;
  }
  const std::vector<std::string> names = class_names(s->file, c);
  out = "row,class,name";
  for (int64_t k = 0; k < c; ++k) out += fmt::format(",p{}", k);
  out += '\n';
  for (int64_t i = 0; i < n; ++i) {
    const float* p = probs.data() + i * c;
    int64_t best = 0;
    for (int64_t k = 1; k < c; ++k) best = p[k] > p[best] ? k : best;
    out += fmt::format("{},{},{}", i, best, names[static_cast<size_t>(best)]);
    for (int64_t k = 0; k < c; ++k) out += fmt::format(",{:.6g}", p[k]);
    out += '\n';
  }
  write_predictions(a, out, n);
  return 0;
}

}  // namespace

Command predict_command() {
  auto a = std::make_shared<PredictArgs>();
  return {"predict", "Class and class probabilities for every row of an input file",
          [a](Options& o) {
            o.add("model", a->model, "Model file (JSON)").required();
            o.add("--weights", a->weights, "Weights or checkpoint (safetensors)").required();
            o.add("--input", a->input, "CSV of features (no label column) or IDX images").required();
            o.add("--output", a->output, "Write the CSV here (default: standard output)");
            o.flag("--header", a->header, "The input CSV starts with a header line");
            add_common_options(o, a->common, true);
          },
          [a] { return run_predict(*a); }};
}

}  // namespace graphrun::tool
