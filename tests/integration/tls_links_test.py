#!/usr/bin/env python3
"""Routes and gateways over TLS (issue #17), TAP output.

TLS first and mutual on every route and gateway, one CA for both directions (brief §3.3). Checks: a
3-node natrix cluster and a mixed natrix/nats-server cluster form a full mesh over TLS routes and
carry pub/sub; a node whose certificate another CA signed is refused by the others; gateways over
TLS between natrix and nats-server clusters (both directions, request/reply) and between two natrix
clusters. Certificates come from tls_certs.sh; clients are raw sockets on the (plain) client ports.

usage: tls_links_test.py NATRIX_BIN CERTS_SCRIPT [NATS_SERVER_BIN]
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from route_protocol_test import free_port  # noqa: E402

CERTS = None


def tls_block(cert="server"):
    return ("tls { cert_file: \"%s/%s.pem\", key_file: \"%s/%s.key\", ca_file: \"%s/ca.pem\", "
            "timeout: 2 }" % (CERTS, cert, CERTS, cert, CERTS))


class node:
    def __init__(self, binary, d, name, body):
        self.name, self.port, self.http = name, free_port(), free_port()
        self.conf = os.path.join(d, name + ".conf")
        with open(self.conf, "w") as f:
            f.write("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n%s\n"
                    % (name, self.port, self.http, body))
        self.log = open(os.path.join(d, name + ".log"), "w+")
        self.proc = subprocess.Popen([binary, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        raise RuntimeError("%s did not start: %s" % (name, self.tail()))

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http, path), timeout=2) as r:
            return json.load(r)

    def tail(self):
        self.log.seek(0)
        return " | ".join(self.log.read().splitlines()[-5:])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.recv(4096)
    s.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(4096)
    return s


def expect(s, token, timeout=5):
    s.settimeout(timeout)
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf and time.monotonic() < deadline:
        try:
            d = s.recv(4096)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    return token in buf


def deliver(pub, sub, subject):
    """Publishes until the subscriber got one (interest crossed), then one marked message."""
    sub.sendall(b"SUB %s 1\r\nPING\r\n" % subject)
    expect(sub, b"PONG")
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        pub.sendall(b"PUB %s 5\r\nprobe\r\n" % subject)
        if expect(sub, b"probe", 0.2):
            break
    pub.sendall(b"PUB %s 4\r\ndata\r\n" % subject)
    return expect(sub, b"data")


def wait_routes(nodes, want, timeout=10):
    deadline = time.monotonic() + timeout
    got = []
    while time.monotonic() < deadline:
        got = [n.get("/routez")["num_routes"] for n in nodes]
        if all(g == want for g in got):
            return True, got
        time.sleep(0.1)
    return False, got


def cluster_case(natrix, nats, kinds, d):
    seed = free_port()
    nodes = []
    try:
        for i, kind in enumerate(kinds):
            cport = seed if i == 0 else free_port()
            body = ("cluster {\n  name: c\n  listen: 127.0.0.1:%d\n  routes: [nats-route://127.0.0.1:%d]"
                    "\n  %s\n}\n" % (cport, seed, tls_block()))
            nodes.append(node(natrix if kind == "natrix" else nats, d, "n%d" % (i + 1), body))
        ok, got = wait_routes(nodes, len(kinds) - 1)
        a, b = client(nodes[0].port), client(nodes[-1].port)
        return ok and deliver(a, b, b"over.tls.routes"), "num_routes %s" % got
    finally:
        for n in nodes:
            n.stop()


def foreign_node_case(natrix, d):
    seed = free_port()
    nodes = []
    try:
        for i, cert in enumerate(("server", "server", "stranger")):
            cport = seed if i == 0 else free_port()
            body = ("cluster {\n  name: c\n  listen: 127.0.0.1:%d\n  routes: [nats-route://127.0.0.1:%d]"
                    "\n  %s\n}\n" % (cport, seed, tls_block(cert)))
            nodes.append(node(natrix, d, "f%d" % (i + 1), body))
        ok, got = wait_routes(nodes[:2], 1)
        time.sleep(2.5)  # the stranger keeps dialling
        later = [n.get("/routez")["num_routes"] for n in nodes]
        return ok and later == [1, 1, 0], "num_routes %s" % later
    finally:
        for n in nodes:
            n.stop()


def gateway_case(natrix, nats, kinds, d):
    ports = [free_port(), free_port()]
    names = ["A", "B"]
    nodes = []
    try:
        for i, kind in enumerate(kinds):
            body = ("gateway {\n  name: %s\n  listen: 127.0.0.1:%d\n  %s\n  gateways: [{name: %s, "
                    "url: \"nats://127.0.0.1:%d\"}]\n}\n"
                    % (names[i], ports[i], tls_block(), names[1 - i], ports[1 - i]))
            nodes.append(node(natrix if kind == "natrix" else nats, d, "g%s" % names[i], body))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            gz = [n.get("/gatewayz") for n in nodes]
            if all(len(g["outbound_gateways"]) == 1 and len(g["inbound_gateways"]) == 1 for g in gz):
                break
            time.sleep(0.1)
        a, b = client(nodes[0].port), client(nodes[1].port)
        ok = deliver(a, b, b"over.tls.gw.ab") and deliver(b, a, b"over.tls.gw.ba")
        # Request/reply: the responder on B answers a request from A.
        b.sendall(b"SUB svc 7\r\nPING\r\n")
        expect(b, b"PONG")
        a.sendall(b"SUB _INBOX.t 9\r\nPING\r\n")
        expect(a, b"PONG")
        deadline = time.monotonic() + 5
        answered = False
        while time.monotonic() < deadline and not answered:
            a.sendall(b"PUB svc _INBOX.t 3\r\nreq\r\n")
            b.settimeout(0.3)
            try:
                got = b.recv(4096)
            except socket.timeout:
                continue
            for line in got.split(b"\r\n"):
                parts = line.split()
                if len(parts) == 5 and parts[0] == b"MSG" and parts[1] == b"svc":
                    b.sendall(b"PUB %s 3\r\nans\r\n" % parts[3])
                    answered = expect(a, b"ans", 2)
                    break
        return ok and answered, "pub/sub both ways %s, request/reply %s" % (ok, answered)
    finally:
        for n in nodes:
            n.stop()


def main():
    global CERTS
    natrix, script = sys.argv[1], sys.argv[2]
    nats = sys.argv[3] if len(sys.argv) > 3 else "/usr/sbin/nats-server"
    have_nats = os.path.exists(nats)
    CERTS = tempfile.mkdtemp(prefix="natrix-tlsl-")
    subprocess.run([script, CERTS], check=True)
    d = tempfile.mkdtemp(prefix="natrix-tlslinks-")
    cases = [("3 natrix nodes over TLS routes", lambda: cluster_case(natrix, nats, ["natrix"] * 3, d)),
             ("a node with another CA's certificate is refused", lambda: foreign_node_case(natrix, d)),
             ("gateway over TLS, natrix <-> natrix", lambda: gateway_case(natrix, nats,
                                                                         ["natrix", "natrix"], d))]
    if have_nats:
        cases += [("mixed cluster over TLS routes (natrix, nats-server, natrix)",
                   lambda: cluster_case(natrix, nats, ["natrix", "nats", "natrix"], d)),
                  ("mixed cluster over TLS routes (nats-server seed)",
                   lambda: cluster_case(natrix, nats, ["nats", "natrix", "nats"], d)),
                  ("gateway over TLS, natrix A <-> nats-server B",
                   lambda: gateway_case(natrix, nats, ["natrix", "nats"], d))]
    print("1..%d" % len(cases), flush=True)
    failed = 0
    try:
        for i, (name, fn) in enumerate(cases, 1):
            try:
                ok, detail = fn()
            except Exception as e:
                ok, detail = False, "exception: %r" % e
            failed += not ok
            print("%s %d - %s (%s)" % ("ok" if ok else "not ok", i, name, detail), flush=True)
    finally:
        if not failed:
            shutil.rmtree(d, ignore_errors=True)
        else:
            print("# logs kept in %s" % d)
        shutil.rmtree(CERTS, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
