#include "train/augment.h"

#include <algorithm>
#include <cstring>

#include "core/run_state.h"

namespace graphrun::train {

AugmentDraw augment_draw(const AugmentConfig& config, uint64_t seed, int64_t epoch, int64_t row) {
  // One 64-bit hash per sample: bit 0 the flip, dy and dx from two higher 24-bit fields.
  const uint64_t r = splitmix64(splitmix64(seed ^ 0x6175676d656e74ull) ^ splitmix64(static_cast<uint64_t>(epoch)) ^
                                static_cast<uint64_t>(row));
  const uint64_t span = static_cast<uint64_t>(2 * config.shift + 1);
  return {config.horizontal_flip && (r & 1u) != 0, static_cast<int64_t>(((r >> 8) & 0xffffff) % span) - config.shift,
          static_cast<int64_t>(((r >> 32) & 0xffffff) % span) - config.shift};
}

void augment_image(const AugmentConfig& config, const float* src, float* dst, uint64_t seed, int64_t epoch,
                   int64_t row) {
  const int64_t channels = config.image[0], h = config.image[1], w = config.image[2];
  const auto [flip, dy, dx] = augment_draw(config, seed, epoch, row);
  // Output pixel (y, x) reads input (y - dy, x' - dx), x' = x or w-1-x when flipped; outside: 0.
  for (int64_t c = 0; c < channels; ++c) {
    const float* in = src + c * h * w;
    float* out = dst + c * h * w;
    for (int64_t y = 0; y < h; ++y) {
      float* o = out + y * w;
      const int64_t sy = y - dy;
      if (sy < 0 || sy >= h) {
        std::fill(o, o + w, 0.0f);
        continue;
      }
      const float* i = in + sy * w;
      // Columns x with 0 <= x - dx < w read i[x - dx]; the rest are 0.
      const int64_t lo = std::max<int64_t>(0, dx), hi = std::min<int64_t>(w, w + dx);
      if (!flip) {
        std::fill(o, o + lo, 0.0f);
        std::fill(o + hi, o + w, 0.0f);
        std::memcpy(o + lo, i + (lo - dx), static_cast<size_t>(hi - lo) * sizeof(float));
      } else {
        for (int64_t x = 0; x < w; ++x) {  // flipped after the shift: o[x] = shifted[w - 1 - x]
          const int64_t sx = (w - 1 - x) - dx;
          o[x] = sx >= 0 && sx < w ? i[sx] : 0.0f;
        }
      }
    }
  }
}

}  // namespace graphrun::train
