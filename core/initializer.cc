#include "core/initializer.h"

#include <cmath>
#include <random>

#include "core/error.h"

namespace graphrun {
namespace {

// Uniform in [0, 1) from the top 53 bits: identical on every platform.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Box-Muller with both outputs used.
struct Normal {
  bool has_spare = false;
  double spare = 0.0;
  double operator()(std::mt19937_64& rng) {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u1 = 0.0;
    while (u1 <= 0.0) u1 = uniform01(rng);
    double u2 = uniform01(rng);
    double r = std::sqrt(-2.0 * std::log(u1));
    spare = r * std::sin(2.0 * M_PI * u2);
    has_spare = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
};

}  // namespace

const char* to_string(InitKind kind) {
  switch (kind) {
    case InitKind::Zeros:
      return "zeros";
    case InitKind::Constant:
      return "constant";
    case InitKind::Normal:
      return "normal";
    case InitKind::Uniform:
      return "uniform";
    case InitKind::GlorotUniform:
      return "glorot_uniform";
    case InitKind::GlorotNormal:
      return "glorot_normal";
    case InitKind::HeNormal:
      return "he_normal";
    case InitKind::HeUniform:
      return "he_uniform";
  }
  return "?";
}

InitKind parse_init_kind(std::string_view name, std::string_view context) {
  for (InitKind k : {InitKind::Zeros, InitKind::Constant, InitKind::Normal, InitKind::Uniform, InitKind::GlorotUniform,
                     InitKind::GlorotNormal, InitKind::HeNormal, InitKind::HeUniform}) {
    if (name == to_string(k)) return k;
  }
  throw Error(ErrorKind::BadInput,
              std::string(context) + ": unknown initializer '" + std::string(name) +
                  "'; known: zeros, constant, normal, uniform, glorot_uniform, glorot_normal, he_normal, he_uniform");
}

std::string Initializer::str() const {
  switch (kind) {
    case InitKind::Normal:
      return "normal(" + std::to_string(a) + ", " + std::to_string(b) + ")";
    case InitKind::Uniform:
      return "uniform(" + std::to_string(a) + ", " + std::to_string(b) + ")";
    case InitKind::Constant:
      return "constant(" + std::to_string(a) + ")";
    default:
      return to_string(kind);
  }
}

void initialize(const Initializer& init, Tensor& t, uint64_t seed) {
  const Shape& s = t.shape();
  double fan_in = s.rank() >= 2 ? static_cast<double>(s.numel() / s[s.rank() - 1]) : static_cast<double>(s.numel());
  double fan_out = s.rank() >= 2 ? static_cast<double>(s[s.rank() - 1]) : static_cast<double>(s.numel());
  if (s.rank() == 4 && s.numel() > 0) {  // a convolution's [O, C/groups, kh, kw] (PyTorch's fans)
    fan_in = static_cast<double>(s.numel() / s[0]);
    fan_out = static_cast<double>(s.numel() / s[1]);
  }
  std::mt19937_64 rng(seed);
  Normal normal;
  auto fill_uniform = [&](double lo, double hi) {
    for (float& v : t.span()) v = static_cast<float>(lo + (hi - lo) * uniform01(rng));
  };
  auto fill_normal = [&](double mean, double std) {
    for (float& v : t.span()) v = static_cast<float>(mean + std * normal(rng));
  };
  switch (init.kind) {
    case InitKind::Zeros:
      std::fill(t.span().begin(), t.span().end(), 0.0f);
      return;
    case InitKind::Constant:
      std::fill(t.span().begin(), t.span().end(), static_cast<float>(init.a));
      return;
    case InitKind::Normal:
      fill_normal(init.a, init.b);
      return;
    case InitKind::Uniform:
      fill_uniform(init.a, init.b);
      return;
    case InitKind::GlorotUniform: {
      double limit = std::sqrt(6.0 / (fan_in + fan_out));
      fill_uniform(-limit, limit);
      return;
    }
    case InitKind::GlorotNormal:
      fill_normal(0.0, std::sqrt(2.0 / (fan_in + fan_out)));
      return;
    case InitKind::HeNormal:
      fill_normal(0.0, std::sqrt(2.0 / fan_in));
      return;
    case InitKind::HeUniform: {
      double limit = std::sqrt(6.0 / fan_in);
      fill_uniform(-limit, limit);
      return;
    }
  }
}

}  // namespace graphrun
