#include <gtest/gtest.h>

#include "parse_helpers.hh"

using namespace natrix::protocol;
using namespace natrix::protocol::test;
using strings = std::vector<std::string>;

namespace {

const std::string k_mixed = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n"
                            "PING\r\n"
                            "SUB foo 1\r\n"
                            "SUB foo.* workers 2\r\n"
                            "sub\tbar.>\t\t3\r\n"
                            "PUB foo 5\r\nhello\r\n"
                            "PUB foo reply.1 0\r\n\r\n"
                            "pub foo 12\r\nPUB x 1\r\n\r\nx\r\n"
                            "HPUB foo 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"
                            "HPUB foo rep 12 12\r\nNATS/1.0\r\n\r\n\r\n"
                            "UNSUB 1\r\n"
                            "UNSUB 2 10\r\n"
                            "PONG\r\n"
                            "+OK\r\n"
                            "-ERR 'Unknown Protocol Operation'\r\n"
                            "INFO {\"server_id\":\"x\"}\r\n"
                            "PUB  foo   7\r\n\r\nabc\r\n\r\n"
                            "PING\n";

const strings k_mixed_ops = {
    "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}",
    "PING",
    "SUB foo [] 1",
    "SUB foo.* [workers] 2",
    "SUB bar.> [] 3",
    "PUB foo [] hello",
    "PUB foo [reply.1] ",
    "PUB foo [] PUB x 1\r\n\r\nx",
    "HPUB foo [] 12 NATS/1.0\r\n\r\nhello",
    "HPUB foo [rep] 12 NATS/1.0\r\n\r\n",
    "UNSUB 1 -1",
    "UNSUB 2 10",
    "PONG",
    "+OK",
    "-ERR 'Unknown Protocol Operation'",
    "INFO {\"server_id\":\"x\"}",
    "PUB foo [] \r\nabc\r\n",
    "PING",
};

parser_config with_isa(scan_isa isa) {
    parser_config c;
    c.isa = isa;
    return c;
}

} // namespace

TEST(parser, mixed_stream_whole) {
    auto r = run_whole(k_mixed);
    EXPECT_EQ(r.error, parse_error::none);
    EXPECT_EQ(r.ops, k_mixed_ops);
    EXPECT_TRUE(r.at_boundary);
}

TEST(parser, mixed_stream_split_at_every_byte) {
    for (std::size_t cut = 1; cut < k_mixed.size(); ++cut) {
        auto r = run_split(k_mixed, cut);
        ASSERT_EQ(r.error, parse_error::none) << "cut at " << cut;
        ASSERT_EQ(r.ops, k_mixed_ops) << "cut at " << cut;
        ASSERT_TRUE(r.at_boundary);
    }
}

TEST(parser, mixed_stream_byte_by_byte_every_isa) {
    for (scan_isa isa : {scan_isa::scalar, scan_isa::sse2, scan_isa::avx2}) {
        if (isa == scan_isa::avx2 && widest_scan_isa() != scan_isa::avx2) continue;
        auto r = run_fixed(k_mixed, 1, with_isa(isa));
        EXPECT_EQ(r.error, parse_error::none) << scan_isa_name(isa);
        EXPECT_EQ(r.ops, k_mixed_ops) << scan_isa_name(isa);
    }
}

TEST(parser, mixed_stream_random_chunks) {
    std::string stream;
    strings expected;
    for (int i = 0; i < 20; ++i) {
        stream += k_mixed;
        expected.insert(expected.end(), k_mixed_ops.begin(), k_mixed_ops.end());
    }
    for (std::uint32_t seed = 1; seed <= 200; ++seed) {
        auto r = run_random(stream, seed);
        ASSERT_EQ(r.error, parse_error::none) << "seed " << seed;
        ASSERT_EQ(r.ops, expected) << "seed " << seed;
    }
}

