#include <cstring>

#include <natrix/broker/ring_record.hh>

namespace natrix::broker::ring_record {

namespace {

struct message_header {
    std::uint64_t origin; // publishing session's token on origin_shard
    std::uint32_t payload_len;
    std::uint32_t header_size;
    std::uint32_t subject_len;
    std::uint32_t reply_len;
    std::uint32_t nqueues;
    std::uint8_t plain;
    std::uint8_t size_text_len;
    std::uint8_t header_size_text_len;
    std::uint8_t hops;
    std::uint16_t account;
    std::uint16_t origin_shard;
    std::uint16_t route;
};

struct interest_header {
    std::uint32_t count;
    std::uint16_t account;
    std::uint16_t shard;
    std::uint32_t pattern_len;
    std::uint32_t queue_len;
};

template <typename T>
void put(std::string& s, const T& v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads forward through a body; every read is bounds-checked.
struct reader {
    std::string_view rest;
    template <typename T>
    bool get(T& v) {
        if (rest.size() < sizeof v) return false;
        std::memcpy(&v, rest.data(), sizeof v);
        rest.remove_prefix(sizeof v);
        return true;
    }
    bool take(std::size_t n, std::string_view& out) {
        if (rest.size() < n) return false;
        out = rest.substr(0, n);
        rest.remove_prefix(n);
        return true;
    }
};

} // namespace

void encode(std::string& out, const message_record& r) {
    const message& m = r.msg;
    message_header h;
    std::memset(&h, 0, sizeof h); // the padding too: records are deterministic bytes
    h.origin = m.origin;
    h.payload_len = static_cast<std::uint32_t>(m.payload.size());
    h.header_size = m.header_size;
    h.subject_len = static_cast<std::uint32_t>(m.subject.size());
    h.reply_len = static_cast<std::uint32_t>(m.reply.size());
    h.nqueues = static_cast<std::uint32_t>(r.queues.size());
    h.plain = static_cast<std::uint8_t>(r.plain);
    h.size_text_len = static_cast<std::uint8_t>(m.size_text.size());
    h.header_size_text_len = static_cast<std::uint8_t>(m.header_size_text.size());
    h.hops = r.hops;
    h.account = r.account;
    h.origin_shard = m.origin_shard;
    h.route = r.route;
    out.clear();
    put(out, h);
    out.append(m.subject);
    out.append(m.reply);
    out.append(m.size_text);
    out.append(m.header_size_text);
    for (std::string_view q : r.queues) {
        put(out, static_cast<std::uint32_t>(q.size()));
        out.append(q);
    }
    out.append(m.payload);
}

bool decode(std::string_view body, message_record& r) {
    reader rd{body};
    message_header h;
    if (!rd.get(h)) return false;
    message& m = r.msg;
    m = message{};
    if (!rd.take(h.subject_len, m.subject) || !rd.take(h.reply_len, m.reply) ||
        !rd.take(h.size_text_len, m.size_text) ||
        !rd.take(h.header_size_text_len, m.header_size_text))
        return false;
    r.queues.clear();
    for (std::uint32_t i = 0; i < h.nqueues; ++i) {
        std::uint32_t len;
        std::string_view q;
        if (!rd.get(len) || !rd.take(len, q)) return false;
        r.queues.push_back(q);
    }
    if (rd.rest.size() != h.payload_len || h.header_size > h.payload_len || h.plain > 1)
        return false;
    m.payload = rd.rest;
    m.header_size = h.header_size;
    m.origin = h.origin;
    m.origin_shard = h.origin_shard;
    r.account = h.account;
    r.plain = h.plain != 0;
    r.hops = h.hops;
    r.route = h.route;
    return true;
}

void encode(std::string& out, const interest_record& r) {
    out.clear();
    put(out,
        interest_header{r.count, r.account, r.shard, static_cast<std::uint32_t>(r.pattern.size()),
                        static_cast<std::uint32_t>(r.queue.size())});
    out.append(r.pattern);
    out.append(r.queue);
}

bool decode(std::string_view body, interest_record& r) {
    reader rd{body};
    interest_header h;
    if (!rd.get(h)) return false;
    if (!rd.take(h.pattern_len, r.pattern) || !rd.take(h.queue_len, r.queue) || !rd.rest.empty())
        return false;
    r.account = h.account;
    r.shard = h.shard;
    r.count = h.count;
    return true;
}

void encode(std::string& out, const flow_record& r) {
    out.clear();
    put(out, r.token);
    put(out, static_cast<std::uint8_t>(r.pause));
}

bool decode(std::string_view body, flow_record& r) {
    reader rd{body};
    std::uint8_t pause;
    if (!rd.get(r.token) || !rd.get(pause) || !rd.rest.empty() || pause > 1) return false;
    r.pause = pause != 0;
    return true;
}

void encode(std::string& out, const link_record& r) {
    out.clear();
    put(out, r.id);
    put(out, static_cast<std::uint8_t>(r.gateway));
    put(out, static_cast<std::uint32_t>(r.hash.size()));
    out.append(r.hash);
}

bool decode(std::string_view body, link_record& r) {
    reader rd{body};
    std::uint8_t gateway;
    std::uint32_t len;
    if (!rd.get(r.id) || !rd.get(gateway) || !rd.get(len) || gateway > 1 || !rd.take(len, r.hash) ||
        !rd.rest.empty())
        return false;
    r.gateway = gateway != 0;
    return true;
}

} // namespace natrix::broker::ring_record
