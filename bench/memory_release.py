#!/usr/bin/env python3
"""Is memory given back after a mass teardown? (issue #20, part 4)

For natrix and nats-server, one after the other in the same run: one raw client
subscribes N subjects (`SUB u.<i>.<j>.zzzzzzzz <sid>`, batches of 10,000, a
PING after each), then closes. A second client PINGs every 10 ms throughout
and records its round trips. The script reads VmRSS from /proc/PID/status and
/varz (natrix's "natrix" object: heap_in_use, heap_free, heap_trims,
heap_released) at start, with the subscriptions, when /varz shows them gone,
and then every second for --settle seconds.

usage: bench/memory_release.py [--natrix build/src/app/natrix] [--nats-server PATH]
                               [--subs 1000000] [--shards 1] [--settle 20]
Prints a table and writes JSON to bench/results/memory-release-<time>.json.
"""
import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import shlex
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()


def wait_ready(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def varz(http_port):
    # natrix answers 503 while a shard is too busy to answer (a teardown done
    # inline): ask again.
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/varz", timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise
            time.sleep(0.1)
    raise RuntimeError("/varz kept answering 503")


def read_until(sock, needle, buf=b"", timeout=120):
    sock.settimeout(timeout)
    while needle not in buf:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf[buf.index(needle) + len(needle):]


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    read_until(s, b"\r\n")  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
    read_until(s, b"PONG\r\n")
    return s


class pinger(threading.Thread):
    """PINGs every 10 ms; keeps (time sent, round trip) pairs."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = connect(port)
        self.samples = []
        self.stop = threading.Event()

    def run(self):
        buf = b""
        self.sock.settimeout(120)
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.sock.sendall(b"PING\r\n")
            while True:  # the server's own PINGs get their PONG
                while b"\r\n" not in buf:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise RuntimeError("connection closed")
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                if line == b"PING":
                    self.sock.sendall(b"PONG\r\n")
                elif line == b"PONG":
                    break
            self.samples.append((t0, time.monotonic() - t0))
            time.sleep(0.01)

    def worst_ms(self, since, until=None):
        rtts = [r for t, r in self.samples if t >= since and (until is None or t < until)]
        return round(max(rtts) * 1000, 2) if rtts else None


def snapshot(pid, http_port, label, t0):
    v = varz(http_port)
    nx = v.get("natrix", {})
    row = {"phase": label, "t_s": round(time.monotonic() - t0, 2), "rss_mib": round(cmp.rss_bytes(pid) / 2**20, 1),
           "varz_mem_mib": round(v.get("mem", 0) / 2**20, 1), "subscriptions": v.get("subscriptions")}
    for k in ("heap_in_use", "heap_free", "heap_released"):
        if k in nx:
            row[k + "_mib"] = round(nx[k] / 2**20, 1)
    if "heap_trims" in nx:
        row["heap_trims"] = nx["heap_trims"]
    return row


def measure(name, cmd, port, http_port, subs, settle):
    log = tempfile.NamedTemporaryFile(prefix=f"memory-release-{name}-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    rows = []
    try:
        wait_ready(port)
        time.sleep(0.5)
        t0 = time.monotonic()
        base_subs = varz(http_port)["subscriptions"]
        rows.append(snapshot(proc.pid, http_port, "start", t0))
        p = pinger(port)
        p.start()
        a = connect(port)
        batch, sid = 10_000, 0
        buf = b""
        t_sub = time.monotonic()
        for i in range((subs + batch - 1) // batch):
            lines = []
            for j in range(min(batch, subs - sid)):
                sid += 1
                lines.append(f"SUB u.{i}.{j}.zzzzzzzz {sid}\r\n")
            a.sendall("".join(lines).encode() + b"PING\r\n")
            buf = read_until(a, b"PONG\r\n", buf)
        sub_s = time.monotonic() - t_sub
        rows.append(snapshot(proc.pid, http_port, f"{subs} subscriptions", t0))
        t_close = time.monotonic()
        print(f"{name}: closing at {time.strftime('%H:%M:%S')}", flush=True)
        a.close()
        while varz(http_port)["subscriptions"] > base_subs:
            time.sleep(0.05)
        teardown_s = time.monotonic() - t_close
        rows.append(snapshot(proc.pid, http_port, "subscriptions gone", t0))
        for k in range(settle):
            time.sleep(1)
            rows.append(snapshot(proc.pid, http_port, f"+{k + 1} s", t0))
        p.stop.set()
        p.join(timeout=5)
        with open(log.name, errors="replace") as f:
            lines = f.readlines()
        trim_lines = [line.strip() for line in lines if "Returned" in line and "heap" in line]
        # natrix -D: "cid:2 - client connection created on shard 1" (2: the pinger, 3: the subscriber)
        placed = {}
        for line in lines:
            for cid, who in ((2, "pinger"), (3, "subscriber")):
                if f" - cid:{cid} - client connection created on shard " in line:
                    placed[who] = int(line.rsplit(" ", 1)[1])
        return {
            "server": name,
            "subscribe_s": round(sub_s, 2),
            "teardown_s": round(teardown_s, 2),
            "worst_ping_ms_subscribing": p.worst_ms(t_sub, t_close),
            "worst_ping_ms_teardown": p.worst_ms(t_close, t_close + teardown_s),
            "worst_ping_ms_after": p.worst_ms(t_close + teardown_s),
            # Round trips over 20 ms: (seconds since the close, ms).
            "slow_pings": [(round(t - t_close, 2), round(r * 1000, 1)) for t, r in p.samples
                           if r > 0.02 and t >= t_close],
            "trim_log": trim_lines,  # natrix with -D: each trim's size and duration
            "shard_of": placed,
            "rows": rows,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--natrix", default="build/src/app/natrix")
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "/usr/sbin/nats-server")
    ap.add_argument("--subs", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--settle", type=int, default=20, help="seconds watched after the teardown")
    ap.add_argument("--natrix-args", default="-D", help="extra natrix flags (default -D: the trim is logged)")
    ap.add_argument("--skip-nats", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    results = []
    servers = [("natrix", lambda p, h: [a.natrix, "-a", "127.0.0.1", "-p", str(p), "-m", str(h),
                                        "--shards", str(a.shards)] + shlex.split(a.natrix_args))]
    if not a.skip_nats and os.path.exists(a.nats_server):
        servers.append(("nats-server", lambda p, h: [a.nats_server, "-a", "127.0.0.1", "-p", str(p),
                                                     "-m", str(h)]))
    for name, mk in servers:
        port, http_port = cmp.free_port(), cmp.free_port()
        r = measure(name, mk(port, http_port), port, http_port, a.subs, a.settle)
        results.append(r)
        print(f"\n{name}: subscribe {r['subscribe_s']} s, teardown {r['teardown_s']} s; worst PING round trip "
              f"{r['worst_ping_ms_subscribing']} ms subscribing, {r['worst_ping_ms_teardown']} ms in teardown, "
              f"{r['worst_ping_ms_after']} ms after")
        keys = ["phase", "t_s", "rss_mib", "subscriptions", "heap_in_use_mib", "heap_free_mib", "heap_trims",
                "heap_released_mib"]
        print(f"  slow PINGs after the close (s since close, ms): {r['slow_pings']}; shards: {r['shard_of']}")
        for line in r["trim_log"]:
            print(f"  log: {line}")
        print("  ".join(f"{k:>18}" for k in keys))
        for row in r["rows"]:
            print("  ".join(f"{str(row.get(k, '')):>18}" for k in keys))

    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                time.strftime("memory-release-%Y%m%d-%H%M%S.json"))
    meta = {"machine": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "load": os.getloadavg(), "subs": a.subs, "shards": a.shards, "natrix": a.natrix,
            "nats_server": a.nats_server}
    with open(out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    sys.exit(main())
