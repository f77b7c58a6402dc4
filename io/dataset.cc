#include "io/dataset.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "core/error.h"
#include "io/idx.h"

namespace graphrun::io {

Dataset make_dataset(Tensor features, std::vector<int32_t> labels, const std::string& name) {
  if (features.shape().rank() != 2) {
    throw Error(ErrorKind::Shape,
                fmt::format("{}: features have shape {}, expected [samples, features]", name, features.shape().str()));
  }
  const int64_t n = features.shape()[0];
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != n) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: {} samples but {} labels", name, n, labels.size()));
  }
  Dataset d;
  d.num_classes = labels.empty() ? 0 : int64_t{*std::max_element(labels.begin(), labels.end())} + 1;
  d.features = std::move(features);
  d.labels = std::move(labels);
  return d;
}

Dataset make_target_dataset(Tensor features, Tensor targets, const std::string& name) {
  Dataset d = make_dataset(std::move(features), {}, name);
  if (targets.shape().rank() != 2 || targets.shape()[0] != d.size()) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: {} samples but targets of shape {}, expected [{}, targets]", name,
                                                 d.size(), targets.shape().str(), d.size()));
  }
  d.targets = std::move(targets);
  return d;
}

Dataset take_rows(const Dataset& d, std::span<const int64_t> rows, const std::string& name) {
  auto gather = [&](const Tensor& t) {
    const int64_t cols = t.shape()[1], n = static_cast<int64_t>(rows.size());
    Tensor out(Shape{n, cols});
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(out.data() + i * cols, t.data() + rows[static_cast<size_t>(i)] * cols,
                  sizeof(float) * static_cast<size_t>(cols));
    }
    return out;
  };
  std::vector<int32_t> labels;
  if (!d.labels.empty()) {
    for (int64_t r : rows) labels.push_back(d.labels[static_cast<size_t>(r)]);
  }
  Dataset out = d.has_targets() ? make_target_dataset(gather(d.features), gather(d.targets), name)
                                : make_dataset(gather(d.features), std::move(labels), name);
  if (!d.has_targets()) out.num_classes = std::max(out.num_classes, d.num_classes);  // a part may miss the top class
  if (!d.weights.empty()) {
    for (int64_t r : rows) out.weights.push_back(d.weights[static_cast<size_t>(r)]);
  }
  return out;
}

std::pair<Dataset, Dataset> split_dataset(const Dataset& d, double test_fraction, uint64_t seed,
                                          const std::string& name) {
  const int64_t n = d.size();
  if (!(test_fraction > 0 && test_fraction < 1)) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: test fraction {} is outside (0, 1)", name, test_fraction));
  }
  if (n < 2)
    throw Error(ErrorKind::BadInput, fmt::format("{}: {} samples cannot be split into train and test", name, n));
  const int64_t test = std::clamp<int64_t>(std::llround(static_cast<double>(n) * test_fraction), 1, n - 1);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  // Fisher-Yates with our own index draw: the same order on every standard library.
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);  // not the epoch orders' stream
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  std::span<const int64_t> all(order);
  return {take_rows(d, all.subspan(static_cast<size_t>(test)), name + " (train part)"),
          take_rows(d, all.first(static_cast<size_t>(test)), name + " (test part)")};
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  Tensor images = read_idx_images(images_path);
  std::vector<int32_t> labels = read_idx_labels(labels_path);
  const int64_t n = images.shape()[0];
  if (static_cast<int64_t>(labels.size()) != n) {
    throw Error(ErrorKind::BadInput, fmt::format("{} holds {} images but {} holds {} labels, expected equal counts",
                                                 images_path, n, labels_path, labels.size()));
  }
  const int64_t d = images.shape()[1] * images.shape()[2];
  // Flattening keeps the row-major order: only the shape changes.
  return make_dataset(std::move(images).reshaped(Shape{n, d}), std::move(labels), images_path);
}

Dataset load_csv_dataset(const std::string& path, const CsvOptions& options) {
  CsvTable t = read_csv(path, options);
  Dataset d = options.target_columns.empty() ? make_dataset(std::move(t.features), std::move(t.labels), path)
                                             : make_target_dataset(std::move(t.features), std::move(t.targets), path);
  d.weights = std::move(t.weights);
  return d;
}

}  // namespace graphrun::io
