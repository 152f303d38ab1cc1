#!/usr/bin/env python3
"""The route protocol on the wire, natrix against nats-server 2.9.10 (differential), TAP output.

A fake route peer (raw sockets) connects to a server's cluster port and a raw client to its client
port; every case runs once against nats-server and once against natrix (1 and 2 shards) and the
lines each side receives must be equal: refusals (-ERR texts), RS+/RS- for client interest, RMSG/HMSG
for client messages, MSG/HMSG for routed ones, queue groups named in RMSG, duplicates.

usage: route_protocol_test.py NATRIX_BIN [NATS_SERVER_BIN]
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

FAKE_ID = "NFAKEPEER" + "A" * 47


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class server:
    """One server with a client port and a link port (cport): a cluster block, or what `body`
    writes (gateway_protocol_test.py)."""
    def __init__(self, kind, binary, shards=1, extra="", body=None):
        self.dir = tempfile.mkdtemp(prefix="natrix-rt-")
        self.port, self.cport = free_port(), free_port()
        conf = os.path.join(self.dir, "s.conf")
        with open(conf, "w") as f:
            f.write("server_name: s1\nlisten: 127.0.0.1:%d\n" % self.port)
            f.write(body(self) if body else
                    "cluster { name: c1, listen: 127.0.0.1:%d %s }\n" % (self.cport, extra))
        args = [binary, "-c", conf]
        if kind == "natrix":
            args += ["--shards", str(shards)]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.cport), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("%s did not start" % kind)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


class conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=3)
        self.buf = b""

    def send(self, b):
        self.s.sendall(b)

    def line(self, timeout=3):
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return None
            if not d:
                return None
            self.buf += d
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i], self.buf[i + 2:]
        return l.decode()

    def payload(self, n):
        while len(self.buf) < n + 2:
            self.s.settimeout(3)
            d = self.s.recv(65536)
            if not d:
                break
            self.buf += d
        p, self.buf = self.buf[:n], self.buf[n + 2:]
        return p.decode()

    def until(self, pred, timeout=3):
        """Lines until one satisfies pred (PINGs answered, other lines skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            l = self.line(max(0.01, deadline - time.monotonic()))
            if l is None:
                return None
            if l == "PING":
                self.send(b"PONG\r\n")
                continue
            if pred(l):
                return l

    def closed(self, timeout=3):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                return False
            except OSError:
                return True
            if not d:
                return True
            self.buf += d
        return False


def client(srv, headers=True):
    c = conn(srv.port)
    c.line()  # INFO
    c.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":%s,"protocol":1}\r\nPING\r\n'
           % (b"true" if headers else b"false"))
    assert c.until(lambda l: l == "PONG") == "PONG"
    return c


def peer(srv, server_id=FAKE_ID, cluster="c1", extra_info=None):
    p = conn(srv.cport)
    info = p.line()
    assert info and info.startswith("INFO "), info
    p.info = json.loads(info[5:])
    connect = {"echo": True, "verbose": False, "pedantic": False, "tls_required": False,
               "headers": True, "name": server_id, "cluster": cluster}
    i = {"server_id": server_id, "server_name": "fake", "version": "2.9.10", "proto": 2,
         "host": "127.0.0.1", "port": 1, "headers": True, "cluster": cluster}
    i.update(extra_info or {})
    p.send(("CONNECT %s\r\nINFO %s\r\n" % (json.dumps(connect), json.dumps(i))).encode())
    return p


def established(p):
    """The route is registered and its initial dump sent: a PING through it is answered."""
    p.send(b"PING\r\n")
    assert p.until(lambda l: l == "PONG") == "PONG"
    return p


def wait_rs(p, want, timeout=3):
    return p.until(lambda l: l == want, timeout)


# ---- cases: each returns what it saw, as a list of strings ----

def case_client_on_route_port(srv):
    p = conn(srv.cport)
    p.line()
    p.send(b'CONNECT {"verbose":false,"lang":"go","version":"1.22.1"}\r\nPING\r\n')
    return [p.until(lambda l: l.startswith("-ERR")), "closed=%s" % p.closed()]


def case_cluster_name_mismatch(srv):
    p = peer(srv, cluster="other")
    return [p.until(lambda l: l.startswith("-ERR")), "closed=%s" % p.closed()]


def case_info_shape(srv):
    p = peer(srv)
    i = p.info
    return ["proto=%s" % i.get("proto"), "cluster=%s" % i.get("cluster"),
            "headers=%s" % i.get("headers"), "port_is_cluster=%s" % (i.get("port") == srv.cport),
            "no_pool=%s" % ("route_pool_size" not in i), "dynamic=%s" % i.get("cluster_dynamic")]


def case_client_interest_reaches_the_route(srv):
    p = established(peer(srv))
    c = client(srv)
    c.send(b"SUB foo 1\r\nSUB foo 2\r\nSUB bar.* grp 3\r\nSUB bar.* grp 4\r\nPING\r\n")
    c.until(lambda l: l == "PONG")
    got = [wait_rs(p, "RS+ $G foo"), wait_rs(p, "RS+ $G bar.* grp 1"), wait_rs(p, "RS+ $G bar.* grp 2")]
    c.send(b"UNSUB 1\r\nUNSUB 3\r\nPING\r\n")
    got.append(wait_rs(p, "RS+ $G bar.* grp 1"))
    c.send(b"UNSUB 2\r\nUNSUB 4\r\nPING\r\n")
    got += [wait_rs(p, "RS- $G foo"), wait_rs(p, "RS- $G bar.* grp")]
    return got


