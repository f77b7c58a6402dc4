#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace graphrun::train {

void regression_metrics(const float* pred, const float* target, int64_t n, int64_t cols, Metrics& m) {
  if (n <= 0 || cols <= 0) return;
  double abs_sum = 0.0, sq_sum = 0.0, total = 0.0;
  for (int64_t c = 0; c < cols; ++c) {
    double mean = 0.0;
    for (int64_t i = 0; i < n; ++i) mean += target[i * cols + c];
    mean /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) {
      const double t = target[i * cols + c], d = static_cast<double>(pred[i * cols + c]) - t;
      abs_sum += std::abs(d);
      sq_sum += d * d;
      total += (t - mean) * (t - mean);
    }
  }
  const double cells = static_cast<double>(n * cols);
  m.mae = abs_sum / cells;
  m.rmse = std::sqrt(sq_sum / cells);
  m.r2 = total > 0.0 ? 1.0 - sq_sum / total : kNoMetric;
}

void binary_metrics(const float* score, const float* truth, int64_t n, Metrics& m) {
  if (n <= 0) return;
  int64_t tp = 0, fp = 0, fn = 0;
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const bool positive = truth[i] >= 0.5f, predicted = score[i] >= 0.5f;
    tp += positive && predicted;
    fp += !positive && predicted;
    fn += positive && !predicted;
    order[static_cast<size_t>(i)] = i;
  }
  m.precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
  m.recall = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
  m.f1 = m.precision + m.recall > 0 ? 2.0 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  // AUC by the rank-sum (Mann-Whitney U): tied scores share their mean rank.
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] < score[b]; });
  double positive_rank_sum = 0.0;
  int64_t positives = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j < n && score[order[static_cast<size_t>(j)]] == score[order[static_cast<size_t>(i)]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (int64_t k = i; k < j; ++k) {
      if (truth[order[static_cast<size_t>(k)]] >= 0.5f) positive_rank_sum += rank, ++positives;
    }
    i = j;
  }
  const int64_t negatives = n - positives;
  if (positives > 0 && negatives > 0) {
    const double p = static_cast<double>(positives);
    m.roc_auc = (positive_rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
  }
}

void class_metrics(const std::vector<std::vector<int64_t>>& confusion, Metrics& m) {
  const size_t k = confusion.size();
  m.class_precision.assign(k, kNoMetric);
  m.class_recall.assign(k, kNoMetric);
  double f1_sum = 0.0;
  int counted = 0;
  for (size_t c = 0; c < k; ++c) {
    int64_t tp = confusion[c][c], actual = 0, predicted = 0;
    for (size_t o = 0; o < k; ++o) actual += confusion[c][o], predicted += confusion[o][c];
    if (actual == 0 && predicted == 0) continue;
    const double p = predicted > 0 ? static_cast<double>(tp) / static_cast<double>(predicted) : 0.0;
    const double r = actual > 0 ? static_cast<double>(tp) / static_cast<double>(actual) : 0.0;
    m.class_precision[c] = p;
    m.class_recall[c] = r;
    f1_sum += p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    ++counted;
  }
  if (counted > 0) m.macro_f1 = f1_sum / counted;
}

double top_k_accuracy(const float* scores, const int32_t* labels, int64_t n, int64_t cols, int k) {
  if (n <= 0) return kNoMetric;
  int64_t hits = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = scores + i * cols;
    const float mine = row[labels[i]];
    int64_t above = 0;  // classes scored strictly higher than the label's
    for (int64_t c = 0; c < cols; ++c) above += row[c] > mine;
    hits += above < k;
  }
  return static_cast<double>(hits) / static_cast<double>(n);
}

std::vector<std::pair<std::string, double>> metric_values(const Metrics& m) {
  std::vector<std::pair<std::string, double>> v;
  auto add = [&](std::string name, double x) {
    if (!std::isnan(x)) v.emplace_back(std::move(name), x);
  };
  add("mae", m.mae);
  add("rmse", m.rmse);
  add("r2", m.r2);
  add("precision", m.precision);
  add("recall", m.recall);
  add("f1", m.f1);
  add("roc_auc", m.roc_auc);
  if (m.top_k > 0) add(prefixed("top", std::to_string(m.top_k) + "_accuracy"), m.top_k_accuracy);
  add("macro_f1", m.macro_f1);
  return v;
}

bool higher_is_better(const std::string& name) {
  std::string base = name;
  for (const char* prefix : {"val_", "test_"}) {
    if (base.starts_with(prefix)) base = base.substr(std::string(prefix).size());
  }
  return !(base == "loss" || base == "mae" || base == "rmse");
}

std::string prefixed(const char* prefix, const std::string& name) {
  std::string s = prefix;
  s += name;
  return s;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {
      "mae", "rmse", "r2", "precision", "recall", "f1", "roc_auc", "top2_accuracy", "top3_accuracy", "macro_f1"};
  return names;
}

}  // namespace graphrun::train
