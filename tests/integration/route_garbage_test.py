#!/usr/bin/env python3
"""Bad input on the route port never crashes natrix or costs a client its messages, TAP output.

One natrix node (2 shards) with a cluster port and no route authorization, so anyone can speak the route
protocol to it. Each case opens a route (handshake as a peer) or a raw connection and sends malformed
or hostile input; afterwards the node must still be up and a client's pub/sub must still work, and a
well-formed route must still get interest and messages. Then 300 rounds of random mutations of valid
route traffic. Runs with ASan/UBSan in CI (tools/dev test), which turns memory errors into failures.

With --gateway the same runs on a gateway port (a cluster G with no gateway authorization): the peer
handshakes as an inbound gateway of cluster F, and gateway-only cases are added (commands without an
account, gossip with garbage URLs, _GR_. subjects of every length).

usage: route_garbage_test.py NATRIX_BIN [--gateway]
"""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

PEER = "NGARBAGE" + "A" * 48
GATEWAY = "--gateway" in sys.argv


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def handshake(cport, server_id=PEER):
    s = socket.create_connection(("127.0.0.1", cport), timeout=3)
    s.recv(65536)
    if GATEWAY:
        s.sendall(("CONNECT %s\r\nINFO %s\r\n" % (
            json.dumps({"name": server_id, "gateway": "F", "headers": True}),
            json.dumps({"server_id": server_id, "server_name": "g", "gateway": "F", "port": 1,
                        "headers": True, "gateway_iom": True, "gateway_nrp": True}))).encode())
        return s
    s.sendall(("CONNECT %s\r\nINFO %s\r\n" % (
        json.dumps({"name": server_id, "cluster": "c", "headers": True}),
        json.dumps({"server_id": server_id, "server_name": "g", "cluster": "c", "port": 1,
                    "headers": True}))).encode())
    return s


def send_quietly(s, data):
    try:
        s.sendall(data)
        time.sleep(0.02)
    except OSError:
        pass


def client_roundtrip(port):
    c = socket.create_connection(("127.0.0.1", port), timeout=3)
    c.recv(4096)
    c.sendall(b'CONNECT {"verbose":false}\r\nSUB ok.x 1\r\nPUB ok.x 2\r\nhi\r\nPING\r\n')
    buf = b""
    deadline = time.monotonic() + 3
    while b"PONG" not in buf and time.monotonic() < deadline:
        x = c.recv(4096)
        if not x:
            break
        buf += x
    c.close()
    return b"MSG ok.x 1 2\r\nhi\r\n" in buf and b"PONG" in buf


CASES = [
    ("garbage before CONNECT", None, b"\x00\xff\xfe garbage\r\n" * 50),
    ("INFO before CONNECT", None, b'INFO {"server_id":"X"}\r\n'),
    ("CONNECT with broken JSON", None, b"CONNECT {\"name\":\r\n"),
    ("a line of 4 MB without CRLF", None, b"C" * (4 << 20)),
    ("RMSG with a negative size", "route", b"RMSG $G foo -5\r\nxxxxx\r\n"),
    ("RMSG with a huge size", "route", b"RMSG $G foo 99999999999\r\nxx\r\n"),
    ("RMSG with a size past the data, then EOF", "route", b"RMSG $G foo 1000000\r\nshort"),
    ("RMSG with too few fields", "route", b"RMSG\r\nRMSG $G\r\nRMSG $G foo\r\n"),
    ("RMSG with an odd marker", "route", b"RMSG $G foo ? a b 2\r\nhi\r\n"),
    ("HMSG with header size past the total", "route", b"HMSG $G foo 10 5\r\nhello\r\n"),
    ("HMSG with a non-numeric header size", "route", b"HMSG $G foo x 5\r\nhello\r\n"),
    ("RS+ malformed", "route", b"RS+\r\nRS+ $G\r\nRS+ $G foo q\r\nRS+ $G foo q x\r\nRS+ $G foo q 0\r\n"
                               b"RS+ $G foo q -1\r\nRS+ $G foo.. q 1\r\nRS+ $G foo.>.bar\r\n"),
    ("RS- for what was never added", "route", b"RS- $G nothing\r\nRS- $G nothing q\r\nRS- nope x\r\n"),
    ("RS+ with a 64 KiB subject", "route", b"RS+ $G " + b"a." * 32768 + b"b\r\n"),
    ("interest in an unknown account, then messages", "route",
     b"RS+ NOPE foo\r\nRMSG NOPE foo 1\r\nx\r\n"),
    ("an unknown op", "route", b"WHAT is this\r\n"),
    ("INFO with bad JSON on an open route", "route", b"INFO {nope\r\nINFO []\r\n"),
    ("INFO gossiping ourselves and garbage URLs", "route",
     b'INFO {"server_id":"NOTHER","ip":"nats-route://no-such-host.invalid:1/"}\r\n'
     b'INFO {"server_id":"NOTHER2","ip":"garbage"}\r\n'),
    ("-ERR from the peer", "route", b"-ERR 'something'\r\n"),
    ("a flood of PINGs", "route", b"PING\r\n" * 20000),
]
if GATEWAY:
    CASES += [
        ("gateway commands without an account or with bad base64", "route",
         b'INFO {"gateway":"F","gateway_cmd":2}\r\n'
         b'INFO {"gateway":"F","gateway_cmd":3,"gateway_cmd_payload":"!!"}\r\n'),
        ("gossip of a cluster with garbage URLs", "route",
         b'INFO {"gateway":"Z","gateway_urls":["::::","h:99999","",":1"],"gateway_cmd":1}\r\n'),
        ("gossip naming our own cluster", "route",
         b'INFO {"gateway":"G","gateway_urls":["127.0.0.1:1"],"gateway_cmd":1}\r\n'),
        ("_GR_. subjects of every length", "route",
         b"".join(b"RMSG $G %s 1\r\nx\r\n" % ("_GR_." + "a" * n).encode() for n in range(0, 25))
         + b"RMSG $G _GR_.aaaaaa.bbbbbb.r 1\r\nx\r\nRMSG $G x _GR_. 1\r\ny\r\n"),
        ("a CONNECT from a route or client", None,
         b'CONNECT {"name":"x","cluster":"c"}\r\nCONNECT {"lang":"go"}\r\n'),
    ]


