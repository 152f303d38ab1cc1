#include <algorithm>

#include <natrix/broker/shard_view.hh>
#include <natrix/monitor/go_format.hh>
#include <natrix/monitor/json_writer.hh>
#include <natrix/monitor/subsz.hh>
#include <natrix/subjects/subject.hh>

namespace natrix::monitor {

bool parse_subsz_options(const query_params& q, subsz_options* out, std::string* error) {
    subsz_options o;
    std::optional<bool> b;
    if (!q.get_bool("subs", &b, error)) return false;
    o.subs = b.value_or(false);
    if (!q.get_paging(&o.offset, &o.limit, error)) return false;
    if (auto t = q.get("test"); t && !t->empty()) {
        if (!subjects::is_valid_literal_subject(*t)) {
            *error = "invalid test subject, must be valid publish subject: " + std::string(*t);
            return false;
        }
        o.test.assign(*t);
    }
    *out = std::move(o);
    return true;
}

shard_subscriptions read_subscriptions(const broker::shard_view& s, const subsz_options& o) {
    shard_subscriptions out;
    out.stats = s.subscription_stats();
    if (!o.subs) return out;
    for (broker::subscription_info& x : s.subscriptions(o.test))
        out.subs.push_back({std::move(x.subject), std::move(x.queue), std::move(x.sid), x.msgs,
                            x.max, x.cid, std::move(x.account)});
    return out;
}

std::string render_subsz(std::string_view server_id, std::chrono::system_clock::time_point now,
                         const subsz_options& o, std::vector<shard_subscriptions> shards) {
    subjects::trie_stats t;
    std::vector<sub_info> subs;
    for (shard_subscriptions& s : shards) {
        t.subscriptions += s.stats.subscriptions;
        t.cache_entries += s.stats.cache_entries;
        t.inserts += s.stats.inserts;
        t.removes += s.stats.removes;
        t.matches += s.stats.matches;
        t.cache_hits += s.stats.cache_hits;
        for (sub_info& si : s.subs) subs.push_back(std::move(si));
    }
    // The page, cut as nats-server cuts it. When it is empty (no subs=1, or
    // nothing at this offset) nats-server answers the statistics alone, and
    // its "total" is the size of the page, not the number matched.
    std::size_t from = 0, to = 0;
    if (o.subs) {
        std::sort(subs.begin(), subs.end(), [](const sub_info& a, const sub_info& b) {
            return a.cid != b.cid ? a.cid < b.cid : sid_less(a.sid, b.sid);
        });
        from = std::min(o.offset, subs.size());
        to = std::min(subs.size(), from + o.limit);
    }
    const bool page = from < to;
    json_writer w;
    w.begin_object();
    if (page) {
        w.field("server_id", server_id);
        w.field("now", format_rfc3339_nano(now));
    }
    w.field("num_subscriptions", t.subscriptions);
    w.field("num_cache", t.cache_entries);
    w.field("num_inserts", t.inserts);
    w.field("num_removes", t.removes);
    w.field("num_matches", t.matches);
    w.field("cache_hit_rate",
            t.matches ? static_cast<double>(t.cache_hits) / static_cast<double>(t.matches) : 0.0);
    // nats-server derives these from the result sizes in its match cache;
    // natrix's cache does not keep them (docs/decisions/0006-monitoring.md).
    w.field("max_fanout", 0);
    w.field("avg_fanout", 0.0);
    if (page) {
        w.field("total", to - from);
        w.field("offset", o.offset);
        w.field("limit", o.limit);
        w.key("subscriptions_list").begin_array();
        for (std::size_t i = from; i < to; ++i) write_sub_detail(w, subs[i]);
        w.end_array();
    }
    w.end_object();
    return w.take();
}

} // namespace natrix::monitor
