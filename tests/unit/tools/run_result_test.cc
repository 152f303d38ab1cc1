#include <gtest/gtest.h>
#include <simdjson.h>

#include <natrix/bench_client/run_result.hh>

using namespace natrix::bench_client;

TEST(run_result, json_is_valid_and_complete) {
    run_result r;
    r.scenario = "fanout";
    r.config.emplace_back("server", "nats://127.0.0.1:4222");
    r.config.emplace_back("quote\"d", "tab\there");
    r.has_publish = true;
    r.publish = {1000, 128000, 150000, 0.5};
    r.has_deliver = true;
    r.per_subscriber = true;
    r.deliver = {4000, 512000, 600000, 0.5};
    r.latency = std::make_unique<latency_histogram>();
    for (std::uint64_t v = 1; v <= 100; ++v) r.latency->record(v * 1000);
    r.latency_label = "one way";
    r.checks.enabled = true;
    r.checks.expected = 4000;
    r.checks.received = 3999;
    r.checks.lost = 1;
    r.figure("flow_window_msgs", 1024);
    r.errors.push_back("bad \"thing\"\n");

    simdjson::dom::parser parser;
    const std::string text = render_json(r);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
    EXPECT_EQ(std::string_view(doc["scenario"]), "fanout");
    EXPECT_EQ(std::string_view(doc["config"]["quote\"d"]), "tab\there");
    EXPECT_DOUBLE_EQ(double(doc["publish"]["msgs_per_s"]), 2000);
    EXPECT_EQ(uint64_t(doc["deliver"]["msgs"]), 4000u);
    EXPECT_GE(uint64_t(doc["latency_ns"]["p50"]), 50000u);
    EXPECT_LE(uint64_t(doc["latency_ns"]["p50"]), 50000u + 50000u / 128);
    EXPECT_EQ(uint64_t(doc["latency_ns"]["max"]), 100000u);
    EXPECT_EQ(uint64_t(doc["latency_ns"]["count"]), 100u);
    EXPECT_EQ(uint64_t(doc["checks"]["lost"]), 1u);
    EXPECT_FALSE(bool(doc["checks"]["ok"]));
    EXPECT_EQ(uint64_t(doc["figures"]["flow_window_msgs"]), 1024u);
    EXPECT_EQ(std::string_view(doc["errors"].at(0)), "bad \"thing\"\n");

    const std::string table = render_table(r);
    EXPECT_NE(table.find("lost 1"), std::string::npos);
    EXPECT_NE(table.find("FAILED"), std::string::npos);
    EXPECT_NE(table.find("p99.9"), std::string::npos);
}

TEST(run_result, exit_codes) {
    run_result r;
    EXPECT_EQ(r.exit_code(false), 0);
    r.checks.enabled = true;
    r.checks.duplicated = 2;
    EXPECT_EQ(r.exit_code(false), 1);
    EXPECT_EQ(r.exit_code(true), 0); // --allow-loss
    r.errors.push_back("connection refused");
    EXPECT_EQ(r.exit_code(true), 1);
}

TEST(run_result, formatting) {
    EXPECT_EQ(format_rate(1234567), "1.23M");
    EXPECT_EQ(format_rate(45678), "45.7k");
    EXPECT_EQ(format_rate(999), "999");
    EXPECT_EQ(format_ns(850), "850ns");
    EXPECT_EQ(format_ns(12345), "12.3us");
    EXPECT_EQ(format_ns(4560000), "4.56ms");
    EXPECT_EQ(format_number(0.25), "0.25");
    EXPECT_EQ(format_number(14993.24), "14993.2");
}
