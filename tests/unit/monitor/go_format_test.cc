#include <gtest/gtest.h>

#include <natrix/monitor/go_format.hh>

namespace natrix::monitor {
namespace {

using namespace std::chrono;

system_clock::time_point at(long long secs, long long nanos) {
    return system_clock::time_point(
        duration_cast<system_clock::duration>(seconds(secs) + nanoseconds(nanos)));
}

TEST(go_format, rfc3339_nano_trims_fraction_like_go) {
    // 2026-11-26T07:11:44Z
    const long long t = 1795677104;
    EXPECT_EQ(format_rfc3339_nano(at(t, 538903273)), "2026-11-26T07:11:44.538903273Z");
    EXPECT_EQ(format_rfc3339_nano(at(t, 538903000)), "2026-11-26T07:11:44.538903Z");
    EXPECT_EQ(format_rfc3339_nano(at(t, 500000000)), "2026-11-26T07:11:44.5Z");
    EXPECT_EQ(format_rfc3339_nano(at(t, 0)), "2026-11-26T07:11:44Z");
    EXPECT_EQ(format_rfc3339_nano(at(0, 1)), "1970-01-01T00:00:00.000000001Z");
}

TEST(go_format, uptime_like_nats_server) {
    EXPECT_EQ(format_uptime(seconds(0)), "0s");
    EXPECT_EQ(format_uptime(milliseconds(1999)), "1s");
    EXPECT_EQ(format_uptime(seconds(59)), "59s");
    EXPECT_EQ(format_uptime(seconds(120)), "2m0s");
    EXPECT_EQ(format_uptime(hours(1)), "1h0m0s");
    EXPECT_EQ(format_uptime(hours(25) + seconds(61)), "1d1h1m1s");
    EXPECT_EQ(format_uptime(hours(24 * 366)), "1y1d0h0m0s");
}

TEST(go_format, rtt_truncates_microseconds_below_a_millisecond) {
    EXPECT_EQ(format_rtt(nanoseconds(0)), "0s");
    EXPECT_EQ(format_rtt(nanoseconds(407321)), "407\xc2\xb5s");
    EXPECT_EQ(format_rtt(nanoseconds(999)), "999ns");
    EXPECT_EQ(format_rtt(nanoseconds(1234567)), "1.234567ms");
    EXPECT_EQ(format_rtt(seconds(2)), "2s");
}

} // namespace
} // namespace natrix::monitor
