"""SUB and UNSUB: arguments, sids, auto-unsubscribe with a maximum."""
from steps import Case, expect, expect_close, expect_unordered, msg, pub, ready, send

CASES = [
    Case("sub/missing_sid_closes_silently", [
        ready("a"),
        send("a", "SUB sb.x\r\n"),
        expect_close("a"),
    ]),
    Case("sub/too_many_arguments_closes_silently", [
        ready("a"),
        send("a", "SUB sb.x q 1 extra\r\n"),
        expect_close("a"),
    ]),
    # A bad subject is reported and the connection stays usable.
    Case("sub/invalid_subjects_rejected", [
        ready("a"),
        send("a", "SUB sb.bad. 1\r\nSUB .sb.bad 2\r\nSUB sb..bad 3\r\nSUB sb.>.bad 4\r\nPING\r\n"),
        expect("a", *["-ERR 'Invalid Subject'"] * 4, "PONG"),
    ]),
    Case("sub/invalid_subject_verbose_gets_no_ok", [
        ready("a", verbose=True),
        send("a", "SUB sb.v. 1\r\nPING\r\n"),
        expect("a", "-ERR 'Invalid Subject'", "PONG"),
    ]),
    # Wildcard characters inside a longer token are literal.
    Case("sub/wildcard_chars_inside_token_are_literal", [
        ready("a"),
        send("a", "SUB sb.l.a* 1\r\nSUB sb.l.>b 2\r\n" + pub("sb.l.ab", "no") +
             pub("sb.l.a*", "yes") + pub("sb.l.>b", "yes2") + "PING\r\n"),
        expect("a", msg("sb.l.a*", 1, "yes"), msg("sb.l.>b", 2, "yes2"), "PONG"),
    ]),
    Case("sub/sid_can_be_any_token", [
        ready("a"),
        send("a", "SUB sb.sid abc-DEF_123\r\n" + pub("sb.sid", "x") + "PING\r\n"),
        expect("a", msg("sb.sid", "abc-DEF_123", "x"), "PONG"),
    ]),
    # A SUB reusing a live sid is ignored, even for another subject.
    Case("sub/duplicate_sid_ignored", [
        ready("a"),
        send("a", "SUB sb.d1 1\r\nSUB sb.d1 1\r\nSUB sb.d2 1\r\n" +
             pub("sb.d1", "one") + pub("sb.d2", "two") + "PING\r\n"),
        expect("a", msg("sb.d1", 1, "one"), "PONG"),
    ]),
    Case("sub/duplicate_sid_verbose_still_acknowledged", [
        ready("a", verbose=True),
        send("a", "SUB sb.dv 1\r\nSUB sb.dv2 1\r\nPING\r\n"),
        expect("a", "+OK", "+OK", "PONG"),
    ]),
    Case("sub/two_sids_same_subject_both_delivered", [
        ready("a"),
        send("a", "SUB sb.two 1\r\nSUB sb.two 2\r\n" + pub("sb.two", "x") + "PING\r\n"),
        expect_unordered("a", msg("sb.two", 1, "x"), msg("sb.two", 2, "x")),
        expect("a", "PONG"),
    ]),
    Case("sub/no_delivery_of_earlier_publish", [
        ready("a"),
        send("a", pub("sb.late", "before") + "SUB sb.late 1\r\n" + pub("sb.late", "after") + "PING\r\n"),
        expect("a", msg("sb.late", 1, "after"), "PONG"),
    ]),
    Case("unsub/stops_delivery", [
        ready("a"),
        send("a", "SUB us.a 1\r\n" + pub("us.a", "1") + "UNSUB 1\r\n" + pub("us.a", "2") + "PING\r\n"),
        expect("a", msg("us.a", 1, "1"), "PONG"),
    ]),
    Case("unsub/unknown_sid_is_silent", [
        ready("a"),
        send("a", "UNSUB 99\r\nUNSUB abc\r\nPING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("unsub/unknown_sid_verbose_acknowledged", [
        ready("a", verbose=True),
        send("a", "UNSUB 99\r\nPING\r\n"),
        expect("a", "+OK", "PONG"),
    ]),
    Case("unsub/without_arguments_is_unknown_op", [
        ready("a"),
        send("a", "UNSUB\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("unsub/blank_arguments_close_silently", [
        ready("a"),
        send("a", "UNSUB \r\n"),
        expect_close("a"),
    ]),
    Case("unsub/too_many_arguments_close_silently", [
        ready("a"),
        send("a", "UNSUB 1 2 3\r\n"),
        expect_close("a"),
    ]),
    Case("unsub/max_messages", [
        ready("a"),
        send("a", "SUB us.m 1\r\nUNSUB 1 2\r\n" + "".join(pub("us.m", c) for c in "abc") + "PING\r\n"),
        expect("a", msg("us.m", 1, "a"), msg("us.m", 1, "b"), "PONG"),
    ]),
    # The maximum counts messages already delivered: if reached, the sub goes at once.
    Case("unsub/max_already_reached_removes_now", [
        ready("a"),
        send("a", "SUB us.r 1\r\n" + pub("us.r", "a") + pub("us.r", "b") + "PING\r\n"),
        expect("a", msg("us.r", 1, "a"), msg("us.r", 1, "b"), "PONG"),
        send("a", "UNSUB 1 2\r\n" + pub("us.r", "c") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("unsub/max_counts_earlier_deliveries", [
        ready("a"),
        send("a", "SUB us.p 1\r\n" + pub("us.p", "a") + pub("us.p", "b") + "UNSUB 1 3\r\n" +
             pub("us.p", "c") + pub("us.p", "d") + "PING\r\n"),
        expect("a", msg("us.p", 1, "a"), msg("us.p", 1, "b"), msg("us.p", 1, "c"), "PONG"),
    ]),
    Case("unsub/max_zero_removes_now", [
        ready("a"),
        send("a", "SUB us.z 1\r\nUNSUB 1 0\r\n" + pub("us.z", "a") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("unsub/max_non_numeric_removes_now", [
        ready("a"),
        send("a", "SUB us.n 1\r\nUNSUB 1 x\r\n" + pub("us.n", "a") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("unsub/sid_reusable_after_unsub", [
        ready("a"),
        send("a", "SUB us.s1 1\r\nUNSUB 1\r\nSUB us.s2 1\r\n" + pub("us.s1", "a") +
             pub("us.s2", "b") + "PING\r\n"),
        expect("a", msg("us.s2", 1, "b"), "PONG"),
    ]),
    Case("unsub/sid_reusable_after_max_reached", [
        ready("a"),
        send("a", "SUB us.x 1\r\nUNSUB 1 1\r\n" + pub("us.x", "a") + "SUB us.x 1\r\n" +
             pub("us.x", "b") + pub("us.x", "c") + "PING\r\n"),
        expect("a", msg("us.x", 1, "a"), msg("us.x", 1, "b"), msg("us.x", 1, "c"), "PONG"),
    ]),
    # Cross-client "nothing more" checks use a sentinel from the same publisher: its
    # messages arrive in publish order, so anything wrongly delivered would come first.
    Case("unsub/max_from_another_publisher", [
        ready("sub"), ready("pub"),
        send("sub", "SUB us.o 5\r\nUNSUB 5 3\r\nSUB us.o.end 6\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", "".join(pub("us.o", str(i)) for i in range(6)) + pub("us.o.end", "")),
        expect("sub", *[msg("us.o", 5, str(i)) for i in range(3)], msg("us.o.end", 6, "")),
    ]),
]
