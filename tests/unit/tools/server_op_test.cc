#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <natrix/auth/nkey.hh>
#include <natrix/bench_client/client_conn.hh>
#include <natrix/bench_client/server_op.hh>

using namespace natrix::bench_client;

namespace {

// A flattened view of one op, to compare whole sequences.
std::string describe(const server_op& op) {
    std::string s;
    switch (op.kind) {
    case op_kind::msg:
        s = "MSG";
        break;
    case op_kind::hmsg:
        s = "HMSG";
        break;
    case op_kind::ping:
        s = "PING";
        break;
    case op_kind::pong:
        s = "PONG";
        break;
    case op_kind::ok:
        s = "+OK";
        break;
    case op_kind::err:
        s = "-ERR";
        break;
    case op_kind::info:
        s = "INFO";
        break;
    case op_kind::bad:
        s = "BAD";
        break;
    }
    s += "|" + std::string(op.subject) + "|" + std::string(op.sid) + "|" + std::string(op.reply) +
         "|" + std::string(op.headers) + "|" + std::string(op.payload) + "|" + std::string(op.text);
    return s;
}

// Feeds the stream in pieces as a socket would, keeping the unparsed tail like client_conn does.
std::vector<std::string> parse_in_pieces(const std::string& stream, std::size_t piece) {
    std::vector<std::string> out;
    std::string buf;
    std::size_t fed = 0;
    while (fed < stream.size()) {
        const std::size_t n = std::min(piece, stream.size() - fed);
        buf.append(stream, fed, n);
        fed += n;
        std::size_t off = 0;
        server_op op;
        while (std::size_t used = parse_server_op(buf.data() + off, buf.size() - off, op)) {
            out.push_back(describe(op));
            off += used;
        }
        buf.erase(0, off);
    }
    EXPECT_TRUE(buf.empty()) << "left over: " << buf;
    return out;
}

const std::string k_stream =
    "INFO {\"server_id\":\"X\",\"max_payload\":1048576,\"headers\":true} \r\n"
    "PING\r\n"
    "MSG foo.bar 1 5\r\nhello\r\n"
    "MSG foo.bar 12 _INBOX.x.y 7\r\nab\r\ncd!\r\n" // payload holds CRLF
    "HMSG h.s 2 24 29\r\nNATS/1.0\r\nA: b\r\nX: y\r\n\r\nworld\r\n"
    "HMSG h.s 2 reply.to 12 12\r\nNATS/1.0\r\n\r\n\r\n"
    "MSG empty 3 0\r\n\r\n"
    "+OK\r\n"
    "PONG\r\n"
    "-ERR 'Slow Consumer'\r\n";

} // namespace

TEST(server_op, parses_every_op_kind) {
    const auto ops = parse_in_pieces(k_stream, k_stream.size());
    const std::vector<std::string> want = {
        "INFO||||||{\"server_id\":\"X\",\"max_payload\":1048576,\"headers\":true}",
        "PING||||||",
        "MSG|foo.bar|1|||hello|",
        "MSG|foo.bar|12|_INBOX.x.y||ab\r\ncd!|",
        "HMSG|h.s|2||NATS/1.0\r\nA: b\r\nX: y\r\n\r\n|world|",
        "HMSG|h.s|2|reply.to|NATS/1.0\r\n\r\n||",
        "MSG|empty|3||||",
        "+OK||||||",
        "PONG||||||",
        "-ERR||||||'Slow Consumer'",
    };
    EXPECT_EQ(ops, want);
}

TEST(server_op, split_reads_at_every_offset_give_the_same_ops) {
    const auto whole = parse_in_pieces(k_stream, k_stream.size());
    for (std::size_t piece = 1; piece < 64; ++piece)
        ASSERT_EQ(parse_in_pieces(k_stream, piece), whole) << "piece size " << piece;
    // And every single split point with two reads.
    for (std::size_t cut = 1; cut < k_stream.size(); ++cut) {
        std::vector<std::string> out;
        std::string buf = k_stream.substr(0, cut);
        std::size_t off = 0;
        server_op op;
        while (std::size_t used = parse_server_op(buf.data() + off, buf.size() - off, op)) {
            out.push_back(describe(op));
            off += used;
        }
        buf = buf.substr(off) + k_stream.substr(cut);
        off = 0;
        while (std::size_t used = parse_server_op(buf.data() + off, buf.size() - off, op)) {
            out.push_back(describe(op));
            off += used;
        }
        ASSERT_EQ(off, buf.size()) << cut;
        ASSERT_EQ(out, whole) << "cut at " << cut;
    }
}

