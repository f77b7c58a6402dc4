// Initializer: how a parameter gets its first value. Seeded and reproducible: the same
// (initializer, shape, seed) gives the same values on every machine (our own normal and
// uniform transforms over std::mt19937_64, not the library's distributions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace graphrun {

enum class InitKind { Zeros, Constant, Normal, Uniform, GlorotUniform, GlorotNormal, HeNormal, HeUniform };

struct Initializer {
  InitKind kind = InitKind::GlorotUniform;
  double a = 0.0;  // Normal: mean; Uniform: low; Constant: value
  double b = 1.0;  // Normal: std; Uniform: high

  static Initializer zeros() { return {InitKind::Zeros, 0, 0}; }
  static Initializer constant(double v) { return {InitKind::Constant, v, 0}; }
  static Initializer normal(double mean = 0.0, double std = 1.0) { return {InitKind::Normal, mean, std}; }
  static Initializer uniform(double low, double high) { return {InitKind::Uniform, low, high}; }
  static Initializer glorot_uniform() { return {InitKind::GlorotUniform, 0, 0}; }

  std::string str() const;
};

// "zeros", "normal", "glorot_uniform", ... (parameters given separately); throws BadInput.
InitKind parse_init_kind(std::string_view name, std::string_view context);
const char* to_string(InitKind kind);

// Fills t. fan_in/fan_out come from the shape: [in, out] for a weight, [n] has fan_in = n, a
// convolution's [O, C/groups, kh, kw] has fan_in = C/groups*kh*kw and fan_out = O*kh*kw.
void initialize(const Initializer& init, Tensor& t, uint64_t seed);

}  // namespace graphrun
