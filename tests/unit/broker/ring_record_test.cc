// Cross-shard record format: round trips, and decoders that refuse every
// truncated or garbled body without reading past its end (run under ASan:
// bodies are decoded from heap buffers of exactly their length).
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/broker/ring_record.hh>

namespace {

using namespace natrix::broker;
using ring_record::interest_record;
using ring_record::message_record;

// A copy of `bytes` in a heap block of exactly its size, so that ASan flags
// any read past the end.
struct exact_buffer {
    explicit exact_buffer(std::string_view bytes)
        : size(bytes.size())
        , data(std::make_unique<char[]>(bytes.size() ? bytes.size() : 1)) {
        if (size) std::memcpy(data.get(), bytes.data(), size);
    }
    std::string_view view() const { return {data.get(), size}; }
    std::size_t size;
    std::unique_ptr<char[]> data;
};

bool within(std::string_view part, std::string_view whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool message_within(const message_record& r, std::string_view body) {
    if (!within(r.msg.subject, body) || !within(r.msg.reply, body) ||
        !within(r.msg.payload, body) || !within(r.msg.size_text, body) ||
        !within(r.msg.header_size_text, body))
        return false;
    for (std::string_view q : r.queues)
        if (!within(q, body)) return false;
    return r.msg.header_size <= r.msg.payload.size();
}

std::string encoded(const message_record& r) {
    std::string out = "stale bytes that encode must clear";
    ring_record::encode(out, r);
    return out;
}

std::string encoded(const ring_record::flow_record& r) {
    std::string out = "stale";
    ring_record::encode(out, r);
    return out;
}

std::string encoded(const interest_record& r) {
    std::string out = "stale";
    ring_record::encode(out, r);
    return out;
}

void expect_same(const message_record& a, const message_record& b) {
    EXPECT_EQ(a.account, b.account);
    EXPECT_EQ(a.plain, b.plain);
    EXPECT_EQ(a.hops, b.hops);
    EXPECT_EQ(a.msg.subject, b.msg.subject);
    EXPECT_EQ(a.msg.reply, b.msg.reply);
    EXPECT_EQ(a.msg.payload, b.msg.payload);
    EXPECT_EQ(a.msg.header_size, b.msg.header_size);
    EXPECT_EQ(a.msg.size_text, b.msg.size_text);
    EXPECT_EQ(a.msg.header_size_text, b.msg.header_size_text);
    EXPECT_EQ(a.msg.origin, b.msg.origin);
    EXPECT_EQ(a.msg.origin_shard, b.msg.origin_shard);
    ASSERT_EQ(a.queues.size(), b.queues.size());
    for (std::size_t i = 0; i < a.queues.size(); ++i) EXPECT_EQ(a.queues[i], b.queues[i]) << i;
}

// Encodes, decodes from an exact-size copy, compares; returns the body.
std::string round_trip(const message_record& in) {
    const std::string body = encoded(in);
    const exact_buffer buf(body);
    message_record out;
    out.queues = {"left", "over"}; // decode must clear what the caller reused
    EXPECT_TRUE(ring_record::decode(buf.view(), out));
    expect_same(in, out);
    EXPECT_TRUE(message_within(out, buf.view()));
    return body;
}

message_record sample_message() {
    message_record r;
    r.account = 3;
    r.plain = true;
    r.hops = 1;
    r.msg.subject = "orders.eu.new";
    r.msg.reply = "_INBOX.abc.1";
    r.msg.payload = "NATS/1.0\r\nA: b\r\n\r\nhello";
    r.msg.header_size = 18;
    r.msg.size_text = "23";
    r.msg.header_size_text = "18";
    r.queues = {"workers", "auditors"};
    r.msg.origin = 0x0123456789abcdefull;
    r.msg.origin_shard = 7;
    return r;
}

// The offset of the 32-bit header field that reads 0 in `a` and `value` in
// `b`: locates a field without knowing the layout. (Only whole fields are
// compared: the header's padding bytes are not initialised by encode.)
std::size_t field_at(const std::string& a, const std::string& b, std::size_t header,
                     std::uint32_t value) {
    std::size_t found = std::string::npos;
    for (std::size_t i = 0; i + 4 <= header; ++i) {
        std::uint32_t x, y;
        std::memcpy(&x, a.data() + i, 4);
        std::memcpy(&y, b.data() + i, 4);
        if (x == 0 && y == value) {
            EXPECT_EQ(found, std::string::npos) << "two candidates";
            found = i;
        }
    }
    return found;
}

TEST(ring_record, message_round_trip_full) {
    round_trip(sample_message());
}

TEST(ring_record, message_round_trip_empty_reply_and_payload) {
    message_record r;
    r.msg.subject = "a";
    r.msg.size_text = "0";
    const std::string body = round_trip(r);
    message_record out;
    ASSERT_TRUE(ring_record::decode(body, out));
    EXPECT_TRUE(out.msg.reply.empty());
    EXPECT_TRUE(out.msg.payload.empty());
    EXPECT_TRUE(out.queues.empty());
    EXPECT_FALSE(out.plain);
}

TEST(ring_record, message_round_trip_all_empty) {
    message_record r; // nothing at all: the smallest body
    round_trip(r);
}

TEST(ring_record, message_round_trip_headers_only) {
    message_record r;
    r.msg.subject = "h";
    r.msg.payload = "NATS/1.0\r\n\r\n";
    r.msg.header_size = 12;
    r.msg.header_size_text = "12";
    r.msg.size_text = "12";
    round_trip(r);
}

TEST(ring_record, message_round_trip_many_queues) {
    std::vector<std::string> names;
    for (int i = 0; i < 1000; ++i)
        names.push_back("group." + std::to_string(i) + std::string(i % 7, 'q'));
    names.push_back(""); // an empty name survives too
    message_record r = sample_message();
    r.plain = false;
    for (const std::string& n : names) r.queues.push_back(n);
    round_trip(r);
}

TEST(ring_record, message_round_trip_subject_past_64k) {
    const std::string subject(70000, 's');
    const std::string reply(66000, 'r');
    const std::string queue(65537, 'q');
    const std::string payload(100000, 'p');
    message_record r;
    r.account = 65535;
    r.hops = 255;
    r.msg.subject = subject;
    r.msg.reply = reply;
    r.msg.payload = payload;
    r.msg.size_text = "100000";
    r.queues = {queue, "small"};
    const std::string body = round_trip(r);
    EXPECT_GT(body.size(), subject.size() + reply.size() + queue.size() + payload.size());
}

TEST(ring_record, message_decode_refuses_every_truncation) {
    for (const message_record& r : {sample_message(), message_record{}}) {
        const std::string body = encoded(r);
        for (std::size_t len = 0; len < body.size(); ++len) {
            const exact_buffer buf(std::string_view(body).substr(0, len));
            message_record out;
            const bool ok = ring_record::decode(buf.view(), out);
            // The header fixes every length and the payload must fill the
            // rest exactly: no prefix of a valid body is itself valid.
            EXPECT_FALSE(ok) << "length " << len << " of " << body.size();
            if (ok) {
                EXPECT_TRUE(message_within(out, buf.view()));
            }
        }
    }
}

TEST(ring_record, message_decode_refuses_trailing_bytes) {
    std::string body = encoded(sample_message());
    body += 'x';
    message_record out;
    EXPECT_FALSE(ring_record::decode(body, out));
}

TEST(ring_record, message_decode_refuses_headers_longer_than_payload) {
    message_record r = sample_message();
    r.msg.header_size = static_cast<std::uint32_t>(r.msg.payload.size() + 1);
    const std::string body = encoded(r); // the encoder does not check; the decoder must
    message_record out;
    EXPECT_FALSE(ring_record::decode(body, out));
    r.msg.header_size = static_cast<std::uint32_t>(r.msg.payload.size());
    EXPECT_TRUE(ring_record::decode(encoded(r), out));
}

// Garbles a header field found by diffing two encodings, then decodes.
TEST(ring_record, message_decode_refuses_garbled_lengths) {
    message_record base;
    const std::string empty = encoded(base);
    const std::size_t header = empty.size();
    ASSERT_GT(header, 0u);

    // The 32-bit subject length: set to huge values.
    message_record with_subject = base;
    with_subject.msg.subject = "abcdefg";
    const std::string s7 = encoded(with_subject);
    const std::size_t subj_at = field_at(empty, s7, header, 7);
    ASSERT_NE(subj_at, std::string::npos);
    for (std::uint32_t v : {0xffffffffu, 0x80000000u, 8u, 1000u}) {
        std::string g = s7;
        std::memcpy(&g[subj_at], &v, sizeof v);
        const exact_buffer buf(g);
        message_record out;
        EXPECT_FALSE(ring_record::decode(buf.view(), out)) << v;
    }

    // The queue count: huge, or one more than there is.
    message_record with_queues = base;
    with_queues.queues = {"a", "b", "c"};
    const std::string q3 = encoded(with_queues);
    const std::size_t nq_at = field_at(empty, q3, header, 3);
    ASSERT_NE(nq_at, std::string::npos);
    for (std::uint32_t v : {0xffffffffu, 4u, 1000000u}) {
        std::string g = q3;
        std::memcpy(&g[nq_at], &v, sizeof v);
        const exact_buffer buf(g);
        message_record out;
        EXPECT_FALSE(ring_record::decode(buf.view(), out)) << v;
        EXPECT_LE(out.queues.size(), 3u);
    }

    // The plain flag is a bool: any other byte value is garbage. Its byte
    // is one that reads 0 / 1 in the two encodings (the header's padding is
    // not initialised, so it may offer false candidates: one refusal is
    // enough, and none means a plain byte of 2 passed).
    message_record plain = base;
    plain.plain = true;
    const std::string p = encoded(plain);
    int candidates = 0, refused = 0;
    for (std::size_t i = 0; i < header; ++i) {
        if (empty[i] != 0 || p[i] != 1) continue;
        ++candidates;
        std::string g = p;
        g[i] = 2;
        message_record out;
        if (!ring_record::decode(g, out)) ++refused;
    }
    EXPECT_GT(candidates, 0);
    EXPECT_GT(refused, 0);
    message_record out;

    // A queue's own length running past the end.
    message_record one_queue = base;
    one_queue.queues = {"workers"};
    std::string q1 = encoded(one_queue);
    const std::uint32_t too_long = 0x7fffffffu;
    std::memcpy(&q1[header], &too_long, sizeof too_long);
    const exact_buffer qbuf(q1);
    EXPECT_FALSE(ring_record::decode(qbuf.view(), out));
}

// Random byte mutations of valid bodies: whatever decode accepts must lie
// within the body (ASan catches any read past it).
TEST(ring_record, message_decode_survives_random_garbage) {
    std::mt19937_64 rng(12345);
    const std::string valid = encoded(sample_message());
    int accepted = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::string g = valid;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) g[rng() % g.size()] = static_cast<char>(rng());
        if (rng() % 3 == 0) g.resize(rng() % (g.size() + 1));
        const exact_buffer buf(g);
        message_record out;
        if (ring_record::decode(buf.view(), out)) {
            ++accepted;
            EXPECT_TRUE(message_within(out, buf.view())) << iter;
        }
    }
    // Flips inside the payload or subject bytes keep a body valid: the
    // check above did run on accepted bodies.
    EXPECT_GT(accepted, 0);
}

