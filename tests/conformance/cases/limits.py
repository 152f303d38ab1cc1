"""max_payload, max_control_line, max_connections, max_subscriptions.

Violations are sent without trailing bytes where the server closes: bytes it never reads
would make the kernel reset the connection, which can hide the -ERR before it.
"""
from steps import (Case, check_info, connect, expect, expect_close, hpub, msg, pub, ready,
                   send, sleep)

SMALL = "max_payload: 512"


def line_args(n, fill="a", tail=" 0"):
    """Arguments of exactly n bytes: a subject of fill characters plus `tail`."""
    return "lc." + fill * (n - 3 - len(tail)) + tail


CASES = [
    # -- max_payload ----------------------------------------------------------------------
    Case("limit/max_payload_in_info", [
        connect("a"),
        check_info("a", values={"max_payload": 512}),
    ], config=SMALL),
    Case("limit/max_payload_exact_size_passes", [
        ready("a"),
        send("a", "SUB mp.a 1\r\n" + pub("mp.a", "x" * 512) + "PING\r\n"),
        expect("a", msg("mp.a", 1, "x" * 512), "PONG"),
    ], config=SMALL),
    # Decided from the control line alone: the payload is never sent.
    Case("limit/max_payload_exceeded", [
        ready("a"),
        send("a", "PUB mp.b 513\r\n"),
        expect("a", "-ERR 'Maximum Payload Violation'"),
        expect_close("a"),
    ], config=SMALL),
    Case("limit/max_payload_exceeded_by_hpub_total", [
        ready("a", headers=True),
        send("a", "HPUB mp.c 12 513\r\n"),
        expect("a", "-ERR 'Maximum Payload Violation'"),
        expect_close("a"),
    ], config=SMALL),
    Case("limit/max_payload_hpub_exact_size_passes", [
        ready("a", headers=True),
        send("a", "SUB mp.d 1\r\n" + hpub("mp.d", "NATS/1.0\r\n\r\n", "y" * 500) + "PING\r\n"),
        expect("a", "HMSG mp.d 1 12 512\r\nNATS/1.0\r\n\r\n" + "y" * 500, "PONG"),
    ], config=SMALL),
    Case("limit/default_max_payload_exceeded", [
        ready("a"),
        send("a", "PUB mp.e 1048577\r\n"),
        expect("a", "-ERR 'Maximum Payload Violation'"),
        expect_close("a"),
    ]),
    # -- max_control_line: the limit counts the bytes after the op and its blank ----------
    Case("limit/control_line_4096_passes", [
        ready("a"),
        send("a", "PUB " + line_args(4096) + "\r\n\r\nPING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("limit/control_line_4097_fails", [
        ready("a"),
        send("a", "PUB " + line_args(4097) + "\r\n"),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ]),
    Case("limit/control_line_sub_4096_passes", [
        ready("a"),
        # SUB <4094-byte subject> 1, then PUB <same subject> 2: both exactly 4096.
        send("a", "SUB " + line_args(4096, "s", " 1") + "\r\n" + pub("lc." + "s" * 4091, "hi") +
             "PING\r\n"),
        expect("a", msg("lc." + "s" * 4091, 1, "hi"), "PONG"),
    ]),
    Case("limit/control_line_sub_4097_fails", [
        ready("a"),
        send("a", "SUB " + line_args(4097, "s", " 1") + "\r\n"),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ]),
    Case("limit/control_line_4097_in_512_byte_pieces", [
        ready("a"),
        send("a", "PUB " + line_args(4097) + "\r\n", chunk=512),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ]),
    # An unterminated line is refused as soon as more than the limit is pending.
    Case("limit/control_line_pending_4096_waits", [
        ready("a"),
        send("a", ["SUB " + line_args(4096, "p", " 1"), "\r\nPING\r\n"], gap=0.1),
        expect("a", "PONG"),
    ]),
    Case("limit/control_line_pending_4097_fails_without_crlf", [
        ready("a"),
        send("a", "SUB " + line_args(4097, "p", " 1")),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ]),
    Case("limit/control_line_connect_4097_fails", [
        connect("a"),
        send("a", 'CONNECT {"verbose":false,"name":"' + "n" * (4097 - 27) + '"}\r\n'),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ]),
    Case("limit/control_line_configured_256", [
        ready("a"),
        send("a", "PUB " + line_args(256) + "\r\n\r\nPING\r\n"),
        expect("a", "PONG"),
        send("a", "PUB " + line_args(257) + "\r\n"),
        expect("a", "-ERR 'maximum control line exceeded'"),
        expect_close("a"),
    ], config="max_control_line: 256"),
    # -- max_connections ------------------------------------------------------------------
    Case("limit/max_connections", [
        # The harness's own readiness probe may still count for a moment.
        sleep(0.3),
        ready("a"), ready("b"),
        connect("c"),
        expect("c", "-ERR 'maximum connections exceeded'"),
        expect_close("c"),
        send("a", "PING\r\n"), expect("a", "PONG"),
    ], config="max_connections: 2", isolated=True),
    # -- max_subscriptions (per connection; the connection stays) -------------------------
    Case("limit/max_subscriptions", [
        ready("a"),
        send("a", "SUB ms.a 1\r\nSUB ms.b 2\r\nSUB ms.c 3\r\nPING\r\n"),
        expect("a", "-ERR 'maximum subscriptions exceeded'", "PONG"),
        send("a", pub("ms.c", "no") + pub("ms.b", "yes") + "PING\r\n"),
        expect("a", msg("ms.b", 2, "yes"), "PONG"),
        send("a", "UNSUB 1\r\nSUB ms.c 3\r\n" + pub("ms.c", "now") + "PING\r\n"),
        expect("a", msg("ms.c", 3, "now"), "PONG"),
    ], config="max_subscriptions: 2"),
    # The limit is checked before the duplicate-sid rule.
    Case("limit/max_subscriptions_duplicate_sid_at_limit", [
        ready("a", verbose=True),
        send("a", "SUB ms.d 1\r\nSUB ms.e 2\r\nSUB ms.d 1\r\nPING\r\n"),
        expect("a", "+OK", "+OK", "-ERR 'maximum subscriptions exceeded'", "PONG"),
    ], config="max_subscriptions: 2"),
    Case("limit/max_subscriptions_per_connection", [
        ready("a"), ready("b"),
        send("a", "SUB ms.f 1\r\nSUB ms.g 2\r\nPING\r\n"), expect("a", "PONG"),
        send("b", "SUB ms.f 1\r\nSUB ms.g 2\r\nPING\r\n"), expect("b", "PONG"),
    ], config="max_subscriptions: 2"),
]
