#include <array>

#include <gtest/gtest.h>

#include <natrix/bench_client/payload_stamp.hh>
#include <natrix/bench_client/seq_bitmap.hh>
#include <natrix/bench_client/seq_tracker.hh>

using namespace natrix::bench_client;

TEST(seq_tracker, in_order_stream) {
    seq_tracker t;
    for (std::uint64_t s = 0; s < 1000; ++s) t.on_seq(s);
    EXPECT_EQ(t.received(), 1000u);
    EXPECT_EQ(t.missing(1000), 0u);
    EXPECT_EQ(t.missing(1010), 10u); // ten sent, never seen
    EXPECT_EQ(t.duplicated(), 0u);
    EXPECT_EQ(t.out_of_order(), 0u);
}

TEST(seq_tracker, gaps_late_arrivals_and_duplicates) {
    seq_tracker t;
    for (std::uint64_t s : {0, 1, 2, 6, 7, 3, 5, 5, 7, 0, 20}) t.on_seq(s);
    // Seen: 0 1 2 3 5 6 7 20; 3 and 5 came late; 5, 7 and 0 again are duplicates.
    EXPECT_EQ(t.received(), 8u);
    EXPECT_EQ(t.out_of_order(), 2u);
    EXPECT_EQ(t.duplicated(), 3u);
    EXPECT_EQ(t.missing(21), 21u - 8u); // 4 and 8..19
    EXPECT_EQ(t.missing(5), 1u);        // just 4
    t.on_seq(4);
    t.on_seq(10); // splits the gap 8..19
    t.on_seq(9);
    EXPECT_EQ(t.missing(21), 10u); // 8 and 11..19
    EXPECT_EQ(t.out_of_order(), 5u);
}

TEST(seq_tracker, base_for_a_late_joiner) {
    seq_tracker t;
    t.set_base(500);
    for (std::uint64_t s = 500; s < 600; ++s) t.on_seq(s);
    EXPECT_EQ(t.missing(t.next_expected()), 0u);
    EXPECT_EQ(t.received(), 100u);
}

TEST(seq_bitmap, exactly_once_across_members) {
    seq_bitmap a, b, c;
    for (std::uint64_t s = 0; s < 1000; ++s) (s % 2 ? a : b).set(s);
    std::array<const seq_bitmap*, 2> two{&a, &b};
    auto d = merge_group(two, 1000);
    EXPECT_EQ(d.delivered, 1000u);
    EXPECT_EQ(d.lost, 0u);
    EXPECT_EQ(d.duplicated, 0u);
    EXPECT_EQ(d.unexpected, 0u);

    // c saw 10 numbers the others also saw, one never published, and nobody saw 1000..1099.
    for (std::uint64_t s = 100; s < 110; ++s) c.set(s);
    c.set(1200);
    std::array<const seq_bitmap*, 3> three{&a, &b, &c};
    d = merge_group(three, 1100);
    EXPECT_EQ(d.delivered, 1000u);
    EXPECT_EQ(d.lost, 100u);
    EXPECT_EQ(d.duplicated, 10u);
    EXPECT_EQ(d.unexpected, 1u);
}

TEST(seq_bitmap, duplicates_and_order_within_a_member) {
    seq_bitmap m;
    EXPECT_TRUE(m.set(5));
    EXPECT_TRUE(m.set(9));
    EXPECT_FALSE(m.set(5));
    EXPECT_TRUE(m.set(7)); // after 9
    EXPECT_EQ(m.out_of_order(), 1u);
    EXPECT_TRUE(m.set(100000)); // grows
}

TEST(payload_stamp, round_trip) {
    char buf[32] = {};
    write_stamp(buf, 65535, max_seq, 0x0123456789abcdefull);
    payload_stamp st;
    ASSERT_TRUE(read_stamp({buf, 16}, st));
    EXPECT_EQ(st.publisher, 65535);
    EXPECT_EQ(st.seq, max_seq);
    EXPECT_EQ(st.time_ns, 0x0123456789abcdefull);
    write_stamp(buf, 3, 42, 7);
    ASSERT_TRUE(read_stamp({buf, 20}, st));
    EXPECT_EQ(st.publisher, 3);
    EXPECT_EQ(st.seq, 42u);
    EXPECT_FALSE(read_stamp({buf, 15}, st));
}
