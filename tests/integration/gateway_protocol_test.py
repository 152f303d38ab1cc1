#!/usr/bin/env python3
"""The gateway protocol on the wire, natrix against nats-server 2.9.10 (differential), TAP output.

A fake gateway of cluster F (raw sockets) meets a server of cluster G: as the dialler on the server's
gateway port (the server's inbound side), and as the listener the server dials (its outbound side).
A raw client on the server's client port makes interest and messages. Every case runs once against
nats-server and once against natrix (1 and 2 shards), and what each side saw must be equal: INFO
fields, refusals (-ERR texts), the interest-only sequence (INFO cmd 2 with a base64 account, RS+,
INFO cmd 3), RS+/RS- with queue weight 1, RMSG both ways, and the _GR_. reply prefix with the
hashes computed here from SHA-256, as nats-server does.

nats-server also has a $SYS account and sends its events over gateways; lines about $SYS are left
out of the comparison (natrix has no system account yet).

usage: gateway_protocol_test.py NATRIX_BIN [NATS_SERVER_BIN]
"""
import base64
import hashlib
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import route_protocol_test  # noqa: E402
from route_protocol_test import conn  # noqa: E402

FAKE_ID = "NFAKEGATEWAY" + "A" * 44
DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def gw_hash(name):
    return "".join(DIGITS[b % 62] for b in hashlib.sha256(name.encode()).digest()[:6])


class server(route_protocol_test.server):
    """A server of cluster G with a gateway port (gport) and no cluster."""
    def __init__(self, kind, binary, shards=1, extra="", remotes=""):
        super().__init__(kind, binary, shards, body=lambda s: (
            "gateway {\n name: G\n listen: 127.0.0.1:%d\n %s\n %s\n}\n" % (s.cport, extra, remotes)))
        self.gport = self.cport


def client(srv):
    c = conn(srv.port)
    info = json.loads(c.line()[5:])
    c.server_id = info["server_id"]
    c.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\nPING\r\n')
    assert c.until(lambda l: l == "PONG") == "PONG"
    return c


def sync(c):
    c.send(b"PING\r\n")
    assert c.until(lambda l: l == "PONG") == "PONG"


def fake_info(urls=None, gateway="F"):
    return {"server_id": FAKE_ID, "server_name": "fake", "version": "2.9.10", "proto": 1,
            "host": "127.0.0.1", "port": 1, "headers": True, "max_payload": 1048576,
            "gateway": gateway, "gateway_urls": urls or [], "gateway_nrp": True, "gateway_iom": True}


def describe(line):
    """A gateway line as compared: INFO commands by what they mean, $SYS left out (None)."""
    if line.startswith("INFO "):
        i = json.loads(line[5:])
        cmd = i.get("gateway_cmd", 0)
        if cmd in (2, 3):
            acc = base64.b64decode(i.get("gateway_cmd_payload", "")).decode()
            return None if acc == "$SYS" else "cmd%d %s (from %s)" % (cmd, acc, i.get("gateway"))
        return "INFO cmd %d" % cmd
    parts = line.split()
    if len(parts) > 1 and parts[1] == "$SYS":
        return None
    return line


def dialler(srv, connect=None):
    """The fake as an inbound gateway of the server: it reads INFO, sends CONNECT and INFO."""
    p = conn(srv.gport)
    info = p.line()
    assert info and info.startswith("INFO "), info
    p.info = json.loads(info[5:])
    c = {"echo": False, "verbose": False, "pedantic": False, "tls_required": False,
         "headers": False, "name": FAKE_ID, "cluster": "", "gateway": "F"}
    if connect is not None:
        c = connect
    p.send(("CONNECT %s\r\nINFO %s\r\n" % (json.dumps(c), json.dumps(fake_info()))).encode())
    return p


def until_cmd3(p):
    """The interest-only dump for $G: cmd 2, RS+ (as a sorted set: nats-server sends queue interest
    before cmd 2, natrix between; a 2.9 outbound takes both), cmd 3."""
    seen = []
    while True:
        l = p.until(lambda l: describe(l) is not None, 3)
        if l is None:
            return seen + ["timeout"]
        d = describe(l)
        if d.startswith("cmd3 $G"):
            return ["cmd2 $G (from G)" if "cmd2 $G (from G)" in seen else "no cmd2"] + \
                sorted(x for x in seen if not x.startswith("cmd")) + [d]
        seen.append(d)


