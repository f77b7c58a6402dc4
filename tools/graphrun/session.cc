#include "tools/graphrun/session.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "backends/registry.h"
#include "core/cpu_info.h"
#include "core/error.h"
#include "io/idx.h"
#include "train/checkpoint.h"
#include "train/model_file.h"
#ifdef GRAPHRUN_WITH_ONNX
#include "onnx/import.h"
#include "onnx/model_json.h"
#endif

namespace graphrun::tool {
namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::BadInput, what); }

}  // namespace

bool is_onnx(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0; }

void require_file(const std::string& path, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) bad(fmt::format("{}: no such file {}", where, path));
  if (std::filesystem::is_directory(path, ec)) bad(fmt::format("{}: {} is a directory, expected a file", where, path));
}

namespace {

io::Dataset take(io::Dataset d, int64_t limit, const std::string& name) {
  if (limit < 0 || limit >= d.size()) return d;
  std::vector<int64_t> rows(static_cast<size_t>(limit));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  return io::take_rows(d, rows, name);
}

// where: the features' file; label_where: the labels' (or targets') file (the same file for CSV).
void check_dataset(const Session& s, const io::Dataset& d, const std::string& where, const std::string& label_where) {
  if (d.feature_count() != s.file.inputs) {
    throw Error(ErrorKind::Shape,
                fmt::format("{}: the data have {} features per sample, the model takes {} (\"inputs\")", where,
                            d.feature_count(), s.file.inputs));
  }
  const train::Loss loss = s.model.loss_kind;
  if (d.has_targets()) {
    const std::string key = s.file.data && !s.file.data->train_targets.empty() ? "train_targets" : "target_columns";
    if (loss == train::Loss::CrossEntropy) {
      bad(
          fmt::format("{}: data.{}: float targets ({}) with the cross_entropy loss, which expects class indices "
                      "(data.label_column); use mse, mae, huber or binary_cross_entropy",
                      s.file.path, key, label_where));
    }
    const int64_t cols = d.targets.shape()[1];
    if (cols != s.classes) {
      bad(fmt::format("{}: data.{}: {} target columns ({}), the model has {} outputs (the last layer's units)",
                      s.file.path, key, cols, label_where, s.classes));
    }
    const float* t = d.targets.data();
    for (int64_t i = 0; i < d.targets.numel(); ++i) {
      if (!std::isfinite(t[i])) {
        bad(fmt::format("{}: sample {}, target column {}: {} is not a finite number", label_where, i / cols, i % cols,
                        t[i]));
      }
      if (loss == train::Loss::BinaryCrossEntropy && t[i] != 0.0f && t[i] != 1.0f) {
        bad(fmt::format("{}: sample {}, target column {}: {} with the binary_cross_entropy loss, expected 0 or 1",
                        label_where, i / cols, i % cols, t[i]));
      }
    }
    return;
  }
  if (d.labels.empty() && d.size() > 0) bad(fmt::format("{}: the data have no labels", label_where));
  // One sigmoid output takes the labels 0 and 1.
  const int64_t classes = loss == train::Loss::BinaryCrossEntropy && s.classes == 1 ? 2 : s.classes;
  for (size_t i = 0; i < d.labels.size(); ++i) {
    if (d.labels[i] < 0 || d.labels[i] >= classes) {
      bad(fmt::format("{}: label {} (sample {}) is outside the model's {} classes (the last layer's units)",
                      label_where, d.labels[i], i, classes));
    }
  }
}

io::Dataset load_idx_pair(const std::string& images, const std::string& labels, const std::string& where_images,
                          const std::string& where_labels) {
  require_file(images, where_images);
  require_file(labels, where_labels);
  return io::load_idx_dataset(images, labels);
}

io::CsvOptions csv_options(const Session& s) {
  io::CsvOptions o;
  if (s.file.data && s.file.data->format == "csv") {
    const io::DataSpec& d = *s.file.data;
    o.header = d.header;
    o.skip_lines = d.skip_lines;
    o.delimiter = d.delimiter;
    o.target_columns = d.target_columns;
    o.weight_column = d.weight_column;
    o.label_column = d.target_columns.empty() && d.train_targets.empty() ? d.label_column : -1;
  } else {
    o.label_column = 0;
  }
  return o;
}

// A CSV data file; with targets_path, its targets are every column of that file (row for row).
io::Dataset load_csv(const Session& s, const std::string& path, const std::string& where,
                     const std::string& targets_path = {}, const std::string& targets_where = {}) {
  require_file(path, where);
  const io::CsvOptions o = csv_options(s);
  io::Dataset ds = io::load_csv_dataset(path, o);
  if (targets_path.empty()) return ds;
  require_file(targets_path, targets_where);
  io::CsvOptions t;
  t.skip_lines = o.skip_lines;
  t.header = o.header;
  t.delimiter = o.delimiter;
  Tensor targets = std::move(io::read_csv(targets_path, t).features);
  if (targets.shape()[0] != ds.size()) {
    bad(fmt::format("{}: {} holds {} rows of targets for the {} samples of {}, expected one per sample", targets_where,
                    targets_path, targets.shape()[0], ds.size(), path));
  }
  io::Dataset out = io::make_target_dataset(std::move(ds.features), std::move(targets), path);
  out.weights = std::move(ds.weights);
  return out;
}

// The CSV training file, before a test_split takes its test part out.
io::Dataset load_csv_train(const Session& s) {
  const io::DataSpec& d = *s.file.data;
  const std::string& m = s.file.path;
  return load_csv(s, d.train_csv, m + ": data.train", d.train_targets, m + ": data.train_targets");
}

bool looks_like_idx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char b[2] = {0xff, 0xff};
  f.read(reinterpret_cast<char*>(b), 2);
  return (b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0 && b[1] == 0);
}

}  // namespace

