#include <gtest/gtest.h>

#include <natrix/util/cpu_features.hh>

TEST(cpu_features, x86_64_always_has_sse2_and_avx2_implies_it) {
    const auto& f = natrix::util::host_cpu_features();
#if defined(__x86_64__)
    EXPECT_TRUE(f.sse2);
#endif
    if (f.avx2) {
        EXPECT_TRUE(f.sse2);
    }
    EXPECT_EQ(&f, &natrix::util::host_cpu_features());
}
