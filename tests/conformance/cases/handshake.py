"""INFO, CONNECT and its options, the first PING/PONG."""
from steps import Case, PORT, check_info, connect, expect, expect_close, msg, pub, ready, send

C = 'CONNECT {"verbose":false,"pedantic":false}\r\n'

CASES = [
    Case("handshake/info_fields", [
        connect("a"),
        check_info("a", types={
            "server_id": "str", "server_name": "str", "version": "str", "proto": "int",
            "go": "str", "host": "str", "port": "int", "headers": "bool",
            "max_payload": "int", "client_id": "int", "client_ip": "str",
        }, values={
            "proto": 1, "port": PORT, "host": "127.0.0.1", "headers": True,
            "max_payload": 1048576, "client_ip": "127.0.0.1",
        }, absent=("auth_required", "tls_required", "nonce", "connect_urls", "ldm"),
            # 2.9.10 writes `INFO {...} ` with a blank before the CRLF.
            raw=r"INFO \{.*\} "),
    ]),
    Case("handshake/ping_before_connect", [
        connect("a"),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ]),
    # Before CONNECT the defaults apply: verbose, so every op is acknowledged.
    Case("handshake/sub_pub_before_connect_are_verbose", [
        connect("a"),
        send("a", "SUB hs.early 1\r\n" + pub("hs.early", "x") + "PING\r\n"),
        expect("a", "+OK", "+OK", msg("hs.early", 1, "x"), "PONG"),
        send("a", C + "PING\r\n"),
        expect("a", "PONG"),
    ]),
    # Absent fields default to true: `CONNECT {}` is verbose and pedantic.
    Case("handshake/connect_empty_json_is_verbose_pedantic", [
        connect("a", {}),
        expect("a", "+OK"),
        send("a", "PUB hs.e.* 0\r\n\r\nPING\r\n"),
        expect("a", "-ERR 'Invalid Publish Subject'", "+OK", "PONG"),
    ]),
    Case("handshake/connect_pedantic_defaults_true", [
        connect("a", {"verbose": False}),
        send("a", "PUB hs.p.> 0\r\n\r\nPING\r\n"),
        expect("a", "-ERR 'Invalid Publish Subject'", "PONG"),
    ]),
    Case("handshake/connect_lowercase_and_tab", [
        connect("a"),
        send("a", 'connect\t{"verbose":true}\r\nping\r\n'),
        expect("a", "+OK", "PONG"),
    ]),
    Case("handshake/connect_bad_json_closes_silently", [
        connect("a", '{"verbose":false'),
        send("a", "PING\r\n"),
        expect_close("a"),
    ]),
    Case("handshake/connect_wrong_type_closes_silently", [
        connect("a", '{"verbose":"yes"}'),
        send("a", "PING\r\n"),
        expect_close("a"),
    ]),
    Case("handshake/connect_without_json_closes_silently", [
        connect("a"),
        send("a", "CONNECT\r\nPING\r\n"),
        expect_close("a"),
    ]),
    Case("handshake/connect_unknown_fields_ignored", [
        connect("a", '{"verbose":false,"pedantic":false,"foo":[1,{"x":null}],"bar":"baz"}'),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("handshake/connect_like_nats_c", [
        connect("a", {"verbose": False, "pedantic": False, "tls_required": False,
                      "name": "svc", "lang": "C", "version": "3.6.1", "protocol": 1,
                      "echo": True, "headers": True, "no_responders": True}),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("handshake/connect_protocol_2_rejected", [
        connect("a", {"verbose": False, "protocol": 2}),
        expect("a", "-ERR 'invalid client protocol'"),
        expect_close("a"),
    ]),
    Case("handshake/connect_protocol_negative_rejected", [
        connect("a", {"verbose": False, "protocol": -1}),
        expect("a", "-ERR 'invalid client protocol'"),
        expect_close("a"),
    ]),
    Case("handshake/connect_no_responders_needs_headers", [
        connect("a", {"verbose": False, "no_responders": True}),
        expect("a", "-ERR 'no responders requires headers support'"),
        expect_close("a"),
    ]),
    # The legacy account fields are an auth error even without auth configured.
    Case("handshake/connect_account_field_rejected", [
        connect("a", {"verbose": False, "account": "x"}),
        expect("a", "-ERR 'Authorization Violation'"),
        expect_close("a"),
    ]),
    # A second CONNECT only overrides the fields it carries.
    Case("handshake/second_connect_keeps_other_fields", [
        connect("a", {"verbose": False}),
        send("a", "CONNECT {}\r\nPING\r\n"),
        expect("a", "PONG"),
        send("a", 'CONNECT {"verbose":true}\r\nPING\r\n'),
        expect("a", "+OK", "PONG"),
    ]),
    # 2.9.10 sends no INFO after the first PONG to a protocol-1 client on a lone server.
    Case("handshake/no_async_info_after_first_pong", [
        connect("a", {"verbose": False, "pedantic": False, "protocol": 1, "headers": True}),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
        send("a", "PING\r\n"),
        expect("a", "PONG"),
    ]),
    Case("handshake/connect_sent_byte_by_byte", [
        connect("a"),
        send("a", 'CONNECT {"verbose":true,"pedantic":false}\r\nPING\r\n', chunk=1),
        expect("a", "+OK", "PONG"),
    ]),
    Case("handshake/many_clients", [
        [ready(f"c{i}") for i in range(20)],
        [send(f"c{i}", "PING\r\n") for i in range(20)],
        [expect(f"c{i}", "PONG") for i in range(20)],
    ]),
]
