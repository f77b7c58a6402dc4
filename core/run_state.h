// RunState: what a training step's kernels read besides their buffers: the run's seed and the
// optimizer step about to be taken. The trainer writes it before each step (no allocation);
// kernels read it when they run, so one compiled Program serves every step.
//
// Dropout's mask is a counter-based hash of (seed, step, the node's stream, element index):
// no generator state, so the mask does not depend on how elements are split over threads, and
// a run resumed at step s (the checkpoint holds seed and step) draws the masks it would have.
// Every backend keeps an element when dropout_bits(key, i) >= dropout_threshold(rate); the
// Highway kernel computes the same 32-bit hash in vector lanes, so masks agree bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

namespace graphrun {

struct RunState {
  uint64_t seed = 0;
  uint64_t step = 0;
};

inline uint64_t splitmix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The per-step key of one dropout node (computed once per run of its kernel).
inline uint64_t dropout_key(uint64_t seed, uint64_t step, uint64_t stream) {
  return splitmix64(splitmix64(seed ^ splitmix64(stream)) ^ step);
}

// murmur3's 32-bit finaliser: a bijection with full avalanche.
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

// 24 uniform bits for element i (as a float, exact): two finaliser rounds keyed by both halves
// of the 64-bit key.
inline float dropout_bits(uint64_t key, uint64_t i) {
  const uint32_t lo = static_cast<uint32_t>(key), hi = static_cast<uint32_t>(key >> 32);
  const uint32_t h = fmix32(fmix32(static_cast<uint32_t>(i) * 0x9e3779b9u ^ lo) ^ hi);
  return static_cast<float>(h >> 8);
}

// An element is kept when its bits are >= this: a fraction 1 - rate of the 2^24 values.
inline float dropout_threshold(float rate) { return std::floor(static_cast<float>(rate) * 16777216.0f); }

}  // namespace graphrun
