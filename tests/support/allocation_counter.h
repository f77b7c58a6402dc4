// Counts heap allocations while enabled: operator new, and (outside sanitizer builds, whose
// runtime owns malloc) every malloc-family call, through glibc's __libc_* entry points, so
// allocations inside shared libraries (oneDNN, libgomp) are counted too.
//
// This header DEFINES the replacement allocation functions: include it in exactly one .cc of
// a test binary. Use AllocationCount to count a region:
//
//   graphrun::testing::AllocationCount count;   // starts counting
//   p->run();
//   EXPECT_EQ(count.stop(), 0);
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "tests/support/sanitizer.h"

namespace graphrun::testing {
inline std::atomic<bool> g_counting{false};
inline std::atomic<int64_t> g_allocations{0};
inline void count_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
}

// Counts from construction until stop() (or destruction). Not nestable.
class AllocationCount {
 public:
  AllocationCount() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationCount() { g_counting = false; }
  int64_t stop() {
    g_counting = false;
    return g_allocations.load();
  }
};
}  // namespace graphrun::testing

#if defined(GRAPHRUN_TEST_ASAN)
// Under ASan its runtime owns malloc: count through operator new instead, replacing every
// unaligned form (plain, nothrow, array) and its delete together, so no pair is mismatched.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  graphrun::testing::count_allocation();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  graphrun::testing::count_allocation();
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#else
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  graphrun::testing::count_allocation();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
  graphrun::testing::count_allocation();
  return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
  graphrun::testing::count_allocation();
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t a, size_t n) {
  graphrun::testing::count_allocation();
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  graphrun::testing::count_allocation();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}
}
#endif