PluginRegistry& load_plugins(const CommonArgs& common) {
  PluginRegistry& r = PluginRegistry::global();
  r.load_search_path(common.plugin_dirs);
  return r;
}

std::unique_ptr<Session> open_model(const std::string& path, const PluginRegistry& plugins, uint64_t seed) {
  auto s = std::make_unique<Session>();
#ifdef GRAPHRUN_WITH_ONNX
  // An ONNX model: the model file `graphrun import` would write, with the file's weights.
  if (is_onnx(path)) {
    require_file(path, "model");
    const onnx_io::ModelFileText text = onnx_io::to_model_file(onnx_io::import_onnx(path, plugins), path);
    s->file = io::parse_model_file(text.json, path, &plugins);
    s->model = train::build_network(train::to_network_spec(s->file), plugins);
    s->params = ParameterStore::initialize(s->model.graph, seed);
    for (const auto& [name, t] : text.weights) s->params.assign(name, t, path);
    s->classes = s->model.graph.shape(s->model.output)[1];
    s->forward_nodes = s->model.graph.size();
    return s;
  }
#endif
  s->file = io::read_model_file(path, &plugins);
  s->model = train::build_network(train::to_network_spec(s->file), plugins);
  s->params = ParameterStore::initialize(s->model.graph, seed);
  s->classes = s->model.graph.shape(s->model.output)[1];
  s->forward_nodes = s->model.graph.size();
  return s;
}

io::Dataset load_train_set(const Session& s, int64_t limit) {
  if (!s.file.data) bad(fmt::format("{}: no \"data\" section: nothing to train on", s.file.path));
  const io::DataSpec& d = *s.file.data;
  const std::string& m = s.file.path;
  io::Dataset ds = d.format == "idx" ? load_idx_pair(d.train_images, d.train_labels, m + ": data.train_images",
                                                     m + ": data.train_labels")
                                     : load_csv_train(s);
  if (d.test_split > 0) ds = io::split_dataset(ds, d.test_split, d.split_seed, m + ": data.test_split").first;
  ds = take(std::move(ds), limit, m + ": training data");
  check_dataset(s, ds, d.format == "idx" ? d.train_images : d.train_csv,
                d.format == "idx"         ? d.train_labels
                : d.train_targets.empty() ? d.train_csv
                                          : d.train_targets);
  if (ds.size() == 0) bad(fmt::format("{}: the training data are empty", m));
  return ds;
}

io::Dataset load_test_set(const Session& s, int64_t limit) {
  if (!s.file.data || !s.file.data->has_test()) return {};
  const io::DataSpec& d = *s.file.data;
  const std::string& m = s.file.path;
  io::Dataset ds =
      d.format == "idx"
          ? load_idx_pair(d.test_images, d.test_labels, m + ": data.test_images", m + ": data.test_labels")
      : d.test_split > 0
          ? io::split_dataset(load_csv_train(s), d.test_split, d.split_seed, m + ": data.test_split").second
          : load_csv(s, d.test_csv, m + ": data.test", d.test_targets, m + ": data.test_targets");
  ds = take(std::move(ds), limit, m + ": test data");
  const std::string& csv = d.test_split > 0 ? d.train_csv : d.test_csv;
  const std::string& targets = d.test_split > 0 ? d.train_targets : d.test_targets;
  check_dataset(s, ds, d.format == "idx" ? d.test_images : csv,
                d.format == "idx" ? d.test_labels
                : targets.empty() ? csv
                                  : targets);
  return ds;
}

