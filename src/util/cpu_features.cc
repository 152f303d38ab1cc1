#include <natrix/util/cpu_features.hh>

namespace natrix::util {

namespace {
cpu_features detect() noexcept {
    cpu_features f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.sse2 = __builtin_cpu_supports("sse2");
    f.avx2 = __builtin_cpu_supports("avx2");
#endif
    return f;
}
} // namespace

const cpu_features& host_cpu_features() noexcept {
    static const cpu_features features = detect();
    return features;
}

} // namespace natrix::util
