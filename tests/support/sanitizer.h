// GRAPHRUN_TEST_ASAN is defined when the test is built with AddressSanitizer: GCC says so with
// __SANITIZE_ADDRESS__, clang with __has_feature(address_sanitizer).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define GRAPHRUN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRAPHRUN_TEST_ASAN 1
#endif
#endif

namespace graphrun::testing {
#if defined(GRAPHRUN_TEST_ASAN)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
}  // namespace graphrun::testing
