// Compiles an optimizer step three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the
// baseline, and picks one at load time (GCC function multi-versioning). The update rules use
// std::fma to match PyTorch's fused CPU kernels bit for bit; without FMA in the instruction set
// that is a slow library call, so the v3 clone is what makes the step fast.
// Not under ThreadSanitizer: the clones' ifunc resolver runs while dlopen relocates the plugin,
// before TSan can run instrumented code, and crashes there.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define GRAPHRUN_OPTIMIZER_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GRAPHRUN_OPTIMIZER_KERNEL
#endif
