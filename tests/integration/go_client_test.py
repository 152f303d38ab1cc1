#!/usr/bin/env python3
"""Flow control with Debian's stock nats.go client (bench/stock/natsgo_bench.go), TAP output.

For 1, 2 and 4 shards: 1->1 128 B, fan-out 1->4, a queue group of 4, two publishers of 1 KiB and a
subscriber with 1 us of work per message. natsgo-bench exits non-zero when any message is lost,
duplicated or out of per-publisher order; the server must not cut anyone either.

usage: go_client_test.py NATRIX_BIN NATSGO_BENCH
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

SCENARIOS = [
    # (name, natsgo-bench arguments)
    ("1->1 128B", ["-pubs", "1", "-subs", "1", "-msgs", "1000000", "-size", "128"]),
    ("fan-out 1->4 128B", ["-pubs", "1", "-subs", "4", "-msgs", "200000", "-size", "128"]),
    ("queue of 4 128B", ["-pubs", "1", "-subs", "4", "-queue", "workers", "-msgs", "400000", "-size", "128"]),
    ("2 pubs 1KiB", ["-pubs", "2", "-subs", "1", "-msgs", "200000", "-size", "1024"]),
    ("1us per message", ["-pubs", "1", "-subs", "1", "-msgs", "300000", "-size", "128", "-spin-ns", "1000"]),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(natrix, shards, log):
    port = free_port()
    proc = subprocess.Popen([natrix, "-a", "127.0.0.1", "-p", str(port), "--shards", str(shards)],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("natrix did not start")


def main():
    natrix, go_bench = sys.argv[1], sys.argv[2]
    cases = [(shards, name, args) for shards in (1, 2, 4) for name, args in SCENARIOS]
    print("1..%d" % len(cases), flush=True)
    failed = 0
    for n, (shards, name, args) in enumerate(cases, 1):
        with tempfile.NamedTemporaryFile(mode="w+", suffix=".log") as log:
            proc, port = start(natrix, shards, log)
            try:
                r = subprocess.run([go_bench, "-s", "nats://127.0.0.1:%d" % port, "-timeout", "120s"] + args,
                                   capture_output=True, text=True, timeout=200)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            log.seek(0)
            server_log = log.read()
        doc = None
        for line in reversed(r.stdout.strip().splitlines()):
            try:
                doc = json.loads(line)
                break
            except ValueError:
                continue
        problems = []
        if r.returncode != 0 or doc is None:
            problems.append("natsgo-bench exit %d: %s" % (r.returncode, (r.stdout + r.stderr).strip()[-500:]))
        elif doc.get("lost") or doc.get("out_of_order") or doc.get("duplicates") or doc.get("errors"):
            problems.append("result: %s" % json.dumps(doc))
        if "Slow Consumer" in server_log:
            problems.append("natrix cut a client: " + server_log[-500:])
        label = "%s, %d shard%s" % (name, shards, "" if shards == 1 else "s")
        if problems:
            failed += 1
            print("not ok %d - %s" % (n, label))
            for p in problems:
                for line in p.splitlines():
                    print("# " + line)
        else:
            print("ok %d - %s" % (n, label))
            print("# %.0f msg/s delivered" % (doc.get("sub_msgs_per_s") or 0))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
