// CSV of numbers: one sample per line, f32 features and optionally one integer label column
// or several float target columns. A gzip'd file (starting with 1f 8b) is inflated first.
//
// Format accepted: cells separated by `delimiter`, no quoting; spaces around a cell are
// ignored; '\n' or "\r\n" line ends; a UTF-8 byte-order mark is skipped; blank lines are
// skipped. Every row has the column count of the first row (or the header). Feature cells are
// decimal floats; NaN and infinity are rejected (bad training data, not a missing-value code).
// The label cell must be a non-negative integer (an integral float such as "3.0" is accepted),
// below `classes` when that is given. Target cells are finite floats. `skip_lines` lines (any
// text: a data set's own preamble such as "150,4,setosa,...") are dropped before the header.
// The weight cell (weight_column) is a finite number >= 0, and not every weight may be 0.
//
// Errors: Error(BadInput) naming file:line (and :column for a cell), what was found (quoted,
// cut short) and what was expected; Error(Io) when the file cannot be read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace graphrun::io {

inline constexpr uint64_t kCsvMaxFileBytes = uint64_t{4} << 30;
inline constexpr uint64_t kCsvMaxLineBytes = uint64_t{1} << 20;

struct CsvOptions {
  bool header = false;    // the first non-blank line names the columns
  int label_column = -1;  // -1: no labels; else the 0-based index of the label column
  char delimiter = ',';
  int skip_lines = 0;                    // lines dropped first, whatever they hold
  std::vector<int> target_columns = {};  // float targets (0-based); with them label_column must be -1
  int64_t classes = 0;                   // > 0: a label must be below it (the model's outputs)
  int weight_column = -1;                // -1: none; else each row's sample weight (not a feature)
};

struct CsvTable {
  Tensor features;                   // [rows, the columns that are neither label nor target]
  std::vector<int32_t> labels;       // one per row, empty without a label column
  Tensor targets;                    // [rows, target columns], empty without target columns
  std::vector<float> weights;        // one per row, empty without a weight column
  std::vector<std::string> columns;  // the header's names (all columns), empty without a header
};

CsvTable read_csv(const std::string& path, const CsvOptions& options = {});
CsvTable parse_csv(std::string_view text, const std::string& name_for_errors, const CsvOptions& options = {});

}  // namespace graphrun::io
