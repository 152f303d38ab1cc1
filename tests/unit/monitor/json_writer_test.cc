#include <cstdint>
#include <limits>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <natrix/monitor/json_writer.hh>

namespace natrix::monitor {
namespace {

std::string esc(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(json_writer, pretty_matches_go_marshal_indent) {
    json_writer w;
    w.begin_object();
    w.field("a", 1);
    w.key("empty_obj").begin_object().end_object();
    w.key("empty_arr").begin_array().end_array();
    w.key("list").begin_array();
    w.value("x");
    w.begin_object().field("k", true).end_object();
    w.end_array();
    w.end_object();
    EXPECT_TRUE(w.complete());
    EXPECT_EQ(w.str(), "{\n"
                       "  \"a\": 1,\n"
                       "  \"empty_obj\": {},\n"
                       "  \"empty_arr\": [],\n"
                       "  \"list\": [\n"
                       "    \"x\",\n"
                       "    {\n"
                       "      \"k\": true\n"
                       "    }\n"
                       "  ]\n"
                       "}");
}

TEST(json_writer, compact_form) {
    json_writer w(false);
    w.begin_object()
        .field("status", "ok")
        .key("n")
        .begin_array()
        .value(1)
        .value(-2)
        .null()
        .end_array()
        .end_object();
    EXPECT_EQ(w.str(), R"({"status":"ok","n":[1,-2,null]})");
}

TEST(json_writer, integers_keep_full_range) {
    json_writer w(false);
    w.begin_array();
    w.value(std::numeric_limits<std::uint64_t>::max());
    w.value(std::numeric_limits<std::int64_t>::min());
    w.end_array();
    EXPECT_EQ(w.str(), "[18446744073709551615,-9223372036854775808]");
}

TEST(json_writer, escapes_like_go) {
    EXPECT_EQ(esc("plain"), "\"plain\"");
    EXPECT_EQ(esc("q\"b\\"), "\"q\\\"b\\\\\"");
    EXPECT_EQ(esc("\n\r\t"), "\"\\n\\r\\t\"");
    EXPECT_EQ(esc(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
    EXPECT_EQ(esc(std::string(1, '\0')), "\"\\u0000\"");
    // encoding/json is HTML-safe by default.
    EXPECT_EQ(esc("<a&b>"), "\"\\u003ca\\u0026b\\u003e\"");
    // Valid UTF-8 passes through; line/paragraph separators are escaped.
    EXPECT_EQ(esc("µs é 日本"), "\"µs é 日本\"");
    EXPECT_EQ(esc("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
    // Invalid UTF-8 becomes U+FFFD, one per bad byte.
    EXPECT_EQ(esc("a\xff"
                  "b"),
              "\"a\\ufffdb\"");
    EXPECT_EQ(esc("\xc3"), "\"\\ufffd\"");                       // truncated sequence
    EXPECT_EQ(esc("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            // overlong
    EXPECT_EQ(esc("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); // surrogate
}

TEST(json_writer, floats_in_go_form) {
    EXPECT_EQ(format_json_number(0.0), "0");
    EXPECT_EQ(format_json_number(2.0), "2");
    EXPECT_EQ(format_json_number(0.8), "0.8");
    EXPECT_EQ(format_json_number(0.5714285714285714), "0.5714285714285714");
    EXPECT_EQ(format_json_number(-1.5), "-1.5");
    EXPECT_EQ(format_json_number(1e-7), "1e-7");
    EXPECT_EQ(format_json_number(1e21), "1e+21");
    EXPECT_EQ(format_json_number(123456789.0), "123456789");
}

TEST(json_writer, output_parses_with_simdjson) {
    json_writer w;
    w.begin_object();
    w.field("name", std::string("we\xff"
                                "ird \"<name>\"\n"));
    w.field("rate", 0.25);
    w.field("big", std::uint64_t{1} << 63);
    w.key("nested")
        .begin_object()
        .key("list")
        .begin_array()
        .value("a")
        .value(false)
        .end_array()
        .end_object();
    w.end_object();
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    ASSERT_EQ(p.parse(w.str()).get(doc), simdjson::SUCCESS) << w.str();
    std::string_view name;
    ASSERT_EQ(doc["name"].get(name), simdjson::SUCCESS);
    EXPECT_EQ(name, "we\xef\xbf\xbdird \"<name>\"\n");
    double rate;
    ASSERT_EQ(doc["rate"].get(rate), simdjson::SUCCESS);
    EXPECT_EQ(rate, 0.25);
    std::uint64_t big;
    ASSERT_EQ(doc["big"].get(big), simdjson::SUCCESS);
    EXPECT_EQ(big, std::uint64_t{1} << 63);
    bool b = true;
    ASSERT_EQ(doc["nested"]["list"].at(1).get(b), simdjson::SUCCESS);
    EXPECT_FALSE(b);
}

} // namespace
} // namespace natrix::monitor