TEST(ring_record, interest_round_trip) {
    const std::string big(70000, 'x');
    for (const interest_record& in :
         {interest_record{7, 2, 41, "orders.*.new", "workers"}, interest_record{0, 0, 0, "a", ""},
          interest_record{65535, 255, 0xffffffffu, big, big}}) {
        const std::string body = encoded(in);
        const exact_buffer buf(body);
        interest_record out;
        ASSERT_TRUE(ring_record::decode(buf.view(), out));
        EXPECT_EQ(out.account, in.account);
        EXPECT_EQ(out.shard, in.shard);
        EXPECT_EQ(out.count, in.count);
        EXPECT_EQ(out.pattern, in.pattern);
        EXPECT_EQ(out.queue, in.queue);
        EXPECT_TRUE(within(out.pattern, buf.view()));
        EXPECT_TRUE(within(out.queue, buf.view()));
    }
}

TEST(ring_record, interest_decode_refuses_truncation_and_trailing_bytes) {
    const std::string body = encoded(interest_record{1, 2, 3, "orders.>", "q"});
    for (std::size_t len = 0; len < body.size(); ++len) {
        const exact_buffer buf(std::string_view(body).substr(0, len));
        interest_record out;
        EXPECT_FALSE(ring_record::decode(buf.view(), out)) << "length " << len;
    }
    interest_record out;
    EXPECT_FALSE(ring_record::decode(body + "z", out));
}

