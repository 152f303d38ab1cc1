#!/usr/bin/env python3
"""What security costs on the message path: pub/sub throughput of natrix and nats-server under
the same config, for three configs, measured in one run.

  open        no authorization (the baseline)
  perms       one user with 10-entry publish and subscribe allow lists (the bench subject matches
              the last entry) and 5-entry deny lists: every PUB is checked, every SUB too
  accounts    the user lives in account A, which exports three streams that accounts B and C
              import (with prefixes): every PUB also walks the import routes and looks up the
              importers' interest

Both servers are pinned with taskset to the same CPUs (natrix --shards = that many), natrix-bench
runs on the others: `pubsub` 1 publisher -> 1 subscriber, 128 B, A B A B for --rounds rounds
after one warm-up each. Reports delivered msgs/s medians, the ratio natrix / nats-server per
config, and each server's throughput relative to its own `open` run.

usage: bench/security_overhead.py [--natrix build/src/app/natrix] [--nats-server PATH]
           [--bench PATH] [--rounds 3] [--duration 3s] [--size 128] [--server-cpus 0]
           [--client-cpus 1] [--out bench/results]
"""
import argparse
import datetime
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()
SUBJECT = "natrix.bench"

PERMS = """authorization { users: [ {user: bench, password: bench, permissions: {
  publish: { allow: ["a.>", "b.*.x", "c.>", "d.e.f", "g.*", "h.>", "i.j.>", "k.*.*", "l.>", "natrix.>"],
             deny: ["natrix.secret.>", "x.>", "y.*", "z.z", "natrix.bench.no"] }
  subscribe: { allow: ["a.>", "b.*.x", "c.>", "d.e.f", "g.*", "h.>", "i.j.>", "k.*.*", "l.>", "natrix.>", "_INBOX.>"],
               deny: ["natrix.secret.>", "x.>", "y.*", "z.z", "natrix.bench.no"] }
}} ] }
"""

ACCOUNTS = """accounts {
  A: { users: [ {user: bench, password: bench} ]
       exports: [ {stream: "natrix.>"}, {stream: "other.>"}, {stream: "more.*.x"} ] }
  B: { imports: [ {stream: {account: A, subject: "natrix.>"}, prefix: "b"},
                  {stream: {account: A, subject: "other.>"}, prefix: "b"} ] }
  C: { imports: [ {stream: {account: A, subject: "natrix.>"}, prefix: "c"},
                  {stream: {account: A, subject: "more.*.x"}, prefix: "c"} ] }
}
"""

CONFIGS = {"open": "# no authorization\n", "perms": PERMS, "accounts": ACCOUNTS}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--natrix", default="build/src/app/natrix")
    ap.add_argument("--nats-server", default="")
    ap.add_argument("--bench", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", default="3s")
    ap.add_argument("--size", default="128")
    ap.add_argument("--server-cpus", default="0")
    ap.add_argument("--client-cpus", default="1")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = ap.parse_args()

    natrix = a.natrix if os.path.isabs(a.natrix) else os.path.join(ROOT, a.natrix)
    if not os.access(natrix, os.X_OK):
        cmp.die("natrix not found at %s; build it with `ninja -C build src/app/natrix`" % a.natrix)
    bench = cmp.find_bench(a.bench)
    nats = cmp.find_nats_server(a.nats_server)
    scpus, ccpus = a.server_cpus, a.client_cpus
    nshards = len(cmp.parse_cpus(scpus))
    load_start = list(os.getloadavg())
    work = tempfile.mkdtemp(prefix="security-overhead-")

    def run(server, auth):
        args = ["-c", ccpus, bench, "pubsub", "-p", "1", "-S", "1", "-m", a.size,
                "-d", a.duration, "-w", "1s", "--cpus", ccpus, "--subject", SUBJECT,
                "-s", "nats://127.0.0.1:%d" % server.port] + auth
        doc, err = cmp.run_bench("taskset", args, timeout=120)
        if err:
            return None, err
        return doc["deliver"]["msgs_per_s"], None

    results = {}
    try:
        for name, text in CONFIGS.items():
            conf = os.path.join(work, name + ".conf")
            with open(conf, "w") as f:
                f.write(text)
            auth = [] if name == "open" else ["--user", "bench", "--pass", "bench"]
            servers = [
                cmp.Server("nats-server",
                           lambda p, c=conf: ["taskset", "-c", scpus, nats, "-a", "127.0.0.1",
                                              "-p", str(p), "-c", c], None,
                           env={"GOMAXPROCS": str(nshards)}),
                cmp.Server("natrix",
                           lambda p, c=conf: ["taskset", "-c", scpus, natrix, "-a", "127.0.0.1",
                                              "-p", str(p), "-c", c, "--shards", str(nshards),
                                              "--cpus", scpus], None),
            ]
            for s in servers:
                why = s.start()
                if why is not None:
                    cmp.die("%s did not start with the %s config: %s" % (s.name, name, why[:400]))
            for s in servers:
                _, err = run(s, auth)
                if err:
                    cmp.die("%s warm-up against %s failed: %s" % (name, s.name, err))
            rounds = []
            for r in range(a.rounds):
                row = {}
                for s in servers:
                    v, err = run(s, auth)
                    if err:
                        log("%s round %d %s: %s" % (name, r + 1, s.name, err))
                        continue
                    row[s.name] = v
                    log("%-8s round %d %-11s %6.2fM msg/s" % (name, r + 1, s.name, v / 1e6))
                rounds.append(row)
            for s in servers:
                s.stop()
            ratios = [r["natrix"] / r["nats-server"] for r in rounds
                      if "natrix" in r and "nats-server" in r]
            results[name] = {
                "rounds": rounds,
                "median_msgs_per_s": {n: cmp.median([r[n] for r in rounds if n in r])
                                      for n in ("nats-server", "natrix")},
                "ratio_natrix_over_nats_server": {
                    "median": cmp.median(ratios), "min": min(ratios) if ratios else None,
                    "max": max(ratios) if ratios else None},
            }
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)

    base = results.get("open", {}).get("median_msgs_per_s", {})
    print("pub/sub 1->1, %s B, %s per run, %d rounds A B A B; server cpus %s, client cpus %s" %
          (a.size, a.duration, a.rounds, scpus, ccpus))
    print("%-9s %14s %14s %22s %22s" % ("config", "nats-server", "natrix", "ratio natrix/nats",
                                        "vs open: nats / natrix"))
    for name, res in results.items():
        med = res["median_msgs_per_s"]
        ratio = res["ratio_natrix_over_nats_server"]
        rel = ["%.2f" % (med[n] / base[n]) if base.get(n) and med[n] else "-"
               for n in ("nats-server", "natrix")]
        print("%-9s %12.2fM %12.2fM %22s %22s" % (
            name, (med["nats-server"] or 0) / 1e6, (med["natrix"] or 0) / 1e6,
            "%.2f (%.2f-%.2f)" % (ratio["median"], ratio["min"], ratio["max"])
            if ratio["median"] else "-", " / ".join(rel)))

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "security-overhead-%s.json" % stamp)
    with open(path, "w") as f:
        json.dump({"benchmark": "security_overhead", "size": a.size, "duration": a.duration,
                   "server_cpus": scpus, "client_cpus": ccpus, "commit": cmp.git_commit(),
                   "machine": cmp.machine_info(load_start), "results": results}, f, indent=2)
    log("wrote " + os.path.relpath(path))


if __name__ == "__main__":
    main()