TEST(parser, ops_are_case_insensitive) {
    auto r = run_whole("pUb foo 1\r\na\r\nSuB a 1\r\nuNsUb 1\r\npInG\r\nPoNg\r\nconnect {}\r\n"
                       "hpub x 12 12\r\nNATS/1.0\r\n\r\n\r\n+ok\r\n-err 'x'\r\nInFo {}\r\n");
    EXPECT_EQ(r.error, parse_error::none);
    EXPECT_EQ(r.ops,
              (strings{"PUB foo [] a", "SUB a [] 1", "UNSUB 1 -1", "PING", "PONG", "CONNECT {}",
                       "HPUB x [] 12 NATS/1.0\r\n\r\n", "+OK", "-ERR 'x'", "INFO {}"}));
}

TEST(parser, tabs_and_runs_of_blanks_separate_fields) {
    auto r = run_whole("PUB\tfoo\t \tbar \t 3\r\nabc\r\nSUB \t q.x\t\tg  9 \r\n");
    EXPECT_EQ(r.ops, (strings{"PUB foo [bar] abc", "SUB q.x [g] 9"}));
}

TEST(parser, bare_newline_ends_a_line) {
    auto r = run_whole("SUB a 1\nPUB a 1\na\r\nPING\n");
    EXPECT_EQ(r.ops, (strings{"SUB a [] 1", "PUB a [] a", "PING"}));
}

TEST(parser, ping_pong_ok_ignore_the_rest_of_the_line) {
    // nats-server accepts anything between PING and the newline.
    auto r = run_whole("PINGpong junk\r\nPONG x\r\n+OKAY\r\n");
    EXPECT_EQ(r.ops, (strings{"PING", "PONG", "+OK"}));
    std::string junk = "PING" + std::string(20000, 'x') + "\r\nPING\r\n";
    auto s = run_fixed(junk, 100);
    EXPECT_EQ(s.error, parse_error::none);
    EXPECT_EQ(s.ops, (strings{"PING", "PING"}));
}

TEST(parser, connect_and_info_need_no_separator) {
    auto r = run_whole("CONNECT{\"a\":1}\r\nINFO\t{}\r\n");
    EXPECT_EQ(r.ops, (strings{"CONNECT {\"a\":1}", "INFO {}"}));
}

TEST(parser, zero_and_binary_payloads) {
    std::string bin("PUB b 4\r\n\0\r\n\xff\r\n", 15);
    auto r = run_whole("PUB z 0\r\n\r\n" + bin);
    ASSERT_EQ(r.ops.size(), 2u);
    EXPECT_EQ(r.ops[0], "PUB z [] ");
    EXPECT_EQ(r.ops[1], std::string("PUB b [] \0\r\n\xff", 13));
}

TEST(parser, unknown_ops_fail_at_the_first_wrong_byte) {
    for (std::string bad :
         {"FOO\r\n", "X", "PUX", "PUBX", "SUBfoo", "UNSUB\r\n", "PINX\r\n", "CONNECX", "HPUX",
          "MSG foo 1 1\r\n", "HMSG foo 1 1 1\r\n", "RS+ $G foo\r\n", "RMSG $G foo 1\r\n",
          "A+ $G\r\n", "LS+ $G foo\r\n", "-ERRx\r\n", "+OX\r\n", "\r\n", " PUB a 1\r\n"}) {
        auto r = run_whole(bad);
        EXPECT_EQ(r.error, parse_error::unknown_op) << bad;
        EXPECT_TRUE(r.ops.empty()) << bad;
    }
}

TEST(parser, malformed_arguments_close_without_err) {
    for (std::string bad :
         {"PUB foo\r\n", "PUB\tfoo  \r\n", "PUB foo bar baz 5\r\n", "PUB foo -1\r\n",
          "PUB foo 5a\r\n", "PUB foo 1234567890\r\n", "SUB foo\r\n", "SUB a b c d\r\n",
          "UNSUB \r\n", "UNSUB 1 2 3\r\n", "HPUB foo 5\r\n", "HPUB foo 10 5\r\n",
          "HPUB foo x 5\r\n", "PUB \r\n"}) {
        auto r = run_whole(bad);
        EXPECT_EQ(r.error, parse_error::malformed) << bad;
    }
}

