#!/usr/bin/env python3
"""TLS connection setup rate of natrix and nats-server on one server core, in one run.

Both servers get the same TLS flags (--tls --tlscert --tlskey; a fresh EC P-256 certificate from
tests/integration/tls_certs.sh) and are pinned to --server-cpu (natrix --shards 1, nats-server
GOMAXPROCS=1); the stock nats.go client (natsgo-bench -connects) runs on --client-cpu with
--workers connections in flight. Each connection is complete before it closes: TCP, INFO, the TLS
handshake (TLS 1.3, X25519, ECDSA), CONNECT, PING/PONG. A B A B for --rounds rounds. Reported:
connections/s and the server's CPU time per connection (which holds even when the client sets the
pace); ratios natrix / nats-server are medians of the per-round ratios.

usage: bench/tls_handshakes.py [--rounds 5] [--connects 3000] [--workers 16] [--server-cpu 0]
           [--client-cpu 1] [--out bench/results]
Writes bench/results/tls-handshakes-<date>.json and prints a table.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--natrix", default=os.path.join(ROOT, "build/src/app/natrix"))
    ap.add_argument("--nats-server")
    ap.add_argument("--go-bench", default=os.path.join(ROOT, "build/tests/integration/natsgo-bench"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connects", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results"))
    args = ap.parse_args()
    nats = cmp.find_nats_server(args.nats_server)
    certs = tempfile.mkdtemp(prefix="tls-hs-")
    subprocess.run([os.path.join(ROOT, "tests/integration/tls_certs.sh"), certs], check=True)
    tls = ["--tls", "--tlscert", os.path.join(certs, "server.pem"),
           "--tlskey", os.path.join(certs, "server.key")]
    servers = [
        cmp.Server("nats-server", lambda p: [nats, "-a", "127.0.0.1", "-p", str(p)] + tls,
                   [args.server_cpu], {"GOMAXPROCS": "1"}),
        cmp.Server("natrix", lambda p: [args.natrix, "-a", "127.0.0.1", "-p", str(p),
                                        "--shards", "1"] + tls, [args.server_cpu]),
    ]
    for s in servers:
        err = s.start()
        if err:
            sys.exit("%s did not start: %s" % (s.name, err[:300]))
    load0 = list(os.getloadavg())
    rounds = []
    try:
        for r in range(args.rounds + 1):  # round 0 warms up
            row = {}
            for s in servers:
                c0 = cpu_s(s.proc.pid)
                out = subprocess.run(
                    ["taskset", "-c", str(args.client_cpu), args.go_bench,
                     "-s", "nats://127.0.0.1:%d" % s.port, "-tls-ca", os.path.join(certs, "ca.pem"),
                     "-connects", str(args.connects), "-workers", str(args.workers)],
                    capture_output=True, text=True, timeout=300)
                doc = json.loads(out.stdout.strip().splitlines()[-1])
                used = cpu_s(s.proc.pid) - c0
                row[s.name] = {"connects_per_s": doc["connects_per_s"], "failed": doc["failed"],
                               "server_cpu_us_per_connect": 1e6 * used / args.connects,
                               "server_core_util": used / doc["seconds"], "errors": doc["errors"]}
            if r:
                rounds.append(row)
                print("round %d: nats-server %.0f/s, natrix %.0f/s" % (
                    r, row["nats-server"]["connects_per_s"], row["natrix"]["connects_per_s"]),
                    file=sys.stderr, flush=True)
    finally:
        for s in servers:
            s.stop()

    def med(name, key):
        return statistics.median(x[name][key] for x in rounds)

    def ratio(key):
        return statistics.median(x["natrix"][key] / x["nats-server"][key] for x in rounds)

    summary = {k: {"nats_server": med("nats-server", k), "natrix": med("natrix", k),
                   "ratio": ratio(k)}
               for k in ("connects_per_s", "server_cpu_us_per_connect", "server_core_util")}
    now = datetime.datetime.now()
    result = {"tool": "bench/tls_handshakes.py", "date": now.isoformat(timespec="seconds"),
              "git_commit": cmp.git_commit(), "machine": cmp.machine_info(load0),
              "pinning": {"server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
                          "natrix_shards": 1, "nats_server_gomaxprocs": 1},
              "connects": args.connects, "workers": args.workers,
              "client": "nats.go 1.22.1 (natsgo-bench -connects), TLS 1.3",
              "versions": {s.name: cmp.version_of(s.argv[0]) for s in servers},
              "rounds": rounds, "summary": summary}
    path = os.path.join(args.out, "tls-handshakes-%s.json" % now.strftime("%Y%m%d"))
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("TLS connection setup, %d rounds of %d connections (%d in flight), server on cpu %d, "
          "client on cpu %d" % (args.rounds, args.connects, args.workers, args.server_cpu,
                                args.client_cpu))
    for k, v in summary.items():
        print("  %-28s nats-server %10.1f  natrix %10.1f  ratio %.2f"
              % (k, v["nats_server"], v["natrix"], v["ratio"]))
    print("wrote %s" % path)


if __name__ == "__main__":
    main()
