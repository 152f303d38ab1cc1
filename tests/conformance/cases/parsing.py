"""The control-line parser: case, separators, line ends, split reads, ops clients may not send."""
from steps import Case, connect, expect, expect_close, msg, pub, ready, send

# One session that touches every client op, sent in the pieces given to each case.
SESSION = ('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n'
           "SUB ps.s 1\r\nSUB ps.h 2\r\n" + pub("ps.s", "hello", reply="ps.r") +
           "HPUB ps.h 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1\r\n" + pub("ps.s", "gone") +
           "PING\r\n")
SESSION_REPLY = [msg("ps.s", 1, "hello", reply="ps.r"), "HMSG ps.h 2 12 14\r\nNATS/1.0\r\n\r\nhi",
                 "PONG"]

CASES = [
    Case("parse/unknown_op", [
        ready("a"),
        send("a", "FOO bar\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/ops_are_case_insensitive", [
        ready("a"),
        send("a", "sub ps.ci 1\r\npub ps.ci 1\r\na\r\nSuB ps.ci2 2\r\npUb ps.ci2 1\r\nb\r\n"
                  "uNsUb 1\r\nPub ps.ci 1\r\nc\r\npInG\r\n"),
        expect("a", msg("ps.ci", 1, "a"), msg("ps.ci2", 2, "b"), "PONG"),
    ]),
    Case("parse/tabs_and_runs_of_blanks_separate_arguments", [
        ready("a"),
        send("a", "SUB\tps.tab\t\t1\r\nPUB \t ps.tab  ps.rep\t 2\r\nhi\r\nPING\r\n"),
        expect("a", msg("ps.tab", 1, "hi", reply="ps.rep"), "PONG"),
    ]),
    Case("parse/trailing_blanks_ignored", [
        ready("a"),
        send("a", "SUB ps.tr 1 \t\r\nPUB ps.tr 2  \r\nhi\r\nPING \r\n"),
        expect("a", msg("ps.tr", 1, "hi"), "PONG"),
    ]),
    Case("parse/bare_lf_ends_control_lines", [
        ready("a"),
        send("a", "SUB ps.lf 1\nPUB ps.lf 2\nhi\r\nPING\n"),
        expect("a", msg("ps.lf", 1, "hi"), "PONG"),
    ]),
    Case("parse/leading_blank_is_unknown_op", [
        ready("a"),
        send("a", " PING\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/empty_line_is_unknown_op", [
        ready("a"),
        send("a", "\r\nPING\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/op_without_blank_before_argument", [
        ready("a"),
        send("a", "SUBps.nb 1\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/session_in_one_write", [
        connect("a"),
        send("a", SESSION),
        expect("a", *SESSION_REPLY),
    ]),
    Case("parse/session_byte_by_byte", [
        connect("a"),
        send("a", SESSION, chunk=1),
        expect("a", *SESSION_REPLY),
    ]),
    Case("parse/session_in_3_byte_pieces", [
        connect("a"),
        send("a", SESSION, chunk=3),
        expect("a", *SESSION_REPLY),
    ]),
    Case("parse/session_in_7_byte_pieces", [
        connect("a"),
        send("a", SESSION, chunk=7),
        expect("a", *SESSION_REPLY),
    ]),
    Case("parse/split_between_cr_and_lf", [
        ready("a"),
        send("a", ["SUB ps.crlf 1\r", "\nPUB ps.crlf 2\r", "\nhi\r", "\nPING\r", "\n"]),
        expect("a", msg("ps.crlf", 1, "hi"), "PONG"),
    ]),
    Case("parse/op_name_split_across_writes", [
        ready("a"),
        send("a", ["S", "UB ps.op 1\r\nP", "U", "B ps.op 1\r\nx\r\nPI", "NG\r\n"]),
        expect("a", msg("ps.op", 1, "x"), "PONG"),
    ]),
    Case("parse/payload_split_across_writes", [
        ready("a"),
        send("a", ["SUB ps.pl 1\r\nPUB ps.pl 10\r\nhello", "wor", "ld\r\nPING\r\n"]),
        expect("a", msg("ps.pl", 1, "helloworld"), "PONG"),
    ]),
    Case("parse/many_pings_in_one_write", [
        ready("a"),
        send("a", "PING\r\n" * 100),
        expect("a", *["PONG"] * 100),
    ]),
    Case("parse/unsolicited_pong_ignored", [
        ready("a"),
        send("a", "PONG\r\nPONG\r\nPING\r\n"),
        expect("a", "PONG"),
    ]),
    # Ops the server parser also knows for other peers: a client may send some of them.
    Case("parse/client_info_ignored", [
        ready("a"),
        send("a", 'INFO {"server_id":"x"}\r\nPING\r\n'),
        expect("a", "PONG"),
    ]),
    Case("parse/client_info_bad_json_closes_silently", [
        ready("a"),
        send("a", "INFO {bad\r\n"),
        expect_close("a"),
    ]),
    Case("parse/client_ok_ignored", [
        ready("a"),
        send("a", "+OK\r\nPING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("parse/client_err_closes_silently", [
        ready("a"),
        send("a", "-ERR 'bye'\r\n"),
        expect_close("a"),
    ]),
    Case("parse/client_msg_is_unknown_op", [
        ready("a"),
        send("a", "MSG ps.m 1 2\r\nhi\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/route_sub_is_unknown_op", [
        ready("a"),
        send("a", "RS+ $G ps.r\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/leaf_sub_is_unknown_op", [
        ready("a"),
        send("a", "LS+ ps.l\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("parse/account_sub_is_unknown_op", [
        ready("a"),
        send("a", "A+ $G\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
]