TEST(ring_record, interest_decode_survives_random_garbage) {
    std::mt19937_64 rng(777);
    const std::string valid = encoded(interest_record{1, 2, 3, "orders.eu.>", "workers"});
    int accepted = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::string g = valid;
        g[rng() % g.size()] = static_cast<char>(rng());
        if (rng() % 3 == 0) g.resize(rng() % (g.size() + 1));
        const exact_buffer buf(g);
        interest_record out;
        if (ring_record::decode(buf.view(), out)) {
            ++accepted;
            EXPECT_TRUE(within(out.pattern, buf.view()));
            EXPECT_TRUE(within(out.queue, buf.view()));
            EXPECT_EQ(out.pattern.size() + out.queue.size() + (valid.size() - 11 - 7), buf.size);
        }
    }
    EXPECT_GT(accepted, 0);
}

TEST(ring_record, flow_round_trip) {
    for (const ring_record::flow_record& in :
         {ring_record::flow_record{0, false}, ring_record::flow_record{(7ull << 32) | 3, true},
          ring_record::flow_record{~0ull, true}}) {
        const std::string body = encoded(in);
        const exact_buffer buf(body);
        ring_record::flow_record out{1, !in.pause};
        ASSERT_TRUE(ring_record::decode(buf.view(), out));
        EXPECT_EQ(out.token, in.token);
        EXPECT_EQ(out.pause, in.pause);
    }
}

