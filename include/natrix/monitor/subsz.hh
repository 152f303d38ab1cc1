#pragma once
// /subsz: subscription index statistics summed over the shards' tries, and
// with subs=1 the subscriptions themselves (offset, limit, test=<subject>).
// read_subscriptions() runs on a shard's thread (server::collect); the rest
// is plain data for the monitor thread.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <natrix/monitor/connz.hh>
#include <natrix/monitor/query_params.hh>
#include <natrix/subjects/subject_trie.hh>

namespace natrix::monitor {

struct subsz_options {
    bool subs = false;
    std::size_t offset = 0;
    std::size_t limit = 1024;
    std::string test; // with subs: only subscriptions matching this literal subject
};

bool parse_subsz_options(const query_params& q, subsz_options* out, std::string* error);

struct shard_subscriptions {
    subjects::trie_stats stats;
    std::vector<sub_info> subs; // only with subs=1; filtered by test
};

// On the shard's thread only.
shard_subscriptions read_subscriptions(const broker::shard_view& s, const subsz_options& o);

std::string render_subsz(std::string_view server_id, std::chrono::system_clock::time_point now,
                         const subsz_options& o, std::vector<shard_subscriptions> shards);

} // namespace natrix::monitor
