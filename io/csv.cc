#include "io/csv.h"

#include <fmt/format.h>
#include <charconv>
#include <cmath>
#include <system_error>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/gzip.h"
#include "io/quote.h"

namespace graphrun::io {
namespace {

struct Cell {
  std::string_view text;
  size_t column = 0;  // 1-based byte column of the cell's first character in its line
};

struct Splitter {
  char delimiter;
  std::vector<Cell> cells;

  bool is_space(char c) const { return (c == ' ' || c == '\t') && c != delimiter; }

  void split(std::string_view line) {
    cells.clear();
    size_t start = 0;
    for (;;) {
      size_t end = line.find(delimiter, start);
      size_t stop = end == std::string_view::npos ? line.size() : end;
      size_t b = start, e = stop;
      while (b < e && is_space(line[b])) ++b;
      while (e > b && is_space(line[e - 1])) --e;
      cells.push_back({line.substr(b, e - b), b + 1});
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
};

// Parses a whole cell as a float; the error text (empty on success) says what is wrong.
std::string parse_number(std::string_view s, double& out) {
  if (s.empty()) return "is empty, expected a number";
  std::string_view body = s;
  if (body.size() > 1 && body[0] == '+' && body[1] != '-') body.remove_prefix(1);
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), out);
  if (ec == std::errc::result_out_of_range) return "is out of range, expected a number within float range";
  if (ec != std::errc() || end != body.data() + body.size()) return "is not a number";
  if (std::isnan(out) || std::isinf(out)) {
    return "is not a finite number (NaN and infinity are not accepted in training data)";
  }
  if (std::fabs(out) > 3.4028234663852886e38) return "is out of range, expected a number within float range";
  return {};
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& file, const CsvOptions& options) {
  if (options.label_column < -1) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: label column {} is invalid, expected -1 (none) or a column index",
                                                 file, options.label_column));
  }
  if (options.skip_lines < 0) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: skip_lines {} is invalid, expected 0 or more", file, options.skip_lines));
  }
  if (!options.target_columns.empty() && options.label_column >= 0) {
    throw Error(ErrorKind::BadInput, fmt::format("{}: give a label column or target columns, not both", file));
  }
  if (options.weight_column < -1) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: weight column {} is invalid, expected -1 (none) or a column index", file,
                            options.weight_column));
  }
  for (int t : options.target_columns) {
    if (t < 0)
      throw Error(ErrorKind::BadInput, fmt::format("{}: target column {} is invalid, expected 0 or more", file, t));
  }
  if (options.delimiter == '\n' || options.delimiter == '\r') {
    throw Error(ErrorKind::BadInput, fmt::format("{}: the delimiter cannot be a line break", file));
  }
  auto bad = [&](size_t line, const std::string& what) {
    throw Error(ErrorKind::BadInput, fmt::format("{}:{}: {}", file, line, what));
  };
  auto bad_cell = [&](size_t line, size_t column, const std::string& what) {
    throw Error(ErrorKind::BadInput, fmt::format("{}:{}:{}: {}", file, line, column, what));
  };
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  if (text.empty()) throw Error(ErrorKind::BadInput, fmt::format("{}: file is empty, expected CSV rows", file));

  CsvTable table;
  Splitter splitter{options.delimiter, {}};
  std::vector<float> values, targets;
  // Per column: -1 a feature, -2 the label, -3 the sample weight, else the index among the targets.
  std::vector<int> role;
  const size_t target_count = options.target_columns.size();
  size_t skip = static_cast<size_t>(options.skip_lines);
  size_t columns = 0;       // 0 until the first row (or header) fixes it
  size_t columns_line = 0;  // the line that fixed it
  size_t rows = 0;
  bool header_pending = options.header;
  const size_t label = options.label_column < 0 ? SIZE_MAX : static_cast<size_t>(options.label_column);
  const size_t weight = options.weight_column < 0 ? SIZE_MAX : static_cast<size_t>(options.weight_column);
  double weight_sum = 0.0;

  size_t pos = 0;
  for (size_t line_no = 1; pos < text.size(); ++line_no) {
    size_t nl = text.find('\n', pos);
    size_t stop = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, stop - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.size() > kCsvMaxLineBytes) {
      bad(line_no, fmt::format("line is {} bytes, longer than the limit of {}", line.size(), kCsvMaxLineBytes));
    }
    if (skip > 0) {
      --skip;
      continue;
    }
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank

    splitter.split(line);
    const std::vector<Cell>& cells = splitter.cells;
    if (columns == 0) {
      columns = cells.size();
      columns_line = line_no;
      if (label != SIZE_MAX && label >= columns) {
        bad(line_no, fmt::format("label column {} does not exist: the line has {} columns", label, columns));
      }
      if (label != SIZE_MAX && columns == 1) {
        bad(line_no, "the only column is the label column, expected at least one feature column");
      }
      role.assign(columns, -1);
      if (label != SIZE_MAX) role[label] = -2;
      for (size_t t = 0; t < target_count; ++t) {
        const size_t col = static_cast<size_t>(options.target_columns[t]);
        if (col >= columns) {
          bad(line_no, fmt::format("target column {} does not exist: the line has {} columns", col, columns));
        }
        if (role[col] != -1) bad(line_no, fmt::format("target column {} is given twice", col));
        role[col] = static_cast<int>(t);
      }
      if (weight != SIZE_MAX) {
        if (weight >= columns) {
          bad(line_no, fmt::format("weight column {} does not exist: the line has {} columns", weight, columns));
        }
        if (role[weight] != -1)
          bad(line_no, fmt::format("weight column {} is also the label or a target column", weight));
        role[weight] = -3;
      }
      if (target_count >= columns) {
        bad(line_no, "every column is a target column, expected at least one feature column");
      }
      if (weight != SIZE_MAX && target_count + 1 + (label != SIZE_MAX ? 1 : 0) >= columns) {
        bad(line_no, "no column is left for the features beside the weight column, expected at least one");
      }
    } else if (cells.size() != columns) {
      bad(line_no, fmt::format("expected {} columns (as on line {}), got {}", columns, columns_line, cells.size()));
    }
    if (header_pending) {
      header_pending = false;
      for (const Cell& c : cells) table.columns.emplace_back(c.text);
      continue;
    }
    const size_t tbase = targets.size();  // this row's targets, in the order of target_columns
    targets.resize(tbase + target_count);
    for (size_t i = 0; i < cells.size(); ++i) {
      const Cell& c = cells[i];
      double v = 0;
      std::string problem = parse_number(c.text, v);
      if (i == label) {
        if (!problem.empty() || v < 0 || v > INT32_MAX || v != std::floor(v)) {
          bad_cell(line_no, c.column,
                   fmt::format("label {} is not a non-negative integer class index", quote_text(c.text, 40)));
        }
        if (options.classes > 0 && v >= static_cast<double>(options.classes)) {
          bad_cell(line_no, c.column,
                   fmt::format("label {} is outside the model's {} classes (0 to {})", quote_text(c.text, 40),
                               options.classes, options.classes - 1));
        }
        table.labels.push_back(static_cast<int32_t>(v));
        continue;
      }
      if (role[i] == -3) {
        if (!problem.empty() || v < 0) {
          bad_cell(line_no, c.column,
                   fmt::format("weight column {} value {} is not a sample weight: expected a finite number >= 0", i,
                               quote_text(c.text, 40)));
        }
        table.weights.push_back(static_cast<float>(v));
        weight_sum += v;
        continue;
      }
      if (role[i] >= 0) {
        if (!problem.empty()) {
          bad_cell(line_no, c.column, fmt::format("target column {} value {} {}", i, quote_text(c.text, 40), problem));
        }
        targets[tbase + static_cast<size_t>(role[i])] = static_cast<float>(v);
        continue;
      }
      if (!problem.empty()) {
        std::string hint = rows == 0 && !options.header && problem == "is not a number"
                               ? " (if this line names the columns, read it as a header)"
                               : "";
        bad_cell(line_no, c.column, fmt::format("column {} value {} {}{}", i, quote_text(c.text, 40), problem, hint));
      }
      values.push_back(static_cast<float>(v));
    }
    ++rows;
  }
  if (rows == 0) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: no data rows{}", file, options.header ? " after the header" : ""));
  }
  if (weight != SIZE_MAX && !(weight_sum > 0)) {
    throw Error(ErrorKind::BadInput,
                fmt::format("{}: every sample weight (column {}) is 0, expected at least one > 0", file, weight));
  }
  const size_t features = columns - (label != SIZE_MAX ? 1 : 0) - (weight != SIZE_MAX ? 1 : 0) - target_count;
  table.features = Tensor(Shape{static_cast<int64_t>(rows), static_cast<int64_t>(features)}, values);
  if (target_count > 0)
    table.targets = Tensor(Shape{static_cast<int64_t>(rows), static_cast<int64_t>(target_count)}, targets);
  return table;
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  std::vector<std::byte> bytes = read_file(path, kCsvMaxFileBytes);
  if (is_gzip(bytes)) return parse_csv(gunzip_text(bytes, path, kCsvMaxFileBytes), path, options);
  return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path, options);
}

}  // namespace graphrun::io
