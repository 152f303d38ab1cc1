"""Server-initiated PINGs: the first one after CONNECT, keepalive and stale connections.

These are the only cases that keep server PINGs in the stream (pings="keep"); timing
windows are wide because the server adds up to 20% jitter to the first PING.
"""
from steps import Case, answer_pings, connect, expect, expect_close, send, sleep

FAST = 'ping_interval: "1s"\nping_max: 1'

CASES = [
    # Default config: one PING about 2 s after CONNECT (2.0-2.4 s on 2.9.10).
    Case("ping/first_server_ping_after_connect", [
        connect("a", {"verbose": False, "pedantic": False}, pings="keep"),
        expect("a", "PING", timeout=5, at=(1.5, 3.5)),
        send("a", "PONG\r\nPING\r\n"),
        expect("a", "PONG"),
    ]),
    # No CONNECT, no early PING: the 2 s timer starts with CONNECT.
    Case("ping/no_early_server_ping_before_connect", [
        connect("a", pings="keep"),
        sleep(3.0),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("ping/stale_connection_closed", [
        connect("a", {"verbose": False, "pedantic": False}, pings="keep"),
        expect("a", "PING", timeout=4, at=(0.7, 1.8)),
        expect("a", "-ERR 'Stale Connection'", timeout=4, at=(1.6, 3.2)),
        expect_close("a"),
    ], config=FAST),
    Case("ping/stale_connection_closed_without_connect", [
        connect("a", pings="keep"),
        expect("a", "PING", timeout=4, at=(0.7, 1.8)),
        expect("a", "-ERR 'Stale Connection'", timeout=4, at=(1.6, 3.2)),
        expect_close("a"),
    ], config=FAST),
    # Answered PINGs keep coming once per interval (PONGs are not "activity").
    Case("ping/answered_pings_keep_connection_open", [
        connect("a", {"verbose": False, "pedantic": False}, pings="keep"),
        answer_pings("a", 4.5, min_pings=3),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ], config=FAST),
    Case("ping/ping_interval_does_not_disturb_other_traffic", [
        connect("a", {"verbose": False, "pedantic": False}),
        send("a", "SUB pg.a 1\r\nPUB pg.a 1\r\nx\r\nPING\r\n"),
        expect("a", "MSG pg.a 1 1\r\nx", "PONG"),
    ], config=FAST),
]
