#!/usr/bin/env python3
"""Authenticated connection setup rate of natrix and nats-server, measured the same way in one run.

Each login method gets ONE config file that both servers load:
  nkey   authorization { users: [ {nkey: U...} ] }   (a fresh user key from natrix-keys gen user)
  plain  authorization { users: [ {user: bench, password: ...} ] }   (reference: no signature)
Both servers are pinned with taskset to the same single CPU (nats-server with GOMAXPROCS=1,
natrix with --shards 1); natrix-bench runs on another CPU. For every method the servers are
started once, one warm-up run each, then `natrix-bench conns` runs against them alternately,
A B A B, for --rounds rounds. A conns run opens --clients connections from one epoll thread (at
most 256 handshakes in flight) and times each from connect() to the PONG that answers
CONNECT+PING: TCP connect, INFO (with the nonce), CONNECT (with nkey and the nonce's signature, or
user/password), PING/PONG. connections/s = connections / time until the last one is up. The
connections are then held briefly and closed when natrix-bench exits; closing is not timed.

usage: bench/auth_connect_rate.py [--natrix build/src/app/natrix] [--nats-server PATH]
           [--bench PATH] [--keys PATH] [--rounds 3] [--clients 5000] [--server-cpu 0]
           [--client-cpu 1] [--methods nkey,plain] [--out bench/results]
Prints a table (medians, and the median of the per-round ratios natrix / nats-server) and writes
bench/results/auth-connect-rate-<date>.json. See docs/benchmarking.md.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("auth_connect_rate: error: " + msg)
    sys.exit(2)


def executable(path, what, hint):
    p = path if os.path.isabs(path) else os.path.join(ROOT, path)
    if not os.access(p, os.X_OK):
        die("%s not found at %s; %s" % (what, path, hint))
    return p


def gen_user_key(keys):
    out = subprocess.run([keys, "gen", "user", "--json"], capture_output=True, text=True,
                         timeout=10)
    if out.returncode != 0:
        die("natrix-keys gen user failed: " + out.stderr.strip())
    doc = json.loads(out.stdout)
    return doc["seed"], doc["public"]


def write_private(directory, name, text):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--natrix", default="build/src/app/natrix")
    ap.add_argument("--nats-server", default="")
    ap.add_argument("--bench", default="")
    ap.add_argument("--keys", default="build/src/tools/natrix_keys/natrix-keys")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--methods", default="nkey,plain")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = ap.parse_args()

    natrix = executable(a.natrix, "natrix", "build it with `ninja -C build src/app/natrix`")
    keys = executable(a.keys, "natrix-keys",
                      "build it with `ninja -C build src/tools/natrix_keys/natrix-keys`")
    bench = cmp.find_bench(a.bench)
    nats = cmp.find_nats_server(a.nats_server)
    methods = [m for m in a.methods.split(",") if m]
    for m in methods:
        if m not in ("nkey", "plain"):
            die("unknown method '%s' (nkey, plain)" % m)
    load_start = list(os.getloadavg())
    work = tempfile.mkdtemp(prefix="auth-connect-rate-")

    seed, public = gen_user_key(keys)
    seed_file = write_private(work, "user.nk", seed + "\n")
    password = "bench-" + os.urandom(6).hex()
    configs = {
        "nkey": write_private(work, "nkey.conf",
                              "authorization { users: [ {nkey: %s} ] }\n" % public),
        "plain": write_private(work, "plain.conf",
                               "authorization { users: [ {user: bench, password: \"%s\"} ] }\n"
                               % password),
    }
    client_auth = {
        "nkey": ["--nkey-seed-file", seed_file],
        "plain": ["--user", "bench", "--pass", password],
    }
    scpu, ccpu = str(a.server_cpu), str(a.client_cpu)

    def servers_for(method):
        conf = configs[method]
        return [
            cmp.Server("nats-server",
                       lambda p: ["taskset", "-c", scpu, nats, "-a", "127.0.0.1", "-p", str(p),
                                  "-c", conf], None, env={"GOMAXPROCS": "1"}),
            cmp.Server("natrix",
                       lambda p: ["taskset", "-c", scpu, natrix, "-a", "127.0.0.1", "-p", str(p),
                                  "-c", conf, "--shards", "1", "--cpus", scpu], None),
        ]

    def one_run(server, method):
        # run_bench runs [binary] + args + --json -q: taskset, then natrix-bench and its options.
        args = ["-c", ccpu, bench, "conns", "-c", str(a.clients), "-d", "100ms",
                "--ping-interval", "10s", "--cpus", ccpu,
                "-s", "nats://127.0.0.1:%d" % server.port] + client_auth[method]
        doc, err = cmp.run_bench("taskset", args, timeout=120)
        if err:
            return None, err
        f = doc["figures"]
        return {"connections_per_s": f["connect_rate_per_s"], "connected": f["connected"],
                "connect_seconds": f["connect_seconds"],
                "handshake_p50_ns": f["handshake_p50_ns"],
                "handshake_p99_ns": f["handshake_p99_ns"]}, None

    results = {}
    failed = False
    try:
        for method in methods:
            srv = servers_for(method)
            for s in srv:
                why = s.start()
                if why is not None:
                    die("%s did not start with %s: %s" % (s.name, configs[method], why[:400]))
            log("%s: servers up (nats-server :%d, natrix :%d); warm-up" %
                (method, srv[0].port, srv[1].port))
            for s in srv:
                _, err = one_run(s, method)
                if err:
                    die("%s warm-up against %s failed: %s" % (method, s.name, err))
            rounds = []
            for r in range(a.rounds):
                row = {}
                for s in srv:
                    fig, err = one_run(s, method)
                    if err:
                        log("%s round %d %s: %s" % (method, r + 1, s.name, err))
                        failed = True
                        continue
                    row[s.name] = fig
                    log("%s round %d %-11s %9.0f conn/s  handshake p50 %6.0f us" %
                        (method, r + 1, s.name, fig["connections_per_s"],
                         fig["handshake_p50_ns"] / 1e3))
                rounds.append(row)
            for s in srv:
                if not s.alive():
                    failed = True
                    log("%s: %s died: %s" % (method, s.name, s.output()[-400:]))
                s.stop()
            rates = {n: [r[n]["connections_per_s"] for r in rounds if n in r]
                     for n in ("nats-server", "natrix")}
            ratios = [r["natrix"]["connections_per_s"] / r["nats-server"]["connections_per_s"]
                      for r in rounds if "natrix" in r and "nats-server" in r]
            results[method] = {
                "rounds": rounds,
                "median_connections_per_s": {n: cmp.median(v) for n, v in rates.items()},
                "median_handshake_p50_ns": {
                    n: cmp.median([r[n]["handshake_p50_ns"] for r in rounds if n in r])
                    for n in ("nats-server", "natrix")},
                "ratio_natrix_over_nats_server": {
                    "median": cmp.median(ratios),
                    "min": min(ratios) if ratios else None,
                    "max": max(ratios) if ratios else None},
            }
    finally:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)

    print("authenticated connection setup, %d connections per run, %d rounds, A B A B" %
          (a.clients, a.rounds))
    print("%-7s %16s %16s %22s %18s" % ("method", "nats-server c/s", "natrix c/s",
                                        "ratio natrix/nats (range)", "hs p50 nats/natrix"))
    for method, res in results.items():
        med = res["median_connections_per_s"]
        ratio = res["ratio_natrix_over_nats_server"]
        hs = res["median_handshake_p50_ns"]

        def num(v, scale=1.0):
            return "%.0f" % (v / scale) if v is not None else "-"
        ratio_text = ("%.2f (%.2f-%.2f)" % (ratio["median"], ratio["min"], ratio["max"])
                      if ratio["median"] is not None else "-")
        print("%-7s %16s %16s %22s %18s" % (
            method, num(med["nats-server"]), num(med["natrix"]), ratio_text,
            "%s / %s us" % (num(hs["nats-server"], 1e3), num(hs["natrix"], 1e3))))

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "auth-connect-rate-%s.json" % stamp)
    doc = {
        "what": "authenticated connection setup rate (natrix-bench conns): connect, INFO, "
                "CONNECT (+ nkey signature of the nonce, or user/password), PING/PONG",
        "method": {"rounds": a.rounds, "order": "A B A B (nats-server, natrix)",
                   "clients_per_run": a.clients, "warmup_runs": 1,
                   "handshakes_in_flight_max": 256},
        "pinning": {"servers": "taskset -c %s (nats-server GOMAXPROCS=1; natrix --shards 1 "
                               "--cpus %s)" % (scpu, scpu),
                    "client": "taskset -c %s, natrix-bench --cpus %s" % (ccpu, ccpu)},
        "configs": {"nkey": "authorization { users: [ {nkey: %s} ] }" % public,
                    "plain": "authorization { users: [ {user: bench, password: <random>} ] }"},
        "machine": cmp.machine_info(load_start),
        "versions": {"nats-server": cmp.version_of(nats), "natrix": cmp.version_of(natrix)},
        "binaries": {"natrix": natrix, "nats-server": nats, "natrix-bench": bench},
        "git_commit": cmp.git_commit(),
        "results": results,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    log("wrote " + os.path.relpath(path, ROOT))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