io::Dataset load_data_files(const Session& s, const std::vector<std::string>& files, const std::string& option,
                            int64_t limit) {
  io::Dataset ds;
  if (files.size() == 1) {
    require_file(files[0], option);
    if (looks_like_idx(files[0])) {
      bad(
          fmt::format("{} {}: an IDX file (gzip or IDX magic); IDX data are two files, images then labels: "
                      "{} IMAGES LABELS",
                      option, files[0], option));
    }
    ds = load_csv(s, files[0], option);
  } else if (files.size() == 2) {
    ds = load_idx_pair(files[0], files[1], option, option);
  } else {
    bad(fmt::format("{}: expected one CSV file or two IDX files (images, labels), got {}", option, files.size()));
  }
  ds = take(std::move(ds), limit, files[0]);
  check_dataset(s, ds, files[0], files.back());
  return ds;
}

Tensor load_features(const Session& s, const std::string& path, bool header) {
  require_file(path, "--input");
  Tensor features;
  if (looks_like_idx(path)) {
    Tensor images = io::read_idx_images(path);
    const int64_t n = images.shape()[0], d = images.numel() / std::max<int64_t>(n, 1);
    features = Tensor(Shape{n, d}, images.span());
  } else {
    io::CsvOptions o;
    o.header = header;
    features = std::move(io::read_csv(path, o).features);
  }
  if (features.shape()[1] != s.file.inputs) {
    throw Error(ErrorKind::Shape, fmt::format("{}: the input has {} features per row, the model takes {} (\"inputs\")",
                                              path, features.shape()[1], s.file.inputs));
  }
  return features;
}

io::Scaler fit_model_scaler(const Session& s, const io::Dataset& train) {
  const std::string kind = s.file.data ? s.file.data->scaling : "none";
  return io::fit_scaler(io::parse_scaling(kind), train.features);
}

void check_weights_scaler(const Session& s, bool weights_had_scaler, const io::Scaler& from_weights,
                          const std::string& weights_path) {
  if (weights_had_scaler && from_weights.offset.numel() != s.file.inputs) {
    bad(fmt::format("{}: scaler/offset and scaler/scale hold {} features, the model takes {} (\"inputs\")",
                    weights_path, from_weights.offset.numel(), s.file.inputs));
  }
}

io::Scaler scaler_for_inference(const Session& s, bool weights_had_scaler, io::Scaler from_weights) {
  if (weights_had_scaler) return from_weights;
  const std::string kind = s.file.data ? s.file.data->scaling : "none";
  if (kind == "none") {
    io::Scaler none;
    none.kind = io::Scaling::None;
    return none;
  }
  // Refit on the training data: the same data give the same statistics.
  return fit_model_scaler(s, load_train_set(s, -1));
}

std::vector<std::string> class_names(const io::ModelFile& m, int64_t classes) {
  std::vector<std::string> names;
  if (m.data && static_cast<int64_t>(m.data->class_names.size()) == classes) return m.data->class_names;
  const bool fashion = m.data && m.data->train_images.find("fashion") != std::string::npos;
  if (fashion && classes == 10) {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  }
  for (int64_t i = 0; i < classes; ++i) names.push_back(std::to_string(i));
  return names;
}

int process_threads(int requested) {
  const int usable = usable_cpus();
  if (requested <= 0) return usable;
  if (requested > usable) {
    // Threads beyond the CPUs only wait for each other at every kernel's join.
    fmt::print(stderr,
               "graphrun: --threads {} capped to {}, the CPUs this process may use (affinity mask and cgroup quota)\n",
               requested, usable);
    return usable;
  }
  return requested;
}

train::TrainConfig base_config(const Session& s, const CommonArgs& common) {
  train::TrainConfig c = train::to_train_config(s.file);
  c.backend = common.backend;
  c.threads = process_threads(common.threads);
  return c;
}

std::unique_ptr<Session> open_with_weights(const CommonArgs& common, const std::string& model,
                                           const std::string& weights, bool* had_scaler, io::Scaler* from_weights) {
  PluginRegistry& plugins = load_plugins(common);
  backends::check_name(common.backend);
  std::unique_ptr<Session> s = open_model(model, plugins, 0);
  if (is_onnx(model) && weights == model) return s;  // the ONNX file's own weights, already loaded
  require_file(weights, "--weights");
  *had_scaler = train::load_weights(weights, s->params, from_weights);
  check_weights_scaler(*s, *had_scaler, *from_weights, weights);
  return s;
}

}  // namespace graphrun::tool
