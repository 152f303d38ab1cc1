#!/usr/bin/env python3
"""A route's burst cannot freeze its shard (issue #15 with #20's input budget), TAP output.

natrix runs one shard. A fake route peer sends a dump of 500,000 RS+ lines in one go (what a peer with
500k subscriptions sends when the route comes up); a client on the same shard PINGs every 10 ms
meanwhile. Every PING must get its PONG within 250 ms (the bound fails an unbudgeted route input, which
held the shard for the whole dump), and the route's interest must all arrive: a message published to the
last subject reaches the peer.

usage: route_fairness_test.py NATRIX_BIN
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

LINES = 500000
BOUND_S = 0.25


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    natrix = sys.argv[1]
    print("1..2", flush=True)
    d = tempfile.mkdtemp(prefix="routefair-")
    port, cport = free_port(), free_port()
    conf = os.path.join(d, "n.conf")
    with open(conf, "w") as f:
        f.write("listen: 127.0.0.1:%d\ncluster { name: c, listen: 127.0.0.1:%d }\n" % (port, cport))
    log = open(os.path.join(d, "log"), "w")
    proc = subprocess.Popen([natrix, "-c", conf, "--shards", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", cport), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        c = socket.create_connection(("127.0.0.1", port))
        c.recv(4096)
        c.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        buf = b""
        while b"PONG" not in buf:
            buf += c.recv(4096)

        p = socket.create_connection(("127.0.0.1", cport))
        p.recv(65536)  # its INFO
        me = {"server_id": "NFAIRPEER" + "A" * 47, "server_name": "fake", "cluster": "c", "port": 1,
              "headers": True}
        p.sendall(("CONNECT %s\r\nINFO %s\r\nPING\r\n" % (
            json.dumps({"name": me["server_id"], "cluster": "c", "headers": True}),
            json.dumps(me))).encode())
        pbuf = b""
        p.settimeout(5)
        while b"PONG" not in pbuf:
            pbuf += p.recv(65536)

        worst = [0.0]
        stop = [False]

        def pinger():
            c.settimeout(10)
            while not stop[0]:
                t0 = time.monotonic()
                c.sendall(b"PING\r\n")
                got = b""
                while b"PONG" not in got:
                    got += c.recv(4096)
                worst[0] = max(worst[0], time.monotonic() - t0)
                time.sleep(0.01)

        t = threading.Thread(target=pinger)
        t.start()
        time.sleep(0.05)
        dump = b"".join(b"RS+ $G fair.%d\r\n" % i for i in range(LINES))
        p.settimeout(180)  # the dump takes seconds under ASan; the bound is on the other client
        p.sendall(dump)
        p.sendall(b"PING\r\n")
        pbuf = b""
        while b"PONG" not in pbuf:
            pbuf += p.recv(65536)
        stop[0] = True
        t.join()
        ok = worst[0] <= BOUND_S
        print("%s 1 - worst PING round trip during a %d-line RS+ dump: %.0f ms (bound %d ms)"
              % ("ok" if ok else "not ok", LINES, worst[0] * 1000, BOUND_S * 1000), flush=True)
        c.sendall(b"PUB fair.%d 2\r\nhi\r\nPING\r\n" % (LINES - 1))
        p.settimeout(10)
        got = b""
        try:
            while b"RMSG $G fair.%d 2" % (LINES - 1) not in got:
                x = p.recv(65536)
                if not x:
                    break
                got += x
        except socket.timeout:
            pass
        ok2 = b"RMSG $G fair.%d 2" % (LINES - 1) in got
        print("%s 2 - the whole dump was applied (the last subject reaches the peer)"
              % ("ok" if ok2 else "not ok"), flush=True)
        return 0 if ok and ok2 else 1
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
