#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/protocol/scanner.hh>

using namespace natrix::protocol;

namespace {

std::vector<scan_isa> isas() {
    std::vector<scan_isa> v{scan_isa::scalar, scan_isa::sse2};
    if (widest_scan_isa() == scan_isa::avx2) v.push_back(scan_isa::avx2);
    return v;
}

std::vector<std::string> tokens_of(const std::string& s, scan_isa isa, std::int64_t* nl) {
    line_scan r;
    scan_kernel(isa)(s.data(), s.data() + s.size(), r);
    *nl = r.newline;
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < r.ntokens && i < max_line_tokens; ++i)
        out.emplace_back(s.substr(r.start[i], r.end[i] - r.start[i]));
    return out;
}

void expect_same(const line_scan& a, const line_scan& b, const std::string& input) {
    ASSERT_EQ(a.newline, b.newline) << input;
    if (a.newline < 0) return;
    ASSERT_EQ(a.ntokens, b.ntokens) << input;
    for (std::uint32_t i = 0; i < a.ntokens && i < max_line_tokens; ++i) {
        ASSERT_EQ(a.start[i], b.start[i]) << input;
        ASSERT_EQ(a.end[i], b.end[i]) << input;
    }
}

} // namespace

TEST(scanner, finds_fields_and_newline) {
    for (scan_isa isa : isas()) {
        std::int64_t nl;
        auto t = tokens_of("foo.bar  reply\t16\r\nPAYLOAD", isa, &nl);
        EXPECT_EQ(nl, 18) << scan_isa_name(isa);
        EXPECT_EQ(t, (std::vector<std::string>{"foo.bar", "reply", "16"})) << scan_isa_name(isa);
    }
}

TEST(scanner, no_newline_means_split) {
    for (scan_isa isa : isas()) {
        std::int64_t nl;
        tokens_of(std::string(100, 'a') + " b", isa, &nl);
        EXPECT_EQ(nl, -1) << scan_isa_name(isa);
    }
}

TEST(scanner, tokens_across_block_boundaries) {
    // Fields that start or end exactly at 16/32-byte boundaries.
    for (std::size_t lead = 0; lead < 70; ++lead) {
        std::string s(lead, ' ');
        s += std::string(31, 'x') + " " + std::string(17, 'y') + "\t" + std::string(lead % 7, 'z');
        s += "\r\n" + std::string(40, 'q');
        line_scan ref;
        scan_line_scalar(s.data(), s.data() + s.size(), ref);
        for (scan_isa isa : isas()) {
            line_scan r;
            scan_kernel(isa)(s.data(), s.data() + s.size(), r);
            expect_same(ref, r, s);
        }
    }
}

TEST(scanner, many_tokens_are_counted_beyond_storage) {
    std::string s;
    for (int i = 0; i < 40; ++i) s += "t" + std::to_string(i) + " ";
    s += "\n";
    for (scan_isa isa : isas()) {
        line_scan r;
        scan_kernel(isa)(s.data(), s.data() + s.size(), r);
        EXPECT_EQ(r.ntokens, 40u) << scan_isa_name(isa);
        EXPECT_EQ(s.substr(r.start[15], r.end[15] - r.start[15]), "t15");
    }
}

TEST(scanner, random_inputs_agree_with_scalar_reference) {
    std::mt19937 rng(42);
    const char alphabet[] = {' ', '\t', '\r', '\n', 'a', 'b', '.', '*', '>', '1', '\0', '\xff'};
    for (int iter = 0; iter < 20000; ++iter) {
        std::size_t len = rng() % 200;
        std::string s(len, 'a');
        for (char& c : s) c = alphabet[rng() % sizeof alphabet];
        // Most lines are mostly field bytes: bias some inputs that way.
        if (iter % 2)
            for (char& c : s)
                if (rng() % 4) c = 'f';
        line_scan ref;
        scan_line_scalar(s.data(), s.data() + s.size(), ref);
        for (scan_isa isa : isas()) {
            line_scan r;
            scan_kernel(isa)(s.data(), s.data() + s.size(), r);
            expect_same(ref, r, s);
        }
    }
}

TEST(scanner, dispatch_picks_a_kernel_the_cpu_has) {
    scan_isa best = best_scan_isa();
    EXPECT_NE(scan_kernel(best), nullptr);
    EXPECT_STRNE(scan_isa_name(best), "?");
    EXPECT_LE(static_cast<int>(best), static_cast<int>(widest_scan_isa()));
    // Decision 0002: SSE2 wherever the CPU has it (every x86-64 CPU does).
    if (widest_scan_isa() != scan_isa::scalar) {
        EXPECT_EQ(best, scan_isa::sse2);
    }
}
