"""Queue groups: each message goes to exactly one member of each group."""
from steps import Case, exactly_once, expect, msg, pub, ready, send

MEMBERS = ["q1", "q2", "q3"]


def members(subject, group, names=MEMBERS, sid=1):
    # Same sid on every member: the MSG text is then the same whoever gets it.
    return [[ready(n), send(n, f"SUB {subject} {group} {sid}\r\nPING\r\n"), expect(n, "PONG")]
            for n in names]


CASES = [
    Case("queue/each_message_to_exactly_one_member", [
        members("qu.a", "workers"), ready("pub"),
        send("pub", "".join(pub("qu.a", str(i)) for i in range(30))),
        exactly_once(MEMBERS, *[msg("qu.a", 1, str(i)) for i in range(30)]),
    ]),
    Case("queue/plain_subscriber_gets_every_message", [
        members("qu.b", "workers"), ready("plain"), ready("pub"),
        send("plain", "SUB qu.b 5\r\nPING\r\n"), expect("plain", "PONG"),
        send("pub", "".join(pub("qu.b", str(i)) for i in range(10))),
        exactly_once(MEMBERS, *[msg("qu.b", 1, str(i)) for i in range(10)]),
        expect("plain", *[msg("qu.b", 5, str(i)) for i in range(10)]),
    ]),
    Case("queue/two_groups_each_get_one_copy", [
        members("qu.c", "g1", ["a1", "a2"]), members("qu.c", "g2", ["b1", "b2"]), ready("pub"),
        send("pub", "".join(pub("qu.c", str(i)) for i in range(10))),
        exactly_once(["a1", "a2"], *[msg("qu.c", 1, str(i)) for i in range(10)]),
        exactly_once(["b1", "b2"], *[msg("qu.c", 1, str(i)) for i in range(10)]),
    ]),
    Case("queue/single_member_gets_all_in_order", [
        members("qu.d", "solo", ["only"]), ready("pub"),
        send("pub", "".join(pub("qu.d", str(i)) for i in range(20))),
        expect("only", *[msg("qu.d", 1, str(i)) for i in range(20)]),
    ]),
    Case("queue/member_that_left_gets_nothing", [
        members("qu.e", "workers"), ready("pub"),
        send("q3", "UNSUB 1\r\nPING\r\n"), expect("q3", "PONG"),
        send("pub", "".join(pub("qu.e", str(i)) for i in range(10))),
        exactly_once(["q1", "q2"], *[msg("qu.e", 1, str(i)) for i in range(10)]),
        send("pub", "PING\r\n"), expect("pub", "PONG"),
        send("q3", "PING\r\n"), expect("q3", "PONG"),
    ]),
    Case("queue/wildcard_queue_subscription", [
        members("qu.f.*", "workers"), ready("pub"),
        send("pub", "".join(pub(f"qu.f.{i}", "x") for i in range(10)) + pub("qu.f.a.b", "no")),
        exactly_once(MEMBERS, *[msg(f"qu.f.{i}", 1, "x") for i in range(10)]),
    ]),
    Case("queue/request_reply_through_group", [
        members("qu.svc", "svc", ["s1", "s2"]), ready("req"),
        send("req", "SUB qu.inbox 1\r\nPING\r\n"), expect("req", "PONG"),
        send("req", pub("qu.svc", "q", reply="qu.inbox")),
        exactly_once(["s1", "s2"], msg("qu.svc", 1, "q", reply="qu.inbox")),
    ]),
    Case("queue/member_with_max_messages", [
        members("qu.g", "workers", ["m1"]), ready("pub"),
        send("m1", "UNSUB 1 2\r\nSUB qu.g.end 2\r\nPING\r\n"), expect("m1", "PONG"),
        send("pub", "".join(pub("qu.g", str(i)) for i in range(4)) + pub("qu.g.end", "")),
        expect("m1", msg("qu.g", 1, "0"), msg("qu.g", 1, "1"), msg("qu.g.end", 2, "")),
    ]),
    Case("queue/verbose_queue_subscribe", [
        ready("a", verbose=True),
        send("a", "SUB qu.h grp 1\r\n" + pub("qu.h", "x") + "PING\r\n"),
        expect("a", "+OK", "+OK", msg("qu.h", 1, "x"), "PONG"),
    ]),
]