def case_client_messages_become_rmsg(srv):
    p = peer(srv)
    p.send(b"RS+ $G baz\r\nRS+ $G q grp 1\r\nPING\r\n")
    p.until(lambda l: l == "PONG")
    c = client(srv)
    time.sleep(0.2)  # the route's interest reaches every shard
    c.send(b"PUB baz 2\r\nhi\r\nPUB baz rep 3\r\nabc\r\nHPUB baz 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
           b"PUB q r 1\r\nx\r\nPUB q 1\r\ny\r\nPING\r\n")
    got = []
    for _ in range(5):
        l = p.until(lambda l: l.startswith("RMSG") or l.startswith("HMSG"))
        if l is None:
            got.append(None)
            break
        n = int(l.split()[-1])
        got.append(l + " / " + p.payload(n))
    return got


def case_rmsg_reaches_clients(srv):
    p = established(peer(srv))
    c = client(srv)
    c.send(b"SUB foo 1\r\nSUB q grp 2\r\nSUB q other 3\r\nPING\r\n")
    c.until(lambda l: l == "PONG")
    wait_rs(p, "RS+ $G q other 1")
    p.send(b"RMSG $G foo 5\r\nhello\r\nRMSG $G foo r.1 2\r\nok\r\n"
           b"HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
           b"RMSG $G q | grp 1\r\na\r\nRMSG $G q + r.2 grp other 1\r\nb\r\nRMSG $G q 1\r\nc\r\n"
           b"rmsg $G foo 1\r\nd\r\nPING\r\n")
    p.until(lambda l: l == "PONG")
    # Deliveries from the route's shard reach the client's shard through the
    # rings, so the client's own PONG may overtake them: read until quiet.
    got = []
    while True:
        l = c.line(0.5)
        if l is None:
            break
        if l.startswith("INFO ") or l == "PONG":  # async INFO (connect_urls) may come any time
            continue
        n = int(l.split()[-1])
        got.append(l + " / " + c.payload(n))
    return got


def case_duplicate_route_is_closed(srv):
    p1 = peer(srv)
    p1.send(b"PING\r\n")
    p1.until(lambda l: l == "PONG")
    p2 = peer(srv)
    closed2 = p2.closed(3)
    p1.send(b"PING\r\n")
    alive1 = p1.until(lambda l: l == "PONG") == "PONG"
    return ["second closed=%s" % closed2, "first alive=%s" % alive1]


def case_route_interest_goes_when_it_closes(srv):
    p = peer(srv)
    p.send(b"RS+ $G gone\r\nPING\r\n")
    p.until(lambda l: l == "PONG")
    c = client(srv)
    c.send(b'CONNECT {"verbose":false,"headers":true,"no_responders":true,"protocol":1}\r\n'
           b"SUB _INBOX.x 9\r\nPUB gone _INBOX.x 1\r\na\r\nPING\r\n")
    first = c.until(lambda l: l.startswith("HMSG") or l == "PONG")
    p.s.close()
    time.sleep(0.5)
    c.send(b"PUB gone _INBOX.x 1\r\nb\r\nPING\r\n")
    second = c.until(lambda l: l.startswith("HMSG") or l == "PONG")
    return ["while up: " + str(first), "after close: " + str(second)]


def case_unknown_account_is_ignored(srv):
    p = peer(srv)
    p.send(b"RS+ $SYS $SYS.SERVER.*.STATSZ\r\nRMSG $SYS x 1\r\na\r\nPING\r\n")
    return [p.until(lambda l: l in ("PONG",) or l.startswith("-ERR"))]


CASES = [
    ("client on the route port is refused", case_client_on_route_port, ""),
    ("cluster name mismatch is refused", case_cluster_name_mismatch, ""),
    ("route INFO shape", case_info_shape, ""),
    ("client interest reaches the route as RS+/RS-", case_client_interest_reaches_the_route, ""),
    ("client messages become RMSG/HMSG with queues", case_client_messages_become_rmsg, ""),
    ("RMSG/HMSG reach clients; queues only when named", case_rmsg_reaches_clients, ""),
    ("a duplicate route is closed, the first stays", case_duplicate_route_is_closed, ""),
    ("a route's interest goes when it closes", case_route_interest_goes_when_it_closes, ""),
    ("interest in an unknown account is ignored", case_unknown_account_is_ignored, ""),
]


def run(kind, binary, shards, fn, extra):
    srv = server(kind, binary, shards, extra)
    try:
        return fn(srv)
    except Exception as e:  # a broken case shows as a difference, not a crash of the suite
        return ["exception: %r" % e]
    finally:
        srv.stop()


def differential(cases, run, nats):
    """TAP for each case against nats-server (1 shard) and natrix (1 and 2 shards): equal results
    pass. run(case, kind, shards) returns what the case saw, as a list."""
    if not os.path.exists(nats):
        print("1..0 # SKIP nats-server not installed (tools/dev setup installs it)")
        return 0
    print("1..%d" % (2 * len(cases)), flush=True)
    failed = 0
    n = 0
    for case in cases:
        want = run(case, "nats", 1)
        for shards in (1, 2):
            n += 1
            got = run(case, "natrix", shards)
            ok = got == want and None not in want and "timeout" not in want
            if not ok:
                failed += 1
            print("%s %d - %s (%d shard%s)" % ("ok" if ok else "not ok", n, case[0], shards,
                                                "" if shards == 1 else "s"), flush=True)
            if not ok:
                print("#   nats-server: %s" % want)
                print("#   natrix:      %s" % got, flush=True)
    return 1 if failed else 0


def main():
    natrix = sys.argv[1]
    nats = sys.argv[2] if len(sys.argv) > 2 else "/usr/sbin/nats-server"
    binaries = {"nats": nats, "natrix": natrix}
    return differential(CASES, lambda case, kind, shards: run(kind, binaries[kind], shards,
                                                              case[1], case[2]), nats)


if __name__ == "__main__":
    sys.exit(main())
