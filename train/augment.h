// Data augmentation of image inputs in training: a random horizontal flip and a random shift
// (zero-filled: pad by `shift` and crop back), drawn per sample from a counter-based hash of
// (seed, epoch, the sample's row in the data set). No generator state: the draws do not depend
// on the batch size, the thread count or data-parallel sharding, and a resumed run draws what
// the uninterrupted one would have. Evaluation and prediction never augment.
#pragma once

#include <cstdint>
#include <vector>

namespace graphrun::train {

struct AugmentConfig {
  bool horizontal_flip = false;  // mirror left-right with probability 1/2
  int64_t shift = 0;             // move by dy, dx uniform in [-shift, shift] pixels
  std::vector<int64_t> image;    // [channels, height, width] of the model's one input
  bool enabled() const { return horizontal_flip || shift > 0; }
};

// What one sample gets: output pixel (y, x) reads the input at (y - dy, x - dx), mirrored
// (x -> width - 1 - x) afterwards when `flip`; pixels from outside the image are 0.
struct AugmentDraw {
  bool flip = false;
  int64_t dy = 0, dx = 0;
};
AugmentDraw augment_draw(const AugmentConfig& config, uint64_t seed, int64_t epoch, int64_t row);

// Writes the augmented copy of one sample `src` (channels x height x width floats) into `dst`.
void augment_image(const AugmentConfig& config, const float* src, float* dst, uint64_t seed, int64_t epoch,
                   int64_t row);

}  // namespace graphrun::train
