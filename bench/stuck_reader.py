#!/usr/bin/env python3
"""A subscriber that stops reading, beside a live one: natrix against nats-server (issue #14).

On each server: a raw subscriber that never reads (receive buffer 4 KiB), then the stock nats.go
program (bench/stock/natsgo_bench.go) with one publisher and one live subscriber on the same
subject, publishing --mb megabytes in 1 KiB messages. Measured per server: the publisher's total
time (natsgo-bench's wall time), whether the live subscriber got every message in order (a run with
any loss does not count), when the stuck one was cut, and the server's peak RSS (sampled every
50 ms from /proc). Servers on cpu 0 (natrix 1 shard, nats-server GOMAXPROCS=1), clients on cpu 1,
alternating A B A B for --rounds. JSON to bench/results/stuck-reader-<date>.json.

usage: bench/stuck_reader.py [--rounds 3] [--mb 300] [--natrix PATH] [--go-bench PATH]
"""
import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import threading
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()




def stuck_subscriber(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.recv(4096)  # INFO
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB bench.stuck 1\r\nPING\r\n')
    buf = b""
    while b"PONG" not in buf:
        buf += s.recv(4096)
    return s  # never read again


def cut_time(sock, t0, stop):
    """Seconds from t0 until the server closed the stuck socket (read only after the run)."""
    sock.setblocking(False)
    while not stop.is_set():
        time.sleep(0.05)
    # Drain what the kernel holds; EOF or RST means the server cut it.
    try:
        while True:
            d = sock.recv(1 << 20)
            if not d:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def one_run(server, go_bench, mb, client_cpus):
    sock = stuck_subscriber(server.port)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], cmp.rss_bytes(server.proc.pid))
            time.sleep(0.05)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    n = mb * 1024

    def pin():
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
    t0 = time.monotonic()
    p = subprocess.run([go_bench, "-s", "nats://127.0.0.1:%d" % server.port, "-subject", "bench.stuck",
                        "-pubs", "1", "-subs", "1", "-msgs", str(n), "-size", "1024", "-timeout", "120s"],
                       capture_output=True, text=True, preexec_fn=pin, timeout=200)
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    doc = None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            doc = json.loads(line)
            break
        except ValueError:
            continue
    cut = cut_time(sock, t0, stop)
    sock.close()
    ok = p.returncode == 0 and doc is not None and doc.get("lost") == 0
    return {"server": server.name, "ok": ok, "wall_s": round(wall, 3), "stuck_cut": cut,
            "peak_rss_mb": round(peak[0] / 2**20, 1), "result": doc,
            "log_tail": server.output()[-400:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mb", type=int, default=300)
    ap.add_argument("--natrix", default=os.path.join(ROOT, "build/src/app/natrix"))
    ap.add_argument("--nats-server", default="/usr/sbin/nats-server")
    ap.add_argument("--go-bench", default=os.path.join(ROOT, "build/bench/stock/natsgo-bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    args = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    half = max(1, len(cpus) // 2)
    server_cpus, client_cpus = cpus[:half], cpus[half:] or cpus
    results = []
    for r in range(args.rounds):
        for name, argv in (("nats-server", lambda p: [args.nats_server, "-a", "127.0.0.1", "-p", str(p)]),
                           ("natrix", lambda p: [args.natrix, "-a", "127.0.0.1", "-p", str(p),
                                                 "--shards", str(len(server_cpus))])):
            env = {"GOMAXPROCS": str(len(server_cpus))} if name == "nats-server" else None
            srv = cmp.Server(name, argv, server_cpus, env)
            err = srv.start()
            if err:
                raise SystemExit("%s did not start: %s" % (name, err[:300]))
            try:
                res = one_run(srv, args.go_bench, args.mb, client_cpus)
            finally:
                srv.stop()
            res["round"] = r + 1
            results.append(res)
            print("%-11s round %d: publisher %.2f s, live subscriber %s, stuck one cut: %s, peak RSS %.0f MB"
                  % (name, r + 1, res["wall_s"], "complete" if res["ok"] else "LOST MESSAGES",
                     res["stuck_cut"], res["peak_rss_mb"]), flush=True)
    med = {}
    for name in ("nats-server", "natrix"):
        runs = [x for x in results if x["server"] == name and x["ok"]]
        med[name] = {"wall_s": statistics.median([x["wall_s"] for x in runs]) if runs else None,
                     "peak_rss_mb": max([x["peak_rss_mb"] for x in runs]) if runs else None,
                     "failed_runs": sum(1 for x in results if x["server"] == name and not x["ok"])}
    print("\nmedian publisher time: nats-server %s s, natrix %s s; peak RSS nats-server %s MB, natrix %s MB"
          % (med["nats-server"]["wall_s"], med["natrix"]["wall_s"], med["nats-server"]["peak_rss_mb"],
             med["natrix"]["peak_rss_mb"]))
    doc = {"tool": "bench/stuck_reader.py", "date": datetime.datetime.now().isoformat(timespec="seconds"),
           "git_commit": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True).stdout.strip(),
           "machine": cmp.machine_info(list(os.getloadavg())),
           "pinning": {"servers": server_cpus, "clients": client_cpus}, "mb": args.mb,
           "load_avg": os.getloadavg(), "runs": results, "summary": med}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "stuck-reader-%s.json" % datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
