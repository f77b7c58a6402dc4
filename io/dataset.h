// Dataset: a whole labelled data set in memory, features flattened to [N, D], with class
// labels (classification) or float targets (regression, binary and multi-label tasks).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "io/csv.h"

namespace graphrun::io {

struct Dataset {
  Tensor features;              // [N, D] f32, unscaled
  std::vector<int32_t> labels;  // N class indices (empty for an unlabelled CSV)
  int64_t num_classes = 0;      // max label + 1 (0 without labels)
  Tensor targets;               // [N, T] float targets; empty for class labels
  // Per-sample weights (each >= 0), multiplying each sample's loss and gradient; empty: all 1.
  std::vector<float> weights;

  bool has_targets() const { return targets.shape().rank() == 2 && targets.numel() > 0; }
  bool has_labels_or_targets() const { return !labels.empty() || has_targets(); }

  int64_t size() const { return features.shape().rank() == 0 ? 0 : features.shape()[0]; }
  int64_t feature_count() const { return features.shape().rank() < 2 ? 0 : features.shape()[1]; }
};

// IDX images [N, rows, cols] and labels [N]: features [N, rows*cols]. The counts must match.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path);

// A CSV table (see csv.h); with options.label_column = -1 the labels are empty.
Dataset load_csv_dataset(const std::string& path, const CsvOptions& options);

// Builds a Dataset from parts already in memory; checks the shapes and counts.
Dataset make_dataset(Tensor features, std::vector<int32_t> labels, const std::string& name_for_errors);
// The same with float targets [N, T] (no class labels).
Dataset make_target_dataset(Tensor features, Tensor targets, const std::string& name_for_errors);

// The given rows, in the given order (labels, targets and weights follow their rows).
Dataset take_rows(const Dataset& d, std::span<const int64_t> rows, const std::string& name_for_errors);
// A seeded shuffle of the rows cut into (train, test): round(N * test_fraction) rows go to the
// test set, at least one to each. test_fraction must be in (0, 1); the same seed gives the same
// split on every platform.
std::pair<Dataset, Dataset> split_dataset(const Dataset& d, double test_fraction, uint64_t seed,
                                          const std::string& name_for_errors);

}  // namespace graphrun::io
