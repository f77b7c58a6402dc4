// The GEMM's cache blocking (Goto/BLIS), derived from the caches the CPU reports
// (core/cpu_info.h), not from constants tuned on one machine. Internal to backends/highway;
// plain C++.
//
//   kc (depth block): one B panel (kc x nr floats), which the micro-kernel streams through for
//      every sliver of A, takes at most two thirds of L1d; the rest holds the A sliver's lines.
//   nc (column block): the packed B block (kc x nc) takes half of L2, so it is reused from L2
//      by every row block.
//   mc (row block): the A block (mc x kc; read in place when A is row-major, else packed)
//      takes 9/64 of L2, next to packed B.
// On a Zen 5 core (48 KiB L1d, 1 MiB L2) with AVX-512 (nr = 32, mr = 8) this gives kc 256,
// nc 512, mc 144; an Intel server core (48 KiB, 2 MiB) gets nc 1024 and mc 288.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/cpu_info.h"

namespace graphrun::highway {

struct GemmBlocking {
  int64_t kc = 256, mc = 144, nc = 512;
  bool operator==(const GemmBlocking&) const = default;
};

inline GemmBlocking blocking_for(const CacheSizes& caches, int64_t mr, int64_t nr) {
  const int64_t l1 = caches.l1d > 0 ? caches.l1d : 32 * 1024;  // unknown: a small common size
  const int64_t l2 = caches.l2 > 0 ? caches.l2 : 256 * 1024;
  constexpr int64_t kFloat = sizeof(float);
  GemmBlocking b;
  b.kc = std::clamp<int64_t>(l1 * 2 / 3 / (nr * kFloat) / 16 * 16, 64, 1024);
  // nc >= 64: GemmSmallMTransB packs op(A)^T (kc x at most 64) into the B buffer.
  b.nc = std::clamp<int64_t>(l2 / 2 / (b.kc * kFloat) / nr * nr, std::max<int64_t>(64, nr), 8192);
  b.mc = std::clamp<int64_t>(l2 * 9 / 64 / (b.kc * kFloat) / mr * mr, mr, 4096);
  return b;
}

}  // namespace graphrun::highway
