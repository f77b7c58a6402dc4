// Evaluation metrics beyond accuracy, from a model's outputs and the truth: regression (MAE,
// RMSE, R²), binary and multi-label (precision, recall, F1, ROC AUC of the positive class),
// multi-class (top-k accuracy, macro F1, per-class precision and recall). Pure functions; a
// metric that does not apply, or has no defined value (R² of a constant target), is NaN.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace graphrun::train {

inline constexpr double kNoMetric = std::numeric_limits<double>::quiet_NaN();

struct Metrics {
  double mae = kNoMetric, rmse = kNoMetric, r2 = kNoMetric;
  double precision = kNoMetric, recall = kNoMetric, f1 = kNoMetric, roc_auc = kNoMetric;
  int top_k = 0;
  double top_k_accuracy = kNoMetric, macro_f1 = kNoMetric;
  std::vector<double> class_precision, class_recall;  // multi-class, one per class
};

// pred, target: n x cols row-major. R² is 1 - SS_res / SS_tot over all cells, each column
// centred on its own mean (sklearn's r2_score with uniform averaging when cols == 1).
void regression_metrics(const float* pred, const float* target, int64_t n, int64_t cols, Metrics& m);

// score: probabilities of the positive class, truth: 0/1 (>= 0.5 counts as 1); n cells (rows
// times labels: multi-label metrics are micro-averaged). Predicted positive: score >= 0.5.
// ROC AUC: the probability that a random positive outranks a random negative (ties count half).
void binary_metrics(const float* score, const float* truth, int64_t n, Metrics& m);

// confusion[true][predicted]: per-class precision and recall, macro F1 (the mean of the
// classes' F1; a class with no samples and no predictions is left out).
void class_metrics(const std::vector<std::vector<int64_t>>& confusion, Metrics& m);

// Fraction of rows whose label is among the k highest of the row's n x cols scores.
double top_k_accuracy(const float* scores, const int32_t* labels, int64_t n, int64_t cols, int k);

// The metrics that apply, as (name, value) in a fixed order: mae, rmse, r2, precision,
// recall, f1, roc_auc, top<k>_accuracy, macro_f1. The names `--metric`, `monitor` and the
// history files use (with "val_" or "test_" before them).
std::vector<std::pair<std::string, double>> metric_values(const Metrics& m);

// Whether a larger value of the named metric is better (accuracy, r2, f1, ...); loss, mae
// and rmse are better smaller. Accepts a "val_" / "test_" prefix.
bool higher_is_better(const std::string& name);

// prefix + name (a function: GCC 12's -Wrestrict misfires on "literal" + std::string).
std::string prefixed(const char* prefix, const std::string& name);

// The metric names monitor / --metric accept beside the loss and accuracy ones.
const std::vector<std::string>& metric_names();

}  // namespace graphrun::train