TEST(parser, unsub_max_that_is_not_a_number_counts_as_absent) {
    auto r = run_whole("UNSUB 5 abc\r\nUNSUB abc\r\n");
    EXPECT_EQ(r.ops, (strings{"UNSUB 5 -1", "UNSUB abc -1"}));
}

TEST(parser, payload_must_end_with_crlf) {
    EXPECT_EQ(run_whole("PUB foo 3\r\nabcd\r\n").error, parse_error::unknown_op);
    EXPECT_EQ(run_whole("PUB foo 3\r\nabc\n\r").error, parse_error::unknown_op);
    EXPECT_EQ(run_fixed("PUB foo 3\r\nabcX\n", 1).error, parse_error::unknown_op);
}

TEST(parser, hpub_requires_headers_enabled) {
    parser_config cfg;
    auto r = run_chunks("HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", cfg, false,
                        [] { return std::size_t{1000}; });
    EXPECT_EQ(r.error, parse_error::headers_not_supported);
}

TEST(parser, max_payload_is_decided_from_the_control_line) {
    parser_config cfg;
    cfg.max_payload = 10;
    EXPECT_EQ(run_whole("PUB foo 10\r\n0123456789\r\n", cfg).error, parse_error::none);
    // No payload bytes need to arrive: the line alone is enough.
    EXPECT_EQ(run_whole("PUB foo 11\r\n", cfg).error, parse_error::max_payload);
    EXPECT_EQ(run_whole("HPUB foo 2 11\r\n", cfg).error, parse_error::max_payload);
    cfg.max_payload = 0; // unlimited
    EXPECT_EQ(run_whole("PUB foo 999999\r\n", cfg).error, parse_error::none);
}

TEST(parser, max_control_line_counts_the_arguments) {
    parser_config cfg;
    cfg.max_control_line = 4096;
    // "PUB " + args; args of exactly 4096 bytes pass, 4097 fail (as 2.9.10).
    std::string subj(4096 - 2, 'a');
    std::string ok = "PUB " + subj + " 0\r\n\r\n";
    std::string bad = "PUB " + subj + "a 0\r\n\r\n";
    for (std::size_t chunk : {std::size_t{100000}, std::size_t{1}, std::size_t{1000}}) {
        EXPECT_EQ(run_fixed(ok, chunk, cfg).error, parse_error::none) << chunk;
        EXPECT_EQ(run_fixed(bad, chunk, cfg).error, parse_error::max_control_line) << chunk;
    }
    std::string sub_bad = "SUB " + std::string(5000, 'b') + " 1\r\n";
    EXPECT_EQ(run_whole(sub_bad, cfg).error, parse_error::max_control_line);
}

TEST(parser, overlong_line_without_newline_fails_before_it_ends) {
    parser_config cfg;
    cfg.max_control_line = 64;
    parser p(cfg);
    std::string big = "SUB " + std::string(100, 'x');
    std::string_view in(big);
    parsed_op op;
    EXPECT_EQ(p.next(in, op), parse_status::error);
    EXPECT_EQ(p.error(), parse_error::max_control_line);
}

TEST(parser, connect_obeys_max_control_line_info_only_when_split) {
    parser_config cfg;
    cfg.max_control_line = 100;
    std::string connect = "CONNECT {\"name\":\"" + std::string(200, 'n') + "\"}\r\n";
    EXPECT_EQ(run_whole(connect, cfg).error, parse_error::max_control_line);
    EXPECT_EQ(run_fixed(connect, 150, cfg).error, parse_error::max_control_line);
    std::string ok = "CONNECT {\"name\":\"" + std::string(100 - 11, 'n') + "\"}\r\n";
    EXPECT_EQ(run_whole(ok, cfg).error, parse_error::none);
    std::string info = "INFO {\"x\":\"" + std::string(200, 'i') + "\"}\r\n";
    EXPECT_EQ(run_whole(info, cfg).error, parse_error::none);
    EXPECT_EQ(run_fixed(info, 150, cfg).error, parse_error::max_control_line);
}

