#include <string>

#include <gtest/gtest.h>

#include <natrix/protocol/errors.hh>
#include <natrix/protocol/server_info.hh>
#include <natrix/protocol/writer.hh>

using namespace natrix::protocol;

namespace {
std::string as_string(const char* header, const delivery& d) {
    return std::string(header, d.header_len) + std::string(d.body) + "\r\n";
}
} // namespace

TEST(writer, msg_with_and_without_reply) {
    char buf[256];
    std::size_t n = write_msg_header(buf, "foo.bar", "12", "", 5);
    EXPECT_EQ(std::string(buf, n), "MSG foo.bar 12 5\r\n");
    n = write_msg_header(buf, "foo", "1", "_INBOX.x", 0);
    EXPECT_EQ(std::string(buf, n), "MSG foo 1 _INBOX.x 0\r\n");
    EXPECT_LE(n, msg_header_bound("foo", "1", "_INBOX.x"));
}

TEST(writer, hmsg) {
    char buf[256];
    std::size_t n = write_hmsg_header(buf, "a", "9", "r", 12, 17);
    EXPECT_EQ(std::string(buf, n), "HMSG a 9 r 12 17\r\n");
}

TEST(writer, delivery_keeps_headers_for_header_clients) {
    char buf[256];
    std::string payload = "NATS/1.0\r\n\r\nhello";
    delivery d = write_delivery(buf, true, "s", "1", "", payload, 12);
    EXPECT_EQ(as_string(buf, d), "HMSG s 1 12 17\r\nNATS/1.0\r\n\r\nhello\r\n");
}

TEST(writer, delivery_strips_headers_for_plain_clients) {
    char buf[256];
    std::string payload = "NATS/1.0\r\n\r\nhello";
    delivery d = write_delivery(buf, false, "s", "1", "rep", payload, 12);
    EXPECT_EQ(as_string(buf, d), "MSG s 1 rep 5\r\nhello\r\n");
    d = write_delivery(buf, false, "s", "1", "", "plain", 0);
    EXPECT_EQ(as_string(buf, d), "MSG s 1 5\r\nplain\r\n");
    d = write_delivery(buf, true, "s", "1", "", "plain", 0);
    EXPECT_EQ(as_string(buf, d), "MSG s 1 5\r\nplain\r\n");
}

TEST(writer, err_lines_use_the_one_table) {
    char buf[128];
    std::size_t n = write_err(buf, sizeof buf, proto_error::maximum_payload_violation);
    EXPECT_EQ(std::string(buf, n), "-ERR 'Maximum Payload Violation'\r\n");
    n = write_err(buf, sizeof buf, proto_error::unknown_protocol_operation);
    EXPECT_EQ(std::string(buf, n), "-ERR 'Unknown Protocol Operation'\r\n");
    EXPECT_EQ(write_err(buf, 3, "abc"), 12u); // reports the size it needs
}

TEST(errors, table_texts_and_close_flags_match_nats_server) {
    EXPECT_EQ(error_text(proto_error::maximum_control_line_exceeded),
              "maximum control line exceeded");
    EXPECT_EQ(error_text(proto_error::authorization_violation), "Authorization Violation");
    EXPECT_EQ(error_text(proto_error::stale_connection), "Stale Connection");
    EXPECT_EQ(error_text(proto_error::maximum_connections_exceeded),
              "maximum connections exceeded");
    EXPECT_TRUE(error_closes(proto_error::unknown_protocol_operation));
    EXPECT_FALSE(error_closes(proto_error::invalid_subject));
    EXPECT_FALSE(error_closes(proto_error::maximum_subscriptions_exceeded));
    EXPECT_TRUE(error_closes(proto_error::no_responders_requires_headers));
    for (int i = 0; i < static_cast<int>(proto_error::count_); ++i)
        EXPECT_FALSE(error_text(static_cast<proto_error>(i)).empty());
}

TEST(errors, permission_violation_quotes_like_go) {
    char buf[256];
    std::size_t n = format_pub_permission_violation(buf, sizeof buf, "foo.bar");
    EXPECT_EQ(std::string(buf, n), "Permissions Violation for Publish to \"foo.bar\"");
    n = format_sub_permission_violation(buf, sizeof buf, "q.work", "other");
    EXPECT_EQ(std::string(buf, n),
              "Permissions Violation for Subscription to \"q.work\" using queue \"other\"");
    n = format_pub_permission_violation(buf, sizeof buf, "a\"b");
    EXPECT_EQ(std::string(buf, n), "Permissions Violation for Publish to \"a\\\"b\"");
}

TEST(server_info, json_shape_and_trailing_space) {
    server_info info;
    info.server_id = "NABC";
    info.server_name = "n\"1";
    info.version = "2.9.10";
    info.host = "127.0.0.1";
    info.port = 4222;
    info.client_id = 7;
    info.client_ip = "127.0.0.1";
    char buf[512];
    std::size_t n = write_info(buf, sizeof buf, info);
    ASSERT_LE(n, sizeof buf);
    EXPECT_EQ(std::string(buf, n),
              "INFO {\"server_id\":\"NABC\",\"server_name\":\"n\\\"1\",\"version\":\"2.9.10\","
              "\"proto\":1,\"host\":\"127.0.0.1\",\"port\":4222,\"headers\":true,"
              "\"max_payload\":1048576,\"client_id\":7,\"client_ip\":\"127.0.0.1\"} \r\n");
    char small[10];
    EXPECT_EQ(write_info(small, sizeof small, info), n);
}

TEST(writer, echoes_the_publishers_size_spelling) {
    char buf[256];
    delivery d = write_delivery(buf, false, "s", "1", "", "abc", 0, "003");
    EXPECT_EQ(as_string(buf, d), "MSG s 1 003\r\nabc\r\n");
    std::string payload = "NATS/1.0\r\n\r\nhi";
    d = write_delivery(buf, true, "s", "1", "r", payload, 12, "0014", "012");
    EXPECT_EQ(as_string(buf, d), "HMSG s 1 r 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n");
    // Stripped: the size is computed, not echoed.
    d = write_delivery(buf, false, "s", "1", "", payload, 12, "0014", "012");
    EXPECT_EQ(as_string(buf, d), "MSG s 1 2\r\nhi\r\n");
}
