"""Subject matching: `*` matches one token, `>` one or more at the end; literal tokens.

Messages that must not match are published before a sentinel that must: the publisher's
messages arrive in order, so a wrong delivery would show up before the sentinel.
"""
from steps import Case, expect, expect_unordered, msg, pub, ready, send


def matching(name, pattern, published, delivered):
    """`sub` subscribes to pattern; `pub` publishes each subject in order; exactly the
    `delivered` ones arrive (payload = subject), then a sentinel."""
    return Case(name, [
        ready("sub"), ready("pub"),
        send("sub", f"SUB {pattern} 1\r\nSUB sj.sentinel.{name.split('/')[1]} 2\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", "".join(pub(s, s) for s in published) +
             pub(f"sj.sentinel.{name.split('/')[1]}", "end")),
        expect("sub", *[msg(s, 1, s) for s in delivered],
               msg(f"sj.sentinel.{name.split('/')[1]}", 2, "end")),
    ])


CASES = [
    matching("wc/star_matches_exactly_one_token", "sj1.*",
             ["sj1", "sj1.a", "sj1.a.b", "sj1.bb", "sj1x.a"], ["sj1.a", "sj1.bb"]),
    matching("wc/star_in_the_middle", "sj2.*.end",
             ["sj2.a.end", "sj2.end", "sj2.a.b.end", "sj2.a.end.x", "sj2.b.end"],
             ["sj2.a.end", "sj2.b.end"]),
    matching("wc/star_first", "*.sj3",
             ["a.sj3", "sj3", "a.b.sj3", "b.sj3"], ["a.sj3", "b.sj3"]),
    matching("wc/two_stars", "sj4.*.*",
             ["sj4.a", "sj4.a.b", "sj4.a.b.c"], ["sj4.a.b"]),
    matching("wc/gt_matches_one_or_more_tokens", "sj5.>",
             ["sj5", "sj5.a", "sj5.a.b.c", "sj5x.a"], ["sj5.a", "sj5.a.b.c"]),
    matching("wc/star_then_gt", "sj6.*.>",
             ["sj6.a", "sj6.a.b", "sj6.a.b.c"], ["sj6.a.b", "sj6.a.b.c"]),
    matching("wc/subjects_are_case_sensitive", "sj7.abc",
             ["SJ7.abc", "sj7.ABC", "sj7.abc"], ["sj7.abc"]),
    matching("wc/unusual_token_characters", "sj8.*",
             ["sj8.$x", "sj8.a-b_c", "sj8.~!@#%^&()=+", "sj8.\xc3\xa9", "sj8.x.y"],
             ["sj8.$x", "sj8.a-b_c", "sj8.~!@#%^&()=+", "sj8.\xc3\xa9"]),
    Case("wc/gt_alone_matches_everything", [
        ready("sub"), ready("pub"),
        send("sub", "SUB > 1\r\nPING\r\n"), expect("sub", "PONG"),
        send("pub", pub("sja", "1") + pub("sja.b", "2") + pub("sja.b.c.d", "3")),
        expect("sub", msg("sja", 1, "1"), msg("sja.b", 1, "2"), msg("sja.b.c.d", 1, "3")),
    ]),
    Case("wc/star_alone_matches_single_tokens", [
        ready("sub"), ready("pub"),
        send("sub", "SUB * 1\r\nPING\r\n"), expect("sub", "PONG"),
        send("pub", pub("sjb.x", "no") + pub("sjb", "yes") + pub("sjb.x.y", "no") + pub("sjc", "end")),
        expect("sub", msg("sjb", 1, "yes"), msg("sjc", 1, "end")),
    ]),
    Case("wc/long_subject_100_tokens", [
        ready("a"),
        send("a", "SUB sjl." + ".".join(["*"] * 98) + ".> 1\r\n" +
             pub("sjl." + ".".join(f"t{i}" for i in range(99)), "deep") + "PING\r\n"),
        expect("a", msg("sjl." + ".".join(f"t{i}" for i in range(99)), 1, "deep"), "PONG"),
    ]),
    # One publish matching several subscriptions of one connection: one MSG per sid.
    Case("wc/overlapping_subscriptions_one_connection", [
        ready("a"),
        send("a", "SUB sjo.a.b 1\r\nSUB sjo.*.b 2\r\nSUB sjo.> 3\r\nSUB sjo.a.* 4\r\nSUB sjo.x 5\r\n" +
             pub("sjo.a.b", "x") + "PING\r\n"),
        expect_unordered("a", msg("sjo.a.b", 1, "x"), msg("sjo.a.b", 2, "x"),
                         msg("sjo.a.b", 3, "x"), msg("sjo.a.b", 4, "x")),
        expect("a", "PONG"),
    ]),
    Case("wc/overlapping_subscriptions_many_connections", [
        ready("b"), ready("c"), ready("d"), ready("pub"),
        send("b", "SUB sjm.a.b 1\r\nPING\r\n"), expect("b", "PONG"),
        send("c", "SUB sjm.* 1\r\nSUB sjm.> 2\r\nPING\r\n"), expect("c", "PONG"),
        send("d", "SUB *.a.* 1\r\nPING\r\n"), expect("d", "PONG"),
        send("pub", pub("sjm.a.b", "x")),
        expect("b", msg("sjm.a.b", 1, "x")),
        expect("c", msg("sjm.a.b", 2, "x")),
        expect("d", msg("sjm.a.b", 1, "x")),
    ]),
]
