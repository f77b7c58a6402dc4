#include "io/dataset.h"

#include <algorithm>
#include <fmt/format.h>

#include "core/error.h"
#include "io/idx.h"

namespace graphrun::io {

Dataset make_dataset(Tensor features, std::vector<int32_t> labels, const std::string& name) {
  if (features.shape().rank() != 2) {
    throw Error(ErrorKind::Shape, fmt::format("{}: features have shape {}, expected [samples, features]", name,
                                              features.shape().str()));
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
  return make_dataset(std::move(t.features), std::move(t.labels), path);
}

}  // namespace graphrun::io