TEST(parser, size_fields_keep_their_spelling) {
    parser p;
    p.set_headers(true);
    std::string s = "PUB a 003\r\nabc\r\nHPUB b 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n";
    std::string_view in(s);
    parsed_op op;
    ASSERT_EQ(p.next(in, op), parse_status::op);
    EXPECT_EQ(op.size_text, "003");
    ASSERT_EQ(p.next(in, op), parse_status::op);
    EXPECT_EQ(op.size_text, "0014");
    EXPECT_EQ(op.header_size_text, "012");
}

TEST(parser, split_payload_is_bounded_and_assembled) {
    parser_config cfg;
    cfg.max_payload = 1 << 20;
    std::string payload(1 << 20, 'p');
    payload[0] = 'A';
    payload.back() = 'Z';
    std::string s = "PUB big reply 1048576\r\n" + payload + "\r\nPING\r\n";
    auto r = run_fixed(s, 4096, cfg);
    ASSERT_EQ(r.error, parse_error::none);
    ASSERT_EQ(r.ops.size(), 2u);
    EXPECT_EQ(r.ops[0], "PUB big [reply] " + payload);
    EXPECT_EQ(r.ops[1], "PING");

    parser p(cfg);
    std::string_view in(s.data(), 100000);
    parsed_op op;
    EXPECT_EQ(p.next(in, op), parse_status::need_more);
    EXPECT_LE(p.buffered_bytes(), (1u << 20) + 2 + 4096 + 64);
}

TEST(parser, errors_are_sticky) {
    parser p;
    std::string s = "FOO\r\nPING\r\n";
    std::string_view in(s);
    parsed_op op;
    EXPECT_EQ(p.next(in, op), parse_status::error);
    std::string_view again("PING\r\n");
    EXPECT_EQ(p.next(again, op), parse_status::error);
    EXPECT_STRNE(p.error_detail(), "");
}

TEST(parser, route_ops_on_route_connections) {
    parser_config cfg;
    cfg.role = conn_role::route;
    std::string s = "RS+ $G foo\r\nRS+ $G foo.* q 3\r\nRS- $G foo\r\n"
                    "RMSG $G foo reply 5\r\nhello\r\n"
                    "RMSG $G foo + reply q1 q2 2\r\nhi\r\n"
                    "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
                    "LS+ $G bar\r\nLMSG $G bar 1\r\nx\r\nA+ $G\r\nA- $G\r\nPING\r\n";
    strings expected = {"RS+ $G foo",
                        "RS+ $G foo.* q 3",
                        "RS- $G foo",
                        "RMSG $G foo reply 5 {hello}",
                        "RMSG $G foo + reply q1 q2 2 {hi}",
                        "HMSG $G foo 12 14 {NATS/1.0\r\n\r\nhi}",
                        "LS+ $G bar",
                        "LMSG $G bar 1 {x}",
                        "A+ $G",
                        "A- $G",
                        "PING"};
    auto whole = run_whole(s, cfg);
    EXPECT_EQ(whole.error, parse_error::none);
    EXPECT_EQ(whole.ops, expected);
    auto bytes = run_fixed(s, 1, cfg);
    EXPECT_EQ(bytes.ops, expected);
}

TEST(parse_size, nats_server_rules) {
    EXPECT_EQ(parse_size("0"), 0);
    EXPECT_EQ(parse_size("123"), 123);
    EXPECT_EQ(parse_size("999999999"), 999999999);
    EXPECT_EQ(parse_size("1000000000"), -1);
    EXPECT_EQ(parse_size(""), -1);
    EXPECT_EQ(parse_size("-1"), -1);
    EXPECT_EQ(parse_size("1a"), -1);
    EXPECT_EQ(parse_size(" 1"), -1);
}

