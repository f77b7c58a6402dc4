// Feature scaling fitted on training data: y = (x - offset) * scale, per feature.
//
// The fitted statistics are plain [D] tensors, so a checkpoint stores them as safetensors
// (e.g. "scaler.offset", "scaler.scale") and the same scaling is applied at inference.
// Fit on the training split only, then apply to every split.
#pragma once

#include <string>
#include <string_view>

#include "core/tensor.h"

namespace graphrun::io {

enum class Scaling {
  None,          // offset 0, scale 1
  MinMax,        // per feature: (x - min) / (max - min); a constant feature gets scale 1
  MinMaxGlobal,  // one min and max over all features (the tutorial's x / 255 on images)
  Standardize,   // per feature: (x - mean) / std, population std; std 0 gets scale 1
};

struct Scaler {
  Scaling kind = Scaling::None;
  Tensor offset;  // [D]
  Tensor scale;   // [D]
};

// Fits on features [N, D] (N >= 1, all values finite); statistics accumulate in double.
Scaler fit_scaler(Scaling kind, const Tensor& features);
// Scales features [M, D] in place; D must match the scaler's.
void apply_scaler(const Scaler& scaler, Tensor& features);

// "none", "minmax", "minmax_global", "standardize"; anything else is Error(BadInput).
Scaling parse_scaling(std::string_view name);
const char* to_string(Scaling kind);

}  // namespace graphrun::io
