"""PUB: delivery, payload framing, size field, pedantic and verbose."""
from steps import Case, expect, expect_close, msg, pub, ready, send

BINARY = "".join(chr(i) for i in range(256))
BIG = "".join(chr(33 + (i * 7) % 90) for i in range(1024 * 1024))  # exactly max_payload

CASES = [
    Case("pub/to_other_client_with_reply", [
        ready("sub"), ready("pub"),
        send("sub", "SUB pb.a 1\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", pub("pb.a", "hello", reply="pb.reply") + pub("pb.a", "again")),
        expect("sub", msg("pb.a", 1, "hello", reply="pb.reply"), msg("pb.a", 1, "again")),
    ]),
    Case("pub/zero_length_payload", [
        ready("a"),
        send("a", "SUB pb.z 1\r\nPUB pb.z 0\r\n\r\nPING\r\n"),
        expect("a", "MSG pb.z 1 0\r\n", "PONG"),
    ]),
    Case("pub/payload_contains_crlf_and_protocol", [
        ready("a"),
        send("a", "SUB pb.c 1\r\n" + pub("pb.c", "PING\r\nPUB x 1\r\n\r\n") + "PING\r\n"),
        expect("a", msg("pb.c", 1, "PING\r\nPUB x 1\r\n\r\n"), "PONG"),
    ]),
    Case("pub/binary_payload_all_bytes", [
        ready("a"),
        send("a", "SUB pb.bin 1\r\n" + pub("pb.bin", BINARY) + "PING\r\n"),
        expect("a", msg("pb.bin", 1, BINARY), "PONG"),
    ]),
    Case("pub/max_payload_sized_message", [
        ready("sub"), ready("pub"),
        send("sub", "SUB pb.big 1\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", pub("pb.big", BIG), chunk=65536),
        expect("sub", msg("pb.big", 1, BIG)),
    ]),
    Case("pub/no_subscribers_is_silent", [
        ready("a"),
        send("a", pub("pb.nobody", "x") + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("pub/order_kept_for_200_messages", [
        ready("sub"), ready("pub"),
        send("sub", "SUB pb.ord 1\r\nPING\r\n"),
        expect("sub", "PONG"),
        send("pub", "".join(pub("pb.ord", str(i)) for i in range(200))),
        expect("sub", *[msg("pb.ord", 1, str(i)) for i in range(200)]),
    ]),
    Case("pub/fan_out_to_three_clients", [
        ready("b"), ready("c"), ready("d"), ready("pub"),
        [send(n, "SUB pb.fan 7\r\nPING\r\n") for n in "bcd"],
        [expect(n, "PONG") for n in "bcd"],
        send("pub", pub("pb.fan", "all")),
        [expect(n, msg("pb.fan", 7, "all")) for n in "bcd"],
    ]),
    # The size token is copied into MSG as the client wrote it.
    Case("pub/size_with_leading_zeros", [
        ready("a"),
        send("a", "SUB pb.lz 1\r\nPUB pb.lz 00003\r\nabc\r\nPING\r\n"),
        expect("a", "MSG pb.lz 1 00003\r\nabc", "PONG"),
    ]),
    Case("pub/size_with_plus_sign_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x +3\r\nabc\r\n"),
        expect_close("a"),
    ]),
    Case("pub/missing_size_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x\r\n"),
        expect_close("a"),
    ]),
    Case("pub/negative_size_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x -5\r\n"),
        expect_close("a"),
    ]),
    Case("pub/non_numeric_size_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x abc\r\n"),
        expect_close("a"),
    ]),
    Case("pub/size_overflowing_int64_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x 99999999999999999999\r\n"),
        expect_close("a"),
    ]),
    Case("pub/too_many_arguments_closes_silently", [
        ready("a"),
        send("a", "PUB pb.x r extra 5\r\n"),
        expect_close("a"),
    ]),
    Case("pub/payload_longer_than_size", [
        ready("a"),
        send("a", "PUB pb.x 5\r\nhelloX\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    Case("pub/payload_shorter_than_size", [
        ready("a"),
        send("a", "PUB pb.x 5\r\nhell\r\nPING\r\n"),
        expect("a", "-ERR 'Unknown Protocol Operation'"),
        expect_close("a"),
    ]),
    # Without pedantic the subject is not checked at all.
    Case("pub/invalid_subject_accepted_without_pedantic", [
        ready("a"),
        send("a", "SUB pb.inv.> 1\r\n" + pub("pb.inv..x", "1") + pub("pb.inv.ok", "2") + "PING\r\n"),
        expect("a", msg("pb.inv.ok", 1, "2"), "PONG"),
    ]),
    Case("pub/wildcard_subject_without_pedantic_matches_wildcard_sub", [
        ready("a"),
        send("a", "SUB pb.wc.* 1\r\n" + pub("pb.wc.*", "star") + "PING\r\n"),
        expect("a", msg("pb.wc.*", 1, "star"), "PONG"),
    ]),
    # Pedantic reports the bad subject but still delivers the message.
    Case("pub/pedantic_invalid_subject_still_delivered", [
        ready("a", pedantic=True),
        send("a", "SUB pb.ped.> 1\r\n" + pub("pb.ped.*", "w") + "PING\r\n"),
        expect("a", "-ERR 'Invalid Publish Subject'", msg("pb.ped.*", 1, "w"), "PONG"),
    ]),
    Case("pub/pedantic_empty_token", [
        ready("a", pedantic=True),
        send("a", pub("pb.pe..x", "w") + pub("pb.pe.", "w") + "PING\r\n"),
        expect("a", "-ERR 'Invalid Publish Subject'", "-ERR 'Invalid Publish Subject'", "PONG"),
    ]),
    Case("pub/verbose_acknowledges_before_delivery", [
        ready("a", verbose=True),
        send("a", "SUB pb.v 1\r\n" + pub("pb.v", "x") + "PING\r\n"),
        expect("a", "+OK", "+OK", msg("pb.v", 1, "x"), "PONG"),
    ]),
]