TEST(parser, raising_max_control_line_keeps_a_split_line_and_payload_fields) {
    parser_config cfg;
    cfg.max_control_line = 64;
    parser p(cfg);
    std::string subject(100, 's');
    std::string s = "PUB " + subject + " 5\r\nhello\r\n";
    std::string_view first(s.data(), 20);
    parsed_op op;
    ASSERT_EQ(p.next(first, op), parse_status::need_more);
    p.set_max_control_line(4096);
    std::string_view rest(s.data() + 20, s.size() - 20 - 4);
    ASSERT_EQ(p.next(rest, op), parse_status::need_more); // payload split too
    p.set_max_control_line(8192);                         // fields now live in the new scratch
    std::string_view tail(s.data() + s.size() - 4, 4);
    ASSERT_EQ(p.next(tail, op), parse_status::op);
    EXPECT_EQ(op.subject, subject);
    EXPECT_EQ(op.payload, "hello");
}

namespace {

// The op.arg of every op in `stream`, fed in chunks of `chunk` bytes; and the
// failed line's kind and arg when the parser stops on an error.
struct arg_run {
    strings args;
    op_kind failed_kind = op_kind::none;
    std::string failed_arg;
};

arg_run args_of(const std::string& stream, std::size_t chunk, parser_config cfg = {}) {
    parser p(cfg);
    p.set_headers(true);
    arg_run r;
    for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
        const std::string piece = stream.substr(pos, chunk); // its own buffer, freed after use
        std::string_view in(piece);
        parsed_op op;
        for (;;) {
            const parse_status st = p.next(in, op);
            if (st == parse_status::op) {
                r.args.push_back(std::string(op_name(op.kind)) + "|" + std::string(op.arg));
                continue;
            }
            if (st == parse_status::error) {
                r.failed_kind = p.failed_op().kind;
                r.failed_arg = std::string(p.failed_op().arg);
                return r;
            }
            break;
        }
    }
    return r;
}

} // namespace

TEST(parser, argument_line_is_kept_as_the_client_wrote_it) {
    // Protocol traces show it: blanks inside and at the end stay, one '\r' goes.
    const std::string stream = "PUB   foo\t r  2 \r\nhi\r\nsub foo  q 1\t\r\nUNSUB 1 \n"
                               "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING x\r\n"
                               "CONNECT  {}\r\n";
    const strings want = {"PUB|foo\t r  2 ", "SUB|foo  q 1\t", "UNSUB|1 ",
                          "HPUB|foo 12 14",  "PING|",          "CONNECT|{}"};
    for (std::size_t chunk : {std::size_t{1000}, std::size_t{1}, std::size_t{7}}) {
        const arg_run r = args_of(stream, chunk);
        EXPECT_EQ(r.args, want) << chunk;
        EXPECT_EQ(r.failed_kind, op_kind::none) << chunk;
    }
}

TEST(parser, failed_op_names_the_line_read_before_the_error) {
    parser_config cfg;
    cfg.max_payload = 10;
    const std::pair<std::string, std::string> failed[] = {
        {"PUB foo 11\r\n", "PUB|foo 11"},       // max_payload
        {"SUB a b c d\r\n", "SUB|a b c d"},     // malformed
        {"UNSUB \r\n", "UNSUB|"},               // malformed, empty
        {"PUB foo 3\r\nabcd\r\n", "PUB|foo 3"}, // payload without CRLF
        {"PUB foo 3\r\nab", "PUB|foo 3"},       // ... found when it is split
    };
    for (const auto& [stream, want] : failed) {
        for (std::size_t chunk : {std::size_t{1000}, std::size_t{1}}) {
            std::string in = stream;
            if (in.back() == 'b') in += "cXY"; // the split case's tail
            const arg_run r = args_of(in, chunk, cfg);
            EXPECT_EQ(std::string(op_name(r.failed_kind)) + "|" + r.failed_arg, want)
                << stream << " chunk " << chunk;
        }
    }
    // Failures before the arguments were read name no line.
    for (const std::string& bad :
         {std::string("FOO\r\n"), "PUB " + std::string(5000, 'a') + " 1\r\n"}) {
        const arg_run r = args_of(bad, 1000, cfg);
        EXPECT_EQ(r.failed_kind, op_kind::none) << bad.substr(0, 10);
    }
}
