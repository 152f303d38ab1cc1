// Every config shipped in configs/ must load cleanly: no errors, and no
// warnings either, since shipped configs use only supported keys.
#include <filesystem>

#include <gtest/gtest.h>

#include <natrix/config/server_options.hh>

using natrix::config::load_config_file;
using natrix::config::options_result;

namespace {
const std::filesystem::path configs_dir = std::filesystem::path(NATRIX_SOURCE_ROOT) / "configs";
}

TEST(configs, every_shipped_config_loads_without_errors_or_warnings) {
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(configs_dir)) {
        if (entry.path().extension() != ".conf") continue;
        ++seen;
        options_result r = load_config_file(entry.path().string());
        EXPECT_TRUE(r.ok()) << r.error_text();
        for (const auto& w : r.warnings) ADD_FAILURE() << "warning: " << w.text;
    }
    EXPECT_GE(seen, 3) << "natrix.conf and the two profiles";
}

TEST(configs, profiles_say_what_they_promise) {
    options_result low = load_config_file((configs_dir / "natrix.low_latency.conf").string());
    ASSERT_TRUE(low.ok()) << low.error_text();
    EXPECT_EQ(low.options.natrix.idle_strategy, "spin");
    options_result bulk = load_config_file((configs_dir / "natrix.throughput.conf").string());
    ASSERT_TRUE(bulk.ok()) << bulk.error_text();
    EXPECT_NE(bulk.options.natrix.idle_strategy, "spin");
    EXPECT_GT(bulk.options.natrix.ring_capacity, low.options.natrix.ring_capacity);
    EXPECT_GT(bulk.options.max_pending, low.options.max_pending);
}
