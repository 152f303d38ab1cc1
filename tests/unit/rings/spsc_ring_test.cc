#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/rings/spsc_ring.hh>

using natrix::rings::spsc_ring;

TEST(spsc_ring, records_come_out_in_order_with_types) {
    spsc_ring r(4096);
    for (int i = 0; i < 10; ++i) {
        std::string body = "rec" + std::to_string(i);
        char* p = r.try_reserve(static_cast<std::uint32_t>(i), body.size());
        ASSERT_NE(p, nullptr);
        std::memcpy(p, body.data(), body.size());
    }
    EXPECT_TRUE(r.empty()); // nothing published yet
    r.publish();
    std::vector<std::string> got;
    std::size_t n = r.drain([&](spsc_ring::record rec) {
        got.push_back(std::to_string(rec.type) + ":" + std::string(rec.body));
    });
    EXPECT_EQ(n, 10u);
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(got[0], "0:rec0");
    EXPECT_EQ(got[9], "9:rec9");
    EXPECT_TRUE(r.empty());
}

TEST(spsc_ring, full_ring_refuses_and_recovers_after_drain) {
    spsc_ring r(4096);
    std::size_t accepted = 0;
    while (r.try_reserve(1, 100)) ++accepted;
    EXPECT_GT(accepted, 30u);
    EXPECT_LE(accepted * 112, 4096u);
    r.publish();
    EXPECT_EQ(r.drain([](spsc_ring::record) {}), accepted);
    EXPECT_NE(r.try_reserve(1, 100), nullptr);
    EXPECT_EQ(r.try_reserve(1, r.max_record() + 1), nullptr);
}

TEST(spsc_ring, wraps_with_padding_records) {
    spsc_ring r(4096);
    std::mt19937 rng(7);
    std::uint64_t next_write = 0, next_read = 0;
    for (int round = 0; round < 2000; ++round) {
        int burst = static_cast<int>(rng() % 8);
        for (int i = 0; i < burst; ++i) {
            std::size_t len = rng() % 700;
            char* p = r.try_reserve(2, len + 8);
            if (!p) break;
            std::memcpy(p, &next_write, 8);
            std::memset(p + 8, static_cast<int>(next_write & 0xff), len);
            ++next_write;
        }
        r.publish();
        r.drain(
            [&](spsc_ring::record rec) {
                std::uint64_t seq;
                std::memcpy(&seq, rec.body.data(), 8);
                ASSERT_EQ(seq, next_read);
                for (std::size_t k = 8; k < rec.body.size(); ++k)
                    ASSERT_EQ(static_cast<unsigned char>(rec.body[k]), seq & 0xff);
                ++next_read;
            },
            rng() % 5 + 1);
    }
    EXPECT_GT(next_write, 1000u);
}

// Two threads, randomized record sizes and batch sizes: no loss, no
// duplication, order preserved, contents intact.
TEST(spsc_ring, stress_two_threads_no_loss_no_duplication_in_order) {
    constexpr std::uint64_t total = 400000;
    spsc_ring r(1 << 14);
    std::thread producer([&] {
        std::mt19937 rng(1);
        std::uint64_t seq = 0;
        while (seq < total) {
            int batch = static_cast<int>(rng() % 32) + 1;
            for (int i = 0; i < batch && seq < total; ++i) {
                std::size_t len = 8 + rng() % 200;
                char* p = r.try_reserve(static_cast<std::uint32_t>(seq % 3), len);
                if (!p) break;
                std::memcpy(p, &seq, 8);
                for (std::size_t k = 8; k < len; ++k) p[k] = static_cast<char>((seq + k) & 0xff);
                ++seq;
            }
            r.publish();
        }
    });
    std::uint64_t expect = 0;
    bool ok = true;
    while (expect < total && ok) {
        r.drain([&](spsc_ring::record rec) {
            std::uint64_t seq;
            std::memcpy(&seq, rec.body.data(), 8);
            if (seq != expect || rec.type != seq % 3) ok = false;
            for (std::size_t k = 8; k < rec.body.size(); ++k)
                if (rec.body[k] != static_cast<char>((seq + k) & 0xff)) ok = false;
            ++expect;
        });
    }
    producer.join();
    EXPECT_TRUE(ok);
    EXPECT_EQ(expect, total);
    EXPECT_TRUE(r.empty());
}