TEST(server_op, incomplete_input_asks_for_more) {
    server_op op;
    EXPECT_EQ(parse_server_op("MSG a 1 5\r\nhel", 14, op), 0u);
    EXPECT_EQ(parse_server_op("PIN", 3, op), 0u);
    EXPECT_EQ(parse_server_op("MSG a 1 5\r\nhello\r", 17, op), 0u);
}

TEST(server_op, rejects_malformed_input) {
    auto bad = [](const std::string& s) {
        server_op op;
        const std::size_t used = parse_server_op(s.data(), s.size(), op);
        EXPECT_EQ(op.kind, op_kind::bad) << s;
        EXPECT_GE(used, 1u) << s;
    };
    bad("FOO bar\r\n");
    bad("MSG a\r\n");          // too few arguments
    bad("MSG a 1 x\r\n");      // size not a number
    bad("MSG a 1 2 3 4\r\n");  // too many arguments
    bad("MSG a 1 3\r\nabcXY"); // payload not followed by CRLF
    bad("HMSG a 1 9 5\r\n");   // header size above total
    bad("\r\n");
    bad(std::string(max_control_line_bytes + 1, 'A'));
}

TEST(server_op, json_value_and_connect_line) {
    const std::string info = R"({"server_id":"N1","version":"2.9.10","headers":true,)"
                             R"("max_payload":1048576,"auth_required":true,"nonce":"abc"})";
    EXPECT_EQ(json_value(info, "version"), "2.9.10");
    EXPECT_EQ(json_value(info, "max_payload"), "1048576");
    EXPECT_EQ(json_value(info, "headers"), "true");
    EXPECT_EQ(json_value(info, "missing"), "");
    credentials c;
    c.user = "u\"1";
    c.pass = "p";
    const std::string line = connect_line(c, "bench");
    EXPECT_EQ(line.rfind("CONNECT {", 0), 0u);
    EXPECT_NE(line.find(R"("verbose":false)"), std::string::npos);
    EXPECT_NE(line.find(R"("headers":true)"), std::string::npos);
    EXPECT_NE(line.find(R"("user":"u\"1","pass":"p")"), std::string::npos);
    EXPECT_EQ(line.find("auth_token"), std::string::npos);
    EXPECT_EQ(line.substr(line.size() - 3), "}\r\n");
}

TEST(server_op, connect_line_signs_the_nonce_with_an_nkey) {
    namespace nk = natrix::auth::nkey;
    credentials c;
    c.nkey = std::make_shared<const nk::keypair>(nk::keypair::generate(nk::key_type::user));
    const std::string line = connect_line(c, "bench", "kT7hHWd6Yw5XJjo");
    const std::string json = line.substr(8, line.size() - 10); // CONNECT ... \r\n
    EXPECT_EQ(json_value(json, "nkey"), c.nkey->public_key());
    const std::string sig(json_value(json, "sig"));
    EXPECT_TRUE(nk::verify_nonce(c.nkey->public_key(), "kT7hHWd6Yw5XJjo", sig)) << line;
    EXPECT_FALSE(nk::verify_nonce(c.nkey->public_key(), "another-nonce00", sig));
    EXPECT_EQ(line.find("\"user\""), std::string::npos);
    // No nonce (a server without nkey users): still signed, as nats.go does.
    const std::string bare = connect_line(c, "bench");
    EXPECT_NE(bare.find("\"sig\":"), std::string::npos);
}

TEST(server_op, credentials_for_prefers_the_command_line) {
    server_url u;
    u.user = "url-user";
    u.pass = "url-pass";
    credentials none;
    EXPECT_EQ(credentials_for(none, u).user, "url-user");
    credentials nkey_only;
    nkey_only.nkey = std::make_shared<const natrix::auth::nkey::keypair>(
        natrix::auth::nkey::keypair::generate(natrix::auth::nkey::key_type::user));
    const credentials c = credentials_for(nkey_only, u);
    EXPECT_TRUE(c.user.empty());
    EXPECT_TRUE(c.pass.empty());
    EXPECT_EQ(c.nkey, nkey_only.nkey);
}
