// Overflow-checked unsigned arithmetic for sizes read from files.
//
// Every size that comes from a file (a dimension, an offset, a header length) goes through
// these before it is used to allocate or to index: a product or sum that does not fit in
// 64 bits is an error at the call site, never a wrapped-around small number.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace graphrun::io {

// a * b, or nullopt when the product does not fit in uint64_t.
constexpr std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// a + b, or nullopt when the sum does not fit in uint64_t.
constexpr std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The product of dims (1 for none), or nullopt when it overflows `limit` (default: uint64_t).
// A zero dimension makes the product 0 even if the others would overflow together.
constexpr std::optional<uint64_t> checked_product(std::span<const uint64_t> dims, uint64_t limit = UINT64_MAX) {
  for (uint64_t d : dims) {
    if (d == 0) return 0;
  }
  uint64_t r = 1;
  for (uint64_t d : dims) {
    std::optional<uint64_t> next = checked_mul(r, d);
    if (!next || *next > limit) return std::nullopt;
    r = *next;
  }
  return r;
}

}  // namespace graphrun::io
