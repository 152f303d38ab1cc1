#!/usr/bin/env python3
"""Cluster operations on natrix: SIGHUP adds and removes routes, lame duck tells the cluster and the
clients, a route to ourselves is never dialled twice, and cluster.authorization is enforced. TAP output.

usage: cluster_ops_test.py NATRIX_BIN
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class node:
    def __init__(self, natrix, d, name, cluster_extra=""):
        self.natrix, self.d, self.name = natrix, d, name
        self.port, self.cport, self.mport = free_port(), free_port(), free_port()
        self.conf = os.path.join(d, name + ".conf")
        self.write(cluster_extra(self) if callable(cluster_extra) else cluster_extra)
        self.log = open(os.path.join(d, name + ".log"), "w+")
        self.proc = subprocess.Popen([natrix, "-c", self.conf, "--shards", "2"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("natrix did not start")

    def write(self, cluster_extra):
        with open(self.conf, "w") as f:
            f.write("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                    "lame_duck_grace_period: \"20s\"\nlame_duck_duration: \"30s\"\n"
                    "cluster { name: c, listen: 127.0.0.1:%d\n %s }\n"
                    % (self.name, self.port, self.mport, self.cport, cluster_extra))

    def url(self):
        return "nats-route://127.0.0.1:%d" % self.cport

    def routes(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/routez" % self.mport, timeout=2) as r:
            return json.load(r)

    def remote_names(self):
        return sorted(r.get("remote_name", "") for r in self.routes()["routes"])

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def wait(pred, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def main():
    natrix = sys.argv[1]
    print("1..7", flush=True)
    d = tempfile.mkdtemp(prefix="clusterops-")
    nodes = []
    failed = 0

    def check(n, ok, text):
        nonlocal failed
        failed += not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, text), flush=True)

    try:
        a = node(natrix, d, "a")
        nodes.append(a)
        # b lists itself and a (one config for every node): its own URL is recognised, left alone.
        b = node(natrix, d, "b", lambda me: "routes: [%s, %s]" % (me.url(), a.url()))
        nodes.append(b)
        check(1, wait(lambda: a.remote_names() == ["b"] and b.remote_names() == ["a"]),
              "a route to ourselves in the config is ignored; a and b form one route")
        time.sleep(2.5)  # a second dial round to itself would show as a route or an error
        check(2, b.remote_names() == ["a"] and len(b.routes()["routes"]) == 1,
              "no route to ourselves after a few redial rounds")

        c = node(natrix, d, "c")
        nodes.append(c)
        a.write("routes: [%s]" % c.url())
        a.proc.send_signal(signal.SIGHUP)
        check(3, wait(lambda: a.remote_names() == ["b", "c"] and c.remote_names() == ["a", "b"]),
              "SIGHUP adds a route (a dials c; b learns c by gossip)")
        rid = [r["rid"] for r in a.routes()["routes"] if r.get("remote_name") == "c"]
        a.write("")
        a.proc.send_signal(signal.SIGHUP)
        check(4, wait(lambda: "c" not in a.remote_names() or
                      [r["rid"] for r in a.routes()["routes"] if r.get("remote_name") == "c"] != rid),
              "SIGHUP removes a route a dialled (it is closed)")

        # Lame duck: a client on c hears that b leaves (its URL is dropped from connect_urls).
        s = socket.create_connection(("127.0.0.1", c.port), timeout=3)
        info = json.loads(s.recv(65536).decode().split(" ", 1)[1])
        s.sendall(b'CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n')
        buf = b""
        while b"PONG" not in buf:
            buf += s.recv(65536)
        b_url = "127.0.0.1:%d" % b.port
        had = b_url in info.get("connect_urls", [])
        b.proc.send_signal(signal.SIGUSR2)
        s.settimeout(3)
        got = b""
        deadline = time.monotonic() + 3
        later = None
        while time.monotonic() < deadline and later is None:
            try:
                got += s.recv(65536)
            except socket.timeout:
                break
            for line in got.split(b"\r\n"):
                if line.startswith(b"INFO "):
                    i = json.loads(line[5:].decode())
                    if b_url not in i.get("connect_urls", []):
                        later = i
        check(5, had and later is not None,
              "lame duck on b: c's clients get an INFO without b's URL (had it before: %s)" % had)
        check(6, later is not None and "127.0.0.1:%d" % c.port in later.get("connect_urls", []),
              "the INFO still lists the nodes that stay")

        # Route authorization: a node with the wrong password is refused.
        auth = node(natrix, d, "g", "authorization { user: r, password: s3cret }")
        nodes.append(auth)
        bad = node(natrix, d, "h", "routes: [nats-route://r:wrong@127.0.0.1:%d]" % auth.cport)
        nodes.append(bad)
        good = node(natrix, d, "k", "routes: [nats-route://r:s3cret@127.0.0.1:%d]" % auth.cport)
        nodes.append(good)
        check(7, wait(lambda: auth.remote_names() == ["k"]) and bad.remote_names() == [],
              "cluster authorization: the right password gets a route, the wrong one none")
    finally:
        for n in nodes:
            n.stop()
        if failed:
            for n in nodes:
                with open(os.path.join(d, n.name + ".log")) as f:
                    print("# %s: %s" % (n.name, "# ".join(f.readlines()[-12:])))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
