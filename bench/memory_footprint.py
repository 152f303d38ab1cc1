#!/usr/bin/env python3
"""Resident memory of natrix and nats-server, measured the same way in one run:
after start-up, with N idle client connections, and with M subscriptions.

usage: bench/memory_footprint.py [--natrix build/src/app/natrix] [--nats-server PATH]
                                 [--conns 10000] [--subs 1000000] [--shards 1]
Prints one table and writes JSON next to the other results (bench/results/).
"""
import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ready(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def read_until(sock, needle, timeout=60):
    sock.settimeout(timeout)
    buf = b""
    while needle not in buf:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def measure(name, cmd, port, conns, subs):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        time.sleep(0.3)
        base = rss_kib(proc.pid)
        socks = []
        for i in range(conns):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            socks.append(s)
            if i % 500 == 499:
                for t in socks[-500:]:
                    read_until(t, b"PONG\r\n")
        for t in socks[len(socks) - len(socks) % 500:]:
            read_until(t, b"PONG\r\n")
        time.sleep(0.5)
        with_conns = rss_kib(proc.pid)
        for s in socks:
            s.close()
        time.sleep(0.5)
        # Subscriptions: distinct literal subjects over 10 connections.
        subs_socks = []
        per = subs // 10
        for c in range(10):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
            lines = []
            for i in range(per):
                lines.append(b"SUB bench.%d.%d.data %d\r\n" % (c, i, i))
                if len(lines) == 20000:
                    s.sendall(b"".join(lines))
                    lines = []
            s.sendall(b"".join(lines) + b"PING\r\n")
            read_until(s, b"PONG\r\n", timeout=300)
            subs_socks.append(s)
        time.sleep(0.5)
        with_subs = rss_kib(proc.pid)
        for s in subs_socks:
            s.close()
        return dict(server=name, base_kib=base, conns=conns, with_conns_kib=with_conns,
                    per_conn_bytes=round((with_conns - base) * 1024 / max(conns, 1)),
                    subs=per * 10, with_subs_kib=with_subs,
                    per_sub_bytes=round((with_subs - base) * 1024 / max(per * 10, 1)))
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--natrix", default="build/src/app/natrix")
    ap.add_argument("--nats-server", default=shutil.which("nats-server") or "/usr/sbin/nats-server")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--subs", type=int, default=1000000)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--out", default="bench/results")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.conns + 100 > hard:
        sys.exit(f"need {a.conns + 100} file descriptors, the limit is {hard}")
    results = []
    p = free_port()
    results.append(measure("natrix", [a.natrix, "-a", "127.0.0.1", "-p", str(p), "--shards",
                                      str(a.shards)], p, a.conns, a.subs))
    p = free_port()
    results.append(measure("nats-server", [a.nats_server, "-a", "127.0.0.1", "-p", str(p)], p,
                           a.conns, a.subs))
    print(f"{'server':<12} {'base':>10} {str(a.conns) + ' conns':>14} {'B/conn':>8} "
          f"{str(a.subs) + ' subs':>14} {'B/sub':>7}")
    for r in results:
        print(f"{r['server']:<12} {r['base_kib'] / 1024:>8.1f}MB {r['with_conns_kib'] / 1024:>12.1f}MB "
              f"{r['per_conn_bytes']:>8} {r['with_subs_kib'] / 1024:>12.1f}MB {r['per_sub_bytes']:>7}")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, time.strftime("memory-%Y%m%d-%H%M%S.json"))
    with open(path, "w") as f:
        json.dump(dict(machine=platform.node(), kernel=platform.release(), cpus=os.cpu_count(),
                       shards=a.shards, results=results), f, indent=1)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
