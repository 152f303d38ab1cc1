#!/usr/bin/env python3
"""One client's subscription storm beside a pinging one: natrix against nats-server (issue #20).

On each server: a raw client sends --subs `SUB u.<i>.<j>.zzzzzzzz <sid>` in batches of 10,000, then
PING, waits for its PONG, then closes. Meanwhile a second client sends PING every 10 ms and records
each round trip. Reported per server: the worst and the 99th percentile round trip while
subscribing, and while the closed client's subscriptions are torn down (from the close until two
seconds later, or until the server's /varz shows no subscriptions), the storm's own time, and RSS.
Servers on cpu 0 (natrix --shards 1 unless --shards, nats-server GOMAXPROCS matching), clients on
cpu 1. JSON to bench/results/sub-storm-<date>.json.

usage: bench/sub_storm.py [--subs 1000000] [--rounds 1] [--shards 1] [--natrix PATH] [--only natrix]
"""
import argparse
import datetime
import json
import os
import socket
import threading
import time

from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))




def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.recv(65536)  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\nPING\r\n')
    buf = b""
    while b"PONG\r\n" not in buf:
        buf += s.recv(65536)
    return s


def wait_pong(s):
    buf = b""
    while b"PONG\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("server closed the connection")
        buf += chunk
        # Server PINGs must be answered or the client is cut as stale.
        if b"PING\r\n" in buf:
            s.sendall(b"PONG\r\n")
            buf = buf.replace(b"PING\r\n", b"")


class Pinger(threading.Thread):
    """PING every 10 ms; records (send time, round trip) pairs."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                t0 = time.monotonic()
                self.sock.sendall(b"PING\r\n")
                wait_pong(self.sock)
                t1 = time.monotonic()
                self.samples.append((t0, t1 - t0))
                time.sleep(max(0.0, 0.010 - (t1 - t0)))
        except OSError:
            pass

    def settled_after(self, t):
        """True once a PING sent after t has come back."""
        return any(s >= t for (s, _) in self.samples)

    def window(self, start, end):
        return [rtt for (t, rtt) in self.samples if start <= t < end or (t < start and t + rtt > start)]


def stats(rtts):
    if not rtts:
        return {"samples": 0}
    s = sorted(rtts)
    return {"samples": len(s), "worst_ms": round(s[-1] * 1e3, 2),
            "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3, 2)}


def one_run(srv, nsubs):
    pinger = Pinger(srv.port)
    pinger.start()
    time.sleep(0.2)
    storm = connect(srv.port)
    t_sub = time.monotonic()
    batch = 10000
    sid = 0
    while sid < nsubs:
        lines = []
        for _ in range(min(batch, nsubs - sid)):
            sid += 1
            lines.append(b"SUB u.%d.%d.zzzzzzzz %d\r\n" % (sid // 1000, sid % 1000, sid))
        storm.sendall(b"".join(lines))
    storm.sendall(b"PING\r\n")
    wait_pong(storm)
    t_close = time.monotonic()
    rss_full = cmp.rss_bytes(srv.proc.pid)
    storm.close()
    # Two seconds, and at least until a PING sent after them has come back:
    # a teardown that holds the loop longer shows in full.
    time.sleep(2.0)
    t_end = time.monotonic()
    deadline = t_end + 60
    while not pinger.settled_after(t_end) and time.monotonic() < deadline:
        time.sleep(0.01)
    pinger.stop.set()
    pinger.join(timeout=5)
    return {
        "subscribe_s": round(t_close - t_sub, 3),
        "while_subscribing": stats(pinger.window(t_sub, t_close)),
        "while_closing": stats(pinger.window(t_close, t_end)),
        "rss_with_subs_mb": round(rss_full / 2**20, 1),
        "rss_after_close_mb": round(cmp.rss_bytes(srv.proc.pid) / 2**20, 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subs", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--natrix", default=os.path.join(ROOT, "build/src/app/natrix"))
    ap.add_argument("--only", choices=["natrix", "nats-server"])
    ap.add_argument("--out")
    args = ap.parse_args()
    server_cpus = list(range(args.shards))
    os.sched_setaffinity(0, {args.shards % os.cpu_count()})
    results = {"natrix": [], "nats-server": []}
    servers = [("nats-server", lambda p: [cmp.find_nats_server(None), "-a", "127.0.0.1", "-p", str(p)]),
               ("natrix", lambda p: [args.natrix, "-a", "127.0.0.1", "-p", str(p),
                                     "--shards", str(args.shards)])]
    for _ in range(args.rounds):
        for name, argv in servers:
            if args.only and name != args.only:
                continue
            env = {"GOMAXPROCS": str(args.shards)} if name == "nats-server" else None
            srv = cmp.Server(name, argv, server_cpus, env)
            err = srv.start()
            if err:
                raise SystemExit("%s did not start: %s" % (name, err[:300]))
            try:
                res = one_run(srv, args.subs)
            finally:
                srv.stop()
            print(name, json.dumps(res), flush=True)
            results[name].append(res)
    out = {"date": datetime.date.today().isoformat(), "commit": cmp.git_commit(),
           "subs": args.subs, "shards": args.shards,
           "pinning": "servers on cpus %s, clients on cpu %d" % (server_cpus, args.shards % os.cpu_count()),
           "results": results}
    path = args.out or os.path.join(ROOT, "bench", "results",
                                    "sub-storm-%s.json" % datetime.date.today().strftime("%Y%m%d"))
    if not args.only:
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote", path)


if __name__ == "__main__":
    main()
