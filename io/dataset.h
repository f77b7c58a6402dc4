// Dataset: a whole labelled data set in memory, features flattened to [N, D].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/csv.h"

namespace graphrun::io {

struct Dataset {
  Tensor features;              // [N, D] f32, unscaled
  std::vector<int32_t> labels;  // N class indices (empty for an unlabelled CSV)
  int64_t num_classes = 0;      // max label + 1 (0 without labels)

  int64_t size() const { return features.shape().rank() == 0 ? 0 : features.shape()[0]; }
  int64_t feature_count() const { return features.shape().rank() < 2 ? 0 : features.shape()[1]; }
};

// IDX images [N, rows, cols] and labels [N]: features [N, rows*cols]. The counts must match.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path);

// A CSV table (see csv.h); with options.label_column = -1 the labels are empty.
Dataset load_csv_dataset(const std::string& path, const CsvOptions& options);

// Builds a Dataset from parts already in memory; checks the shapes and counts.
Dataset make_dataset(Tensor features, std::vector<int32_t> labels, const std::string& name_for_errors);

}  // namespace graphrun::io
