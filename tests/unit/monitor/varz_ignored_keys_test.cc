// /varz's natrix.ignored_config_keys: the config keys and flags natrix
// accepted but ignores (server_options::ignored_keys), for dashboards.
// Always present; [] when nothing is ignored.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <natrix/monitor/varz.hh>

namespace natrix::monitor {
namespace {

varz_input minimal_input() {
    varz_input in;
    in.id.server_id = "NID";
    in.id.shards = 1;
    in.start = in.now = in.config_load_time = std::chrono::system_clock::now();
    in.shards = {shard_figures{}};
    return in;
}

TEST(varz_render, ignored_config_keys_listed_in_order) {
    varz_input in = minimal_input();
    in.ignored_config_keys = {"cluster", "jetstream", "accounts.A.jetstream", "-routes"};
    const std::string s = render_varz(in);
    simdjson::dom::parser p;
    simdjson::dom::element d;
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    EXPECT_EQ(d["ignored_config_keys"].error(), simdjson::NO_SUCH_FIELD)
        << "natrix's own fields live in the natrix object, not among nats-server's";
    simdjson::dom::array keys;
    ASSERT_EQ(d["natrix"]["ignored_config_keys"].get(keys), simdjson::SUCCESS) << s;
    std::vector<std::string> got;
    for (simdjson::dom::element k : keys) got.emplace_back(std::string_view(k));
    EXPECT_EQ(got, in.ignored_config_keys);
}

TEST(varz_render, ignored_config_keys_is_an_empty_array_when_none) {
    const std::string s = render_varz(minimal_input());
    simdjson::dom::parser p;
    simdjson::dom::element d;
    ASSERT_EQ(p.parse(s).get(d), simdjson::SUCCESS) << s;
    simdjson::dom::array keys;
    ASSERT_EQ(d["natrix"]["ignored_config_keys"].get(keys), simdjson::SUCCESS) << s;
    EXPECT_EQ(keys.size(), 0u);
}

} // namespace
} // namespace natrix::monitor
