#include "io/scaling.h"

#include <fmt/format.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"

namespace graphrun::io {

namespace {
constexpr Scaling kAll[] = {Scaling::None, Scaling::MinMax, Scaling::MinMaxGlobal, Scaling::Standardize};

// 1 / range, or 1 for a zero (or non-finite) range: a constant feature is only shifted.
float inverse_or_one(double range) {
  if (!(range > 0) || !std::isfinite(range)) return 1.0f;
  double inv = 1.0 / range;
  return std::isfinite(static_cast<float>(inv)) ? static_cast<float>(inv) : 1.0f;
}
// No NaN or infinity among x[0, n): a test of the exponent bits, which vectorizes.
bool all_finite(const float* x, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad |= static_cast<uint32_t>((std::bit_cast<uint32_t>(x[i]) & 0x7f800000u) == 0x7f800000u);
  return bad == 0;
}
}  // namespace

const char* to_string(Scaling kind) {
  switch (kind) {
    case Scaling::None:
      return "none";
    case Scaling::MinMax:
      return "minmax";
    case Scaling::MinMaxGlobal:
      return "minmax_global";
    case Scaling::Standardize:
      return "standardize";
  }
  return "?";
}

Scaling parse_scaling(std::string_view name) {
  for (Scaling s : kAll) {
    if (name == to_string(s)) return s;
  }
  throw Error(ErrorKind::BadInput, fmt::format("unknown scaling \"{}\", expected none, minmax, minmax_global or "
                                               "standardize",
                                               name.substr(0, 40)));
}

Scaler fit_scaler(Scaling kind, const Tensor& features) {
  const Shape& s = features.shape();
  if (s.rank() != 2 || s[0] < 1) {
    throw Error(ErrorKind::Shape,
                fmt::format("scaling: features have shape {}, expected [samples >= 1, features]", s.str()));
  }
  const int64_t n = s[0], d = s[1];
  const float* x = features.data();
  if (!all_finite(x, n * d)) {
    for (int64_t i = 0; i < n * d; ++i) {
      if (!std::isfinite(x[i])) {
        throw Error(ErrorKind::BadInput,
                    fmt::format("scaling: sample {} feature {} is {}, expected a finite value", i / d, i % d, x[i]));
      }
    }
  }
  Scaler sc{kind, Tensor(Shape{d}), Tensor(Shape{d})};
  float* offset = sc.offset.data();
  float* scale = sc.scale.data();
  // Loops run along rows with `a < b ? a : b` (a vector min once the values are finite).
  switch (kind) {
    case Scaling::None:
      std::fill(scale, scale + d, 1.0f);
      break;
    case Scaling::MinMax: {
      std::vector<float> hi(x, x + d);
      std::copy(x, x + d, offset);
      for (int64_t i = 1; i < n; ++i) {
        const float* row = x + i * d;
        for (int64_t j = 0; j < d; ++j) {
          offset[j] = row[j] < offset[j] ? row[j] : offset[j];
          hi[static_cast<size_t>(j)] = row[j] > hi[static_cast<size_t>(j)] ? row[j] : hi[static_cast<size_t>(j)];
        }
      }
      for (int64_t j = 0; j < d; ++j)
        scale[j] = inverse_or_one(static_cast<double>(hi[static_cast<size_t>(j)]) - offset[j]);
      break;
    }
    case Scaling::MinMaxGlobal: {
      float lo = x[0], hi = x[0];
      for (int64_t i = 0; i < n * d; ++i) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
      }
      std::fill(offset, offset + d, lo);
      std::fill(scale, scale + d, inverse_or_one(static_cast<double>(hi) - lo));
      break;
    }
    case Scaling::Standardize: {
      std::vector<double> mean(static_cast<size_t>(d), 0.0), m2(static_cast<size_t>(d), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(j)] += x[i * d + j];
      }
      for (double& m : mean) m /= static_cast<double>(n);
      // Two passes: the sum of squared deviations does not cancel catastrophically.
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < d; ++j) {
          double dev = x[i * d + j] - mean[static_cast<size_t>(j)];
          m2[static_cast<size_t>(j)] += dev * dev;
        }
      }
      for (int64_t j = 0; j < d; ++j) {
        offset[j] = static_cast<float>(mean[static_cast<size_t>(j)]);
        scale[j] = inverse_or_one(std::sqrt(m2[static_cast<size_t>(j)] / static_cast<double>(n)));
      }
      break;
    }
  }
  return sc;
}

void apply_scaler(const Scaler& scaler, Tensor& features) {
  // No scaling needs no statistics (a weights file written without a scaler has none).
  if (scaler.kind == Scaling::None) return;
  const Shape& s = features.shape();
  const int64_t d = scaler.offset.numel();
  if (s.rank() != 2 || s[1] != d || scaler.scale.numel() != d || scaler.scale.shape().rank() != 1) {
    throw Error(ErrorKind::Shape, fmt::format("scaling: features have shape {}, the scaler was fitted on {} features",
                                              s.str(), scaler.offset.shape().str()));
  }
  const float* offset = scaler.offset.data();
  const float* scale = scaler.scale.data();
  float* x = features.data();
  for (int64_t i = 0; i < s[0]; ++i) {
    float* row = x + i * d;
    for (int64_t j = 0; j < d; ++j) row[j] = (row[j] - offset[j]) * scale[j];
  }
}

}  // namespace graphrun::io
