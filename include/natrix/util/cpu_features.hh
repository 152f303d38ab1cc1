#pragma once
// CPU feature detection for run-time dispatch of SIMD kernels.
// Process-wide and immutable after first use; safe from any thread.

namespace natrix::util {

struct cpu_features {
    bool sse2 = false;
    bool avx2 = false;
};

// Detected once (CPUID), then cached.
const cpu_features& host_cpu_features() noexcept;

} // namespace natrix::util