TEST(ring_record, flow_decode_refuses_truncation_trailing_bytes_and_garbage) {
    const std::string body = encoded(ring_record::flow_record{42, true});
    for (std::size_t len = 0; len < body.size(); ++len) {
        const exact_buffer buf(std::string_view(body).substr(0, len));
        ring_record::flow_record out;
        EXPECT_FALSE(ring_record::decode(buf.view(), out)) << "length " << len;
    }
    ring_record::flow_record out;
    EXPECT_FALSE(ring_record::decode(body + "z", out));
    // The pause flag is a bool: the byte that reads 1 for a pause and 0 for
    // a resume refuses any other value.
    const std::string resume = encoded(ring_record::flow_record{42, false});
    ASSERT_EQ(resume.size(), body.size());
    int flags = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == resume[i]) continue;
        ++flags;
        std::string g = body;
        g[i] = 2;
        EXPECT_FALSE(ring_record::decode(g, out));
    }
    EXPECT_EQ(flags, 1);
}

// Each decoder checks its own layout end to end: these bodies of the other
// type do not pass for one of its own.
TEST(ring_record, bodies_of_the_other_type_are_refused) {
    const std::string msg = encoded(sample_message());
    const std::string interest = encoded(interest_record{1, 2, 3, "orders.eu.>", "workers"});
    interest_record ir;
    message_record mr;
    EXPECT_FALSE(ring_record::decode(msg, ir));
    EXPECT_FALSE(ring_record::decode(interest, mr));
}

} // namespace
