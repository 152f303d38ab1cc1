#include <algorithm>
#include <utility>

#include <natrix/broker/shard_view.hh>
#include <natrix/monitor/connz.hh>
#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>

namespace natrix::monitor {

namespace {

constexpr std::pair<std::string_view, connz_sort> sort_names[] = {
    {"cid", connz_sort::cid},           {"start", connz_sort::start},
    {"subs", connz_sort::subs},         {"pending", connz_sort::pending},
    {"msgs_to", connz_sort::msgs_to},   {"msgs_from", connz_sort::msgs_from},
    {"bytes_to", connz_sort::bytes_to}, {"bytes_from", connz_sort::bytes_from},
    {"last", connz_sort::last},         {"idle", connz_sort::idle},
    {"uptime", connz_sort::uptime},
};

// Go's strings.ToLower for the ASCII words compared against (state, subs).
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// True when a goes before b; ties fall back to cid.
bool conn_before(const conn_info& a, const conn_info& b, connz_sort by) {
    const auto desc = [&](auto x, auto y) { return x != y ? x > y : a.cid < b.cid; };
    const auto asc = [&](auto x, auto y) { return x != y ? x < y : a.cid < b.cid; };
    switch (by) {
    case connz_sort::cid:
        return a.cid < b.cid;
    case connz_sort::start:
        return asc(a.start, b.start);
    case connz_sort::subs:
        return desc(a.num_subs, b.num_subs);
    case connz_sort::pending:
        return desc(a.pending_bytes, b.pending_bytes);
    case connz_sort::msgs_to:
        return desc(a.out_msgs, b.out_msgs);
    case connz_sort::msgs_from:
        return desc(a.in_msgs, b.in_msgs);
    case connz_sort::bytes_to:
        return desc(a.out_bytes, b.out_bytes);
    case connz_sort::bytes_from:
        return desc(a.in_bytes, b.in_bytes);
    case connz_sort::last:
        return desc(a.last_activity, b.last_activity);
    case connz_sort::idle:
        return asc(a.last_activity, b.last_activity); // longest idle first
    case connz_sort::uptime:
        return asc(a.start, b.start); // longest up first
    }
    return a.cid < b.cid;
}

} // namespace

void write_sub_detail(json_writer& w, const sub_info& s) {
    w.begin_object();
    if (!s.account.empty()) w.field("account", s.account);
    w.field("subject", s.subject);
    if (!s.queue.empty()) w.field("qgroup", s.queue);
    w.field("sid", s.sid);
    w.field("msgs", s.msgs);
    if (s.max > 0) w.field("max", s.max);
    w.field("cid", s.cid);
    w.end_object();
}

namespace {

std::vector<sub_info> list_subs(const broker::shard_view& v, const broker::connection_info& c) {
    std::vector<sub_info> out;
    for (broker::subscription_info& s : v.subscriptions_of(c))
        out.push_back(
            {std::move(s.subject), std::move(s.queue), std::move(s.sid), s.msgs, s.max, s.cid, {}});
    std::sort(out.begin(), out.end(),
              [](const sub_info& a, const sub_info& b) { return sid_less(a.sid, b.sid); });
    return out;
}

} // namespace

bool sid_less(std::string_view a, std::string_view b) {
    if (all_digits(a) && all_digits(b) && a.size() != b.size()) return a.size() < b.size();
    return a < b;
}

bool parse_connz_options(const query_params& q, connz_options* out, std::string* error) {
    // nats-server's order (HandleConnz, then Connz), so that a query with
    // several bad values gets the same first complaint: auth, subs, offset,
    // limit, cid, state, then the sort key.
    connz_options o;
    std::optional<bool> auth;
    if (!q.get_bool("auth", &auth, error)) return false;
    o.auth = auth && *auth;
    if (auto s = q.get("subs"); s && lower(*s) == "detail") {
        o.subs = subs_mode::detail;
    } else {
        std::optional<bool> b;
        if (!q.get_bool("subs", &b, error)) return false;
        if (b && *b) o.subs = subs_mode::list;
    }
    if (!q.get_paging(&o.offset, &o.limit, error)) return false;
    std::optional<std::uint64_t> cid;
    if (!q.get_uint64("cid", &cid, error)) return false;
    o.cid = cid.value_or(0); // 0: every connection, as in nats-server
    bool closed = false;
    if (auto s = q.get("state"); s && !s->empty()) {
        const std::string st = lower(*s);
        if (st == "closed") {
            closed = true;
        } else if (st != "open" && st != "any" && st != "all") {
            *error = "Error decoding state for " + std::string(*s);
            return false;
        }
    }
    if (auto s = q.get("sort"); s && !s->empty()) {
        bool found = false;
        for (const auto& [name, by] : sort_names)
            if (*s == name) {
                o.sort = by;
                found = true;
            }
        if (!found && *s != "stop" && *s != "reason") {
            *error = "invalid sorting option: " + std::string(*s);
            return false;
        }
        if (!found && !closed) {
            *error = "sort by " + std::string(*s) + " only valid on closed connections";
            return false;
        }
    }
    if (closed) {
        *error = "state=closed is not supported: natrix does not keep closed connections";
        return false;
    }
    *out = o;
    return true;
}

void sort_connections(std::vector<conn_info>& conns, connz_sort by) {
    std::sort(conns.begin(), conns.end(),
              [by](const conn_info& a, const conn_info& b) { return conn_before(a, b, by); });
}

shard_connections read_connections(const broker::shard_view& s, const connz_options& o) {
    shard_connections out;
    std::vector<broker::connection_info> src = s.connections();
    out.open = src.size();
    if (o.cid) std::erase_if(src, [&](const broker::connection_info& c) { return c.cid != o.cid; });
    for (const broker::connection_info& c : src) {
        conn_info ci;
        ci.cid = c.cid;
        ci.ip = c.ip;
        ci.port = c.port;
        ci.start = c.start;
        ci.last_activity = c.last_activity;
        ci.rtt = c.rtt;
        ci.pending_bytes = c.pending_bytes;
        ci.in_msgs = c.in_msgs;
        ci.out_msgs = c.out_msgs;
        ci.in_bytes = c.in_bytes;
        ci.out_bytes = c.out_bytes;
        ci.num_subs = c.num_subs;
        ci.name = c.name;
        ci.lang = c.lang;
        ci.version = c.version;
        if (o.auth) {
            ci.authorized_user = c.user;
            ci.account = c.account;
        }
        out.conns.push_back(std::move(ci));
    }
    // Sort an index so the subscription lists can be read for the kept ones only.
    std::vector<std::size_t> idx(out.conns.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    const std::size_t keep = std::min(idx.size(), o.offset + o.limit);
    const auto by = o.sort;
    std::partial_sort(
        idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(keep), idx.end(),
        [&](std::size_t a, std::size_t b) { return conn_before(out.conns[a], out.conns[b], by); });
    std::vector<conn_info> kept;
    kept.reserve(keep);
    for (std::size_t k = 0; k < keep; ++k) {
        conn_info& ci = out.conns[idx[k]];
        if (o.subs != subs_mode::none) ci.subs = list_subs(s, src[idx[k]]);
        kept.push_back(std::move(ci));
    }
    out.conns = std::move(kept);
    return out;
}

connz_page merge_connections(std::vector<shard_connections> shards, const connz_options& o) {
    connz_page page;
    for (shard_connections& s : shards) {
        page.total += s.open;
        for (conn_info& c : s.conns) page.conns.push_back(std::move(c));
    }
    sort_connections(page.conns, o.sort);
    const std::size_t from = std::min(o.offset, page.conns.size());
    const std::size_t to = std::min(page.conns.size(), from + o.limit);
    page.conns.erase(page.conns.begin() + static_cast<std::ptrdiff_t>(to), page.conns.end());
    page.conns.erase(page.conns.begin(), page.conns.begin() + static_cast<std::ptrdiff_t>(from));
    return page;
}

std::string render_connz(std::string_view server_id, std::chrono::system_clock::time_point now,
                         std::chrono::steady_clock::time_point steady_now,
                         std::chrono::system_clock::duration wall_offset, const connz_options& o,
                         const connz_page& page) {
    json_writer w;
    w.begin_object();
    w.field("server_id", server_id);
    w.field("now", format_rfc3339_nano(now));
    w.field("num_connections", page.conns.size());
    w.field("total", page.total);
    w.field("offset", o.offset);
    w.field("limit", o.cid ? std::size_t{1} : o.limit);
    w.key("connections").begin_array();
    for (const conn_info& c : page.conns) {
        w.begin_object();
        w.field("cid", c.cid);
        w.field("kind", "Client");
        w.field("type", "nats");
        w.field("ip", c.ip);
        w.field("port", c.port);
        w.field("start", format_rfc3339_nano(c.start, wall_offset));
        w.field("last_activity", format_rfc3339_nano(c.last_activity, wall_offset));
        w.field("rtt", format_rtt(c.rtt));
        w.field("uptime", format_uptime(steady_now - c.start));
        w.field("idle", format_uptime(steady_now - c.last_activity));
        w.field("pending_bytes", c.pending_bytes);
        w.field("in_msgs", c.in_msgs);
        w.field("out_msgs", c.out_msgs);
        w.field("in_bytes", c.in_bytes);
        w.field("out_bytes", c.out_bytes);
        w.field("subscriptions", c.num_subs);
        if (!c.name.empty()) w.field("name", c.name);
        if (!c.lang.empty()) w.field("lang", c.lang);
        if (!c.version.empty()) w.field("version", c.version);
        if (!c.authorized_user.empty()) w.field("authorized_user", c.authorized_user);
        if (!c.account.empty()) w.field("account", c.account);
        if (o.subs == subs_mode::list && !c.subs.empty()) {
            w.key("subscriptions_list").begin_array();
            for (const sub_info& s : c.subs) w.value(s.subject);
            w.end_array();
        } else if (o.subs == subs_mode::detail && !c.subs.empty()) {
            w.key("subscriptions_list_detail").begin_array();
            for (const sub_info& s : c.subs) write_sub_detail(w, s);
            w.end_array();
        }
        w.end_object();
    }
    w.end_array();
    w.end_object();
    return w.take();
}

} // namespace natrix::monitor