def mutate(rng, data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 3)
        i = rng.randrange(len(b)) if b else 0
        if op == 0 and b:
            b[i] = rng.randrange(256)
        elif op == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and b:
            del b[i:i + rng.randint(1, 8)]
        else:
            b[i:i] = rng.choice([b"\r\n", b" ", b"|", b"+", b"999999", b"-1", b"$G"])
    return bytes(b)


VALID = (b"RS+ $G a.b\r\nRS+ $G a.* q 3\r\nRMSG $G a.b 5\r\nhello\r\nRMSG $G a.b + r q 1\r\nx\r\n"
         b"HMSG $G a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\nRMSG $G a.b | q 0\r\n\r\nRS- $G a.b\r\nPING\r\n")
if GATEWAY:  # an inbound gateway sends no interest (RS+ closes it): messages and commands
    VALID = (b"RMSG $G a.b 5\r\nhello\r\nRMSG $G a.b + _GR_.aaaaaa.bbbbbb.r q 1\r\nx\r\n"
             b"HMSG $G a.b 12 14\r\nNATS/1.0\r\n\r\nhi\r\nRMSG $G a.b | q 0\r\n\r\n"
             b'INFO {"gateway":"F","gateway_cmd":2,"gateway_cmd_payload":"JEc="}\r\nPING\r\n')


def main():
    natrix = sys.argv[1]
    print("1..%d" % (len(CASES) + 2), flush=True)
    d = tempfile.mkdtemp(prefix="routegarbage-")
    port, cport = free_port(), free_port()
    conf = os.path.join(d, "n.conf")
    with open(conf, "w") as f:
        if GATEWAY:
            f.write("listen: 127.0.0.1:%d\ngateway { name: G, listen: 127.0.0.1:%d }\n" % (port, cport))
        else:
            f.write("listen: 127.0.0.1:%d\ncluster { name: c, listen: 127.0.0.1:%d }\n" % (port, cport))
    log = open(os.path.join(d, "log"), "w+")
    proc = subprocess.Popen([natrix, "-c", conf, "--shards", "2"], stdout=log, stderr=subprocess.STDOUT)
    failed = 0
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        for n, (name, kind, data) in enumerate(CASES, 1):
            s = handshake(cport) if kind == "route" else socket.create_connection(("127.0.0.1", cport))
            if kind == "route":
                time.sleep(0.05)
            send_quietly(s, data)
            s.close()
            time.sleep(0.05)
            ok = proc.poll() is None and client_roundtrip(port)
            failed += not ok
            print("%s %d - %s: still up, clients still served" % ("ok" if ok else "not ok", n, name),
                  flush=True)
        rng = random.Random(20261208)
        for i in range(300):
            s = handshake(cport, "NMUT%052d" % i)
            send_quietly(s, mutate(rng, VALID))
            s.close()
            if proc.poll() is not None:
                break
        ok = proc.poll() is None and client_roundtrip(port)
        failed += not ok
        print("%s %d - 300 mutated link streams: still up, clients still served"
              % ("ok" if ok else "not ok", len(CASES) + 1), flush=True)
        # A well-formed route still works after all that.
        r = handshake(cport, "NGOOD" + "B" * 51)
        r.sendall(b"PING\r\n")
        buf = b""
        r.settimeout(3)
        while b"PONG" not in buf:
            buf += r.recv(65536)
        c = socket.create_connection(("127.0.0.1", port), timeout=3)
        c.recv(4096)
        c.sendall(b'CONNECT {"verbose":false}\r\nSUB good.x 1\r\nPING\r\n')
        cb = b""
        while b"PONG" not in cb:
            cb += c.recv(4096)
        got_rs = False
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not got_rs:
            try:
                buf += r.recv(65536)
            except socket.timeout:
                break
            got_rs = b"RS+ $G good.x" in buf
        r.sendall(b"RMSG $G good.x 2\r\nok\r\nPING\r\n")
        c.settimeout(3)
        try:
            while b"MSG good.x 1 2" not in cb:
                x = c.recv(4096)
                if not x:
                    break
                cb += x
        except socket.timeout:
            pass
        ok = got_rs and b"MSG good.x 1 2\r\nok" in cb
        failed += not ok
        print("%s %d - a well-formed link still gets interest and delivers" %
              ("ok" if ok else "not ok", len(CASES) + 2), flush=True)
    finally:
        alive = proc.poll() is None
        proc.kill()
        proc.wait()
        if failed or not alive:
            log.seek(0)
            print("# " + "# ".join(log.readlines()[-20:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
