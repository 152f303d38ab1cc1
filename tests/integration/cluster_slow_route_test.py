#!/usr/bin/env python3
"""A route (or gateway) is never cut for a burst (issues #15, #16, decision 0013), TAP output.

Two natrix nodes (2 shards each, max_pending 64 MB). A raw publisher on n1 sends 40,000 1 KiB messages as
fast as the socket takes them. On n2 one subscriber reads slowly (about 8 MB/s) and another never reads.
Expected: the stuck subscriber is cut by its own node (stall), the slow one gets every message in order,
the route stays the same connection (same rid on both sides, no reconnect), n2 pauses the route's input
while its subscribers are behind (/routez "paused"), what n1 holds for the route stays bounded, and the
publisher is never cut.

With --gateway, n1 and n2 are single-server clusters A and B joined by gateways instead of a route,
and /gatewayz stands in for /routez: n1's outbound gateway is what must stay bounded, n2's inbound one
what it pauses.

usage: cluster_slow_route_test.py NATRIX_BIN [--gateway]
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

N = 40000
SIZE = 1024
MAX_PENDING = 64 << 20


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


GATEWAY = "--gateway" in sys.argv


def get(mport, path):
    with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (mport, path), timeout=2) as r:
        return json.load(r)


def links(mport, outbound):
    """The links that matter, as (id, pending bytes, paused): routes, or n1's outbound gateway /
    n2's inbound gateways."""
    if not GATEWAY:
        return [(r["rid"], r["pending_size"], r["paused"]) for r in get(mport, "routez")["routes"]]
    g = get(mport, "gatewayz")
    conns = [x["connection"] for x in g["outbound_gateways"].values()] if outbound else \
        [x["connection"] for lst in g["inbound_gateways"].values() for x in lst]
    return [(c["cid"], c["pending_bytes"], c["paused"]) for c in conns]


def start(natrix, d, name, seed_cport=None):
    port, cport, mport = free_port(), free_port(), free_port()
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        f.write("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\nmax_pending: %d\n"
                % (name, port, mport, MAX_PENDING))
        if GATEWAY:  # n1 is cluster A, n2 cluster B; each names the other
            me, other = ("B", "A") if seed_cport else ("A", "B")
            remote = ("gateways: [{name: %s, url: \"nats://127.0.0.1:%d\"}]" % (other, seed_cport)
                      if seed_cport else "")
            f.write("gateway { name: %s, listen: 127.0.0.1:%d, %s }\n" % (me, cport, remote))
        else:
            routes = "routes: [nats-route://127.0.0.1:%d]" % seed_cport if seed_cport else ""
            f.write("cluster { name: c, listen: 127.0.0.1:%d, %s }\n" % (cport, routes))
    log = open(os.path.join(d, name + ".log"), "w")
    p = subprocess.Popen([natrix, "-c", conf, "--shards", "2"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port, cport, mport
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("natrix did not start")


def client(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(4096)
    s.sendall(b'CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n')
    buf = b""
    while b"PONG\r\n" not in buf:
        buf += s.recv(4096)
    return s


def main():
    natrix = sys.argv[1]
    print("1..6", flush=True)
    if GATEWAY:
        print("# gateways between clusters A (n1) and B (n2)", flush=True)
    d = tempfile.mkdtemp(prefix="natrix-slowroute-")
    procs = []
    try:
        p1, port1, cport1, m1 = start(natrix, d, "n1")
        procs.append(p1)
        p2, port2, _, m2 = start(natrix, d, "n2", cport1)
        procs.append(p2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (len(links(m1, True)) != 1 or
                                               len(links(m2, False)) != 1):
            time.sleep(0.05)
        rid1 = [x[0] for x in links(m1, True)]
        rid2 = [x[0] for x in links(m2, False)]

        slow = client(port2)
        stuck = client(port2)
        slow.sendall(b"SUB s 1\r\nPING\r\n")
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(b"SUB s 2\r\nPING\r\n")
        time.sleep(0.5)  # interest reaches n1
        pub = client(port1)

        got = []
        def read_slowly():
            buf = b""
            slow.settimeout(20)
            while len(got) < N:
                try:
                    d_ = slow.recv(65536)
                except socket.timeout:
                    return
                if not d_:
                    return
                buf += d_
                while True:
                    i = buf.find(b"\r\n")
                    if i < 0:
                        break
                    line = buf[:i]
                    if not line.startswith(b"MSG"):
                        buf = buf[i + 2:]
                        continue
                    n = int(line.split()[-1])
                    if len(buf) < i + 2 + n + 2:
                        break
                    got.append(int(buf[i + 2:i + 2 + 10]))
                    buf = buf[i + 2 + n + 2:]
                time.sleep(0.004)  # at most 16 MB/s at 64 KiB a read
        reader = threading.Thread(target=read_slowly)
        reader.start()

        peak = [0]
        paused = [False]
        done = [False]
        def watch():
            while not done[0]:
                try:
                    for _, pending, _ in links(m1, True):
                        peak[0] = max(peak[0], pending)
                    for _, _, p in links(m2, False):
                        paused[0] = paused[0] or p
                except OSError:
                    pass
                time.sleep(0.05)
        watcher = threading.Thread(target=watch)
        watcher.start()

        pad = b"x" * (SIZE - 10)
        batch = b"".join(b"PUB s %d\r\n%010d%s\r\n" % (SIZE, i, pad) for i in range(N))
        pub.sendall(batch)
        pub.sendall(b"PING\r\n")
        pub.settimeout(60)
        pbuf = b""
        while b"PONG" not in pbuf and b"-ERR" not in pbuf:
            x = pub.recv(4096)
            if not x:
                break
            pbuf += x
        reader.join(60)
        done[0] = True
        watcher.join()

        ok = got == list(range(N))
        print("%s 1 - the slow subscriber got all %d messages in order (got %d)"
              % ("ok" if ok else "not ok", N, len(got)))
        stuck.settimeout(5)
        cut = False
        try:
            while True:
                x = stuck.recv(1 << 20)
                if not x:
                    cut = True
                    break
        except (socket.timeout, ConnectionResetError):
            cut = isinstance(sys.exc_info()[1], ConnectionResetError)
        print("%s 2 - the stuck subscriber was cut by its own node" % ("ok" if cut else "not ok"))
        same = [x[0] for x in links(m1, True)] == rid1 and \
            [x[0] for x in links(m2, False)] == rid2 and len(rid1) == 1
        what = "gateway" if GATEWAY else "route"
        print("%s 3 - the %s is the same connection on both sides (no cut, no reconnect)"
              % ("ok" if same else "not ok", what))
        bounded = peak[0] <= 2 * MAX_PENDING
        print("%s 4 - n1's output for the %s stayed bounded (peak %d bytes, bound %d)"
              % ("ok" if bounded else "not ok", what, peak[0], 2 * MAX_PENDING))
        print("%s 5 - the publisher was never cut (PONG after its burst)"
              % ("ok" if b"PONG" in pbuf and b"-ERR" not in pbuf else "not ok"))
        print("%s 6 - n2 paused the %s's input while its subscribers were behind (flow control)"
              % ("ok" if paused[0] else "not ok", what))
        failed = (not ok) + (not cut) + (not same) + (not bounded) + (b"PONG" not in pbuf) + \
            (not paused[0])
        if failed:
            for n in ("n1", "n2"):
                with open(os.path.join(d, n + ".log")) as f:
                    print("# %s: %s" % (n, "# ".join(f.readlines()[-15:])))
        return 1 if failed else 0
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(main())
