"""HPUB/HMSG, header stripping for clients without headers, no-responders, echo."""
from steps import Case, expect, expect_close, hmsg, hpub, msg, pub, ready, send

H = "NATS/1.0\r\nX-Key: v1\r\nX-Key: v2\r\n\r\n"   # 37 bytes
NR = "HMSG {subj} {sid} 16 16\r\nNATS/1.0 503\r\n\r\n"  # the no-responders status message

CASES = [
    Case("hdr/hpub_to_headers_subscriber", [
        ready("a", headers=True),
        send("a", "SUB hd.a 1\r\n" + hpub("hd.a", H, "body") + "PING\r\n"),
        expect("a", hmsg("hd.a", 1, H, "body"), "PONG"),
    ]),
    Case("hdr/hpub_with_reply", [
        ready("a", headers=True),
        send("a", "SUB hd.r 1\r\n" + hpub("hd.r", H, "body", reply="hd.inbox") + "PING\r\n"),
        expect("a", hmsg("hd.r", 1, H, "body", reply="hd.inbox"), "PONG"),
    ]),
    # A subscriber that did not ask for headers gets MSG with the header block cut off.
    Case("hdr/stripped_for_subscriber_without_headers", [
        ready("sub"), ready("pub", headers=True),
        send("sub", "SUB hd.s 1\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", hpub("hd.s", H, "body", reply="hd.s.r") + hpub("hd.s", H, "")),
        expect("sub", msg("hd.s", 1, "body", reply="hd.s.r"), msg("hd.s", 1, "")),
    ]),
    Case("hdr/mixed_subscribers", [
        ready("plain"), ready("hdrs", headers=True), ready("pub", headers=True),
        send("plain", "SUB hd.m 1\r\nPING\r\n"), expect("plain", "PONG"),
        send("hdrs", "SUB hd.m 2\r\nPING\r\n"), expect("hdrs", "PONG"),
        send("pub", hpub("hd.m", H, "x")),
        expect("plain", msg("hd.m", 1, "x")),
        expect("hdrs", hmsg("hd.m", 2, H, "x")),
    ]),
    Case("hdr/pub_to_headers_subscriber_is_msg", [
        ready("a", headers=True),
        send("a", "SUB hd.p 1\r\n" + pub("hd.p", "plain") + "PING\r\n"),
        expect("a", msg("hd.p", 1, "plain"), "PONG"),
    ]),
    Case("hdr/zero_header_size_is_plain_msg", [
        ready("a", headers=True),
        send("a", "SUB hd.z 1\r\nHPUB hd.z 0 2\r\nhi\r\nHPUB hd.z 0 0\r\n\r\nPING\r\n"),
        expect("a", "MSG hd.z 1 2\r\nhi", "MSG hd.z 1 0\r\n", "PONG"),
    ]),
    Case("hdr/header_only_message", [
        ready("a", headers=True),
        send("a", "SUB hd.o 1\r\n" + hpub("hd.o", H) + "PING\r\n"),
        expect("a", hmsg("hd.o", 1, H), "PONG"),
    ]),
    # The header block is passed through unchecked.
    Case("hdr/header_block_not_validated", [
        ready("a", headers=True),
        send("a", "SUB hd.u 1\r\nHPUB hd.u 5 7\r\nhello!!\r\nPING\r\n"),
        expect("a", "HMSG hd.u 1 5 7\r\nhello!!", "PONG"),
    ]),
    Case("hdr/hpub_without_headers_option_closes_silently", [
        ready("a"),
        send("a", hpub("hd.n", H, "x")),
        expect_close("a"),
    ]),
    Case("hdr/hpub_with_headers_false_closes_silently", [
        ready("a", headers=False),
        send("a", hpub("hd.f", H, "x")),
        expect_close("a"),
    ]),
    Case("hdr/header_size_above_total_closes_silently", [
        ready("a", headers=True),
        send("a", "HPUB hd.b 12 11\r\n"),
        expect_close("a"),
    ]),
    Case("hdr/missing_total_size_closes_silently", [
        ready("a", headers=True),
        send("a", "HPUB hd.b 12\r\n"),
        expect_close("a"),
    ]),
    Case("hdr/pedantic_invalid_subject", [
        ready("a", headers=True, pedantic=True),
        send("a", hpub("hd.*", H, "x") + "PING\r\n"),
        expect("a", "-ERR 'Invalid Publish Subject'", "PONG"),
    ]),
    Case("hdr/hpub_byte_by_byte", [
        ready("a", headers=True),
        send("a", "SUB hd.bb 1\r\n" + hpub("hd.bb", H, "body", reply="hd.bb.r") + "PING\r\n", chunk=1),
        expect("a", hmsg("hd.bb", 1, H, "body", reply="hd.bb.r"), "PONG"),
    ]),
    Case("noresp/request_without_responders_gets_503", [
        ready("a", headers=True, no_responders=True),
        send("a", "SUB nr.inbox.1 1\r\n" + pub("nr.nobody", "req", reply="nr.inbox.1") + "PING\r\n"),
        expect("a", NR.format(subj="nr.inbox.1", sid=1), "PONG"),
    ]),
    Case("noresp/header_request_gets_503", [
        ready("a", headers=True, no_responders=True),
        send("a", "SUB nr.inbox.2 9\r\n" + hpub("nr.nobody2", H, "req", reply="nr.inbox.2") + "PING\r\n"),
        expect("a", NR.format(subj="nr.inbox.2", sid=9), "PONG"),
    ]),
    Case("noresp/no_reply_subject_no_status", [
        ready("a", headers=True, no_responders=True),
        send("a", "SUB nr.inbox.3 1\r\n" + pub("nr.nobody3", "x") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("noresp/option_off_no_status", [
        ready("a", headers=True),
        send("a", "SUB nr.inbox.4 1\r\n" + pub("nr.nobody4", "x", reply="nr.inbox.4") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("noresp/request_reply_with_responder", [
        ready("svc"), ready("req", headers=True, no_responders=True),
        send("svc", "SUB nr.svc 1\r\nPING\r\n"), expect("svc", "PONG"),
        send("req", "SUB nr.inbox.5 1\r\nPING\r\n"), expect("req", "PONG"),
        send("req", pub("nr.svc", "question", reply="nr.inbox.5")),
        expect("svc", msg("nr.svc", 1, "question", reply="nr.inbox.5")),
        send("svc", pub("nr.inbox.5", "answer")),
        expect("req", msg("nr.inbox.5", 1, "answer")),
    ]),
    Case("noresp/after_responder_unsubscribed", [
        ready("a", headers=True, no_responders=True),
        send("a", "SUB nr.inbox.6 1\r\nSUB nr.gone q 2\r\nUNSUB 2\r\n" +
             pub("nr.gone", "x", reply="nr.inbox.6") + "PING\r\n"),
        expect("a", NR.format(subj="nr.inbox.6", sid=1), "PONG"),
    ]),
    # With echo off the requester's own subscription does not count as a responder.
    Case("noresp/echo_off_own_subscription_is_no_responder", [
        ready("a", headers=True, no_responders=True, echo=False),
        send("a", "SUB nr.inbox.7 1\r\nSUB nr.self 2\r\n" + pub("nr.self", "x", reply="nr.inbox.7") +
             "PING\r\n"),
        expect("a", NR.format(subj="nr.inbox.7", sid=1), "PONG"),
    ]),
    Case("echo/default_on_delivers_own_messages", [
        ready("a"),
        send("a", "SUB ec.on 1\r\n" + pub("ec.on", "mine") + "PING\r\n"),
        expect("a", msg("ec.on", 1, "mine"), "PONG"),
    ]),
    Case("echo/off_skips_own_but_not_others", [
        ready("a", echo=False), ready("b"),
        send("a", "SUB ec.off 1\r\n" + pub("ec.off", "mine") + "PING\r\n"),
        expect("a", "PONG"),
        send("b", pub("ec.off", "theirs")),
        expect("a", msg("ec.off", 1, "theirs")),
    ]),
    Case("echo/off_other_subscribers_still_get_it", [
        ready("a", echo=False), ready("b"),
        send("b", "SUB ec.o2 1\r\nPING\r\n"), expect("b", "PONG"),
        send("a", "SUB ec.o2 1\r\n" + pub("ec.o2", "x") + "PING\r\n"),
        expect("a", "PONG"),
        expect("b", msg("ec.o2", 1, "x")),
    ]),
]