# ---- cases: each returns what it saw, as a list of strings ----

def case_info_shape(srv):
    p = conn(srv.gport)
    i = json.loads(p.line()[5:])
    own = "127.0.0.1:%d" % srv.gport
    return ["gateway=%s" % i.get("gateway"), "nrp=%s" % i.get("gateway_nrp"),
            "iom=%s" % i.get("gateway_iom"), "headers=%s" % i.get("headers"),
            "auth=%s" % i.get("auth_required", False),
            "url_is_own=%s" % (i.get("gateway_url") == own),
            "urls_have_own=%s" % (own in i.get("gateway_urls", [])),
            "max_payload=%s" % i.get("max_payload")]


def case_connect_without_gateway(srv):
    p = dialler(srv, {"echo": False, "verbose": False, "pedantic": False, "name": FAKE_ID})
    return [p.until(lambda l: l.startswith("-ERR"), 3), "closed=%s" % p.closed()]


def case_ping_before_connect(srv):
    p = conn(srv.gport)
    p.line()
    p.send(b"PING\r\n")
    return [p.until(lambda l: l.startswith("-ERR"), 3), "closed=%s" % p.closed()]


def case_interest_only_sequence(srv):
    c = client(srv)
    c.send(b"SUB pre.plain 1\r\nSUB pre.queue grp 2\r\n")
    sync(c)
    p = dialler(srv)
    out = until_cmd3(p)
    c.send(b"SUB foo 3\r\nSUB foo 4\r\nSUB bar q 5\r\nSUB bar q 6\r\n")
    sync(c)
    c.send(b"UNSUB 3\r\n")  # foo still has a subscriber: nothing
    sync(c)
    c.send(b"UNSUB 4\r\nUNSUB 5\r\nUNSUB 6\r\n")
    sync(c)
    for _ in range(4):
        out.append(describe(p.until(lambda l: describe(l) is not None and
                                    l.startswith("RS"), 3) or "timeout"))
    return out


def case_rmsg_reaches_clients(srv):
    c = client(srv)
    c.send(b"SUB foo 1\r\nSUB work q 2\r\n")
    sync(c)
    p = dialler(srv)
    until_cmd3(p)
    p.send(b"RMSG $G foo 5\r\nhello\r\nRMSG $G foo reply.x 2\r\nhi\r\n"
           b"HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nab\r\nRMSG $G work | q 1\r\nw\r\n")
    out = []
    for _ in range(4):
        out.append(c.until(lambda l: l.startswith("MSG") or l.startswith("HMSG"), 3))
        n = int(out[-1].split()[-1]) if out[-1] else 0
        out.append(c.payload(n))
    return out


def case_routed_reply_for_this_cluster(srv):
    c = client(srv)
    c.send(b"SUB inbox.> 1\r\n")
    sync(c)
    p = dialler(srv)
    until_cmd3(p)
    ours = "_GR_.%s.%s.inbox.1" % (gw_hash("G"), gw_hash(c.server_id))
    other = "_GR_.%s.%s.inbox.2" % (gw_hash("Z"), gw_hash(c.server_id))
    p.send(("RMSG $G %s 3\r\nyes\r\nRMSG $G %s 2\r\nno\r\n" % (ours, other)).encode())
    got = c.until(lambda l: l.startswith("MSG"), 3)
    body = c.payload(3) if got else None
    # The other cluster's reply must not arrive.
    extra = c.until(lambda l: l.startswith("MSG"), 0.5)
    return [got, body, "extra=%s" % extra]


def case_rs_on_inbound_closes(srv):
    p = dialler(srv)
    until_cmd3(p)
    p.send(b"RS+ $G foo\r\n")
    return ["closed=%s" % p.closed(3)]


def case_reject_unknown_cluster(srv):
    p = dialler(srv)
    return [p.until(lambda l: l.startswith("-ERR"), 3), "closed=%s" % p.closed()]


class listener:
    def __init__(self):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(4)
        self.port = self.s.getsockname()[1]

    def accept(self, timeout=5):
        self.s.settimeout(timeout)
        fd, _ = self.s.accept()
        c = conn.__new__(conn)
        c.s, c.buf = fd, b""
        return c


def outbound(srv_factory, name="F"):
    """The fake as the gateway of cluster F the server dials (its outbound side)."""
    l = listener()
    srv = srv_factory('gateways: [{name: F, url: "nats://127.0.0.1:%d"}]' % l.port)
    p = l.accept(5)
    p.send(("INFO %s\r\n" % json.dumps(fake_info(["127.0.0.1:%d" % l.port], name))).encode())
    return srv, p


def case_outbound_connect_and_rmsg(srv_factory):
    srv, p = outbound(srv_factory)
    try:
        connect = json.loads(p.until(lambda l: l.startswith("CONNECT "), 3)[8:])
        info = json.loads(p.until(lambda l: l.startswith("INFO "), 3)[5:])
        out = ["connect: gateway=%s name_is_id=%s echo=%s" % (
            connect.get("gateway"), connect.get("name") == info.get("server_id"),
            connect.get("echo")), "info: gateway=%s" % info.get("gateway")]
        p.send(("INFO {\"gateway\":\"F\",\"gateway_cmd\":2,\"gateway_cmd_payload\":\"%s\"}\r\n"
                "RS+ $G foo\r\nRS+ $G work q 1\r\n"
                "INFO {\"gateway\":\"F\",\"gateway_cmd\":3,\"gateway_cmd_payload\":\"%s\"}\r\n"
                % (base64.b64encode(b"$G").decode(), base64.b64encode(b"$G").decode())).encode())
        c = client(srv)
        time.sleep(0.3)
        c.send(b"PUB nobody 1\r\nx\r\nPUB foo 5\r\nhello\r\nPUB work 1\r\nw\r\n"
               b"SUB _INBOX.abc 1\r\nPUB foo _INBOX.abc 3\r\nreq\r\n")
        sync(c)
        for _ in range(3):
            l = p.until(lambda l: describe(l) is not None and l.startswith("RMSG"), 3)
            out.append(l)
            if l:
                out.append(p.payload(int(l.split()[-1])))
        # A queue group nobody here has goes to the gateway that has it; a
        # fresh inbox's reply goes out mapped to _GR_.<G>.<server>.
        out = [x.replace("_GR_.%s.%s." % (gw_hash("G"), gw_hash(info.get("server_id", ""))),
                         "_GR_.<G>.<server>.") if x else x for x in out]
        return out
    finally:
        srv.stop()


def case_outbound_wrong_name(srv_factory):
    srv, p = outbound(srv_factory, "X")
    try:
        return [p.until(lambda l: l.startswith("-ERR"), 3), "closed=%s" % p.closed()]
    finally:
        srv.stop()


# (name, case, extra config, runs the server itself)
CASES = [
    ("info shape", case_info_shape, "", False),
    ("CONNECT without gateway refused", case_connect_without_gateway, "", False),
    ("PING before CONNECT refused", case_ping_before_connect, "", False),
    ("interest-only: cmd 2, RS+, cmd 3, then RS+/RS- on first and last", case_interest_only_sequence,
     "", False),
    ("RMSG/HMSG and named queue reach clients", case_rmsg_reaches_clients, "", False),
    ("_GR_ reply for this cluster delivered bare, another's dropped",
     case_routed_reply_for_this_cluster, "", False),
    ("RS+ on an inbound gateway closes it", case_rs_on_inbound_closes, "", False),
    ("reject_unknown_cluster", case_reject_unknown_cluster, "reject_unknown_cluster: true", False),
    ("outbound: CONNECT, interest-only, RMSG and _GR_ mapping", case_outbound_connect_and_rmsg, "",
     True),
    ("outbound: wrong gateway name refused", case_outbound_wrong_name, "", True),
]


def run(kind, binary, shards, fn, extra, own):
    if own:
        try:
            return fn(lambda remotes: server(kind, binary, shards, extra, remotes))
        except Exception as e:
            return ["exception: %r" % e]
    srv = server(kind, binary, shards, extra)
    try:
        return fn(srv)
    except Exception as e:  # a broken case shows as a difference, not a crash of the suite
        return ["exception: %r" % e]
    finally:
        srv.stop()


def main():
    natrix = sys.argv[1]
    nats = sys.argv[2] if len(sys.argv) > 2 else "/usr/sbin/nats-server"
    binaries = {"nats": nats, "natrix": natrix}
    return route_protocol_test.differential(
        CASES, lambda case, kind, shards: run(kind, binaries[kind], shards, case[1], case[2],
                                              case[3]), nats)


if __name__ == "__main__":
    sys.exit(main())
