#!/usr/bin/env python3
"""natrix against nats-server, measured with the STOCK nats.go client (bench/stock/natsgo_bench.go).

natrix-bench reads faster than any real client (and once hid an 80% loss), so this comparison uses
Debian's nats.go 1.22 the way `nats bench` does: one connection per publisher and per subscriber,
nc.Publish as fast as the library allows, async subscription callbacks. Every message carries its
publisher id and sequence; a run that loses, duplicates or reorders anything FAILS and its figure is
left out of the medians (the table says so).

Both brokers run side by side on free loopback ports, pinned like bench/compare: servers on the
first half of the usable CPUs (natrix --shards = that many, nats-server GOMAXPROCS = that many),
the client on the other half. On a 2-core machine: servers on cpu 0, client on cpu 1. After one
warm-up run per server, every scenario runs A B A B for --rounds rounds:

  pub/sub 1->1, fan-out 1->4 and a queue group of 4, each at 128 B and 1 KiB.

Reported per scenario: median delivered msg/s (deliveries over the receive window) for each
server, natrix / nats-server, failed runs, and the CPU each side used. When both servers land near
the same rate and the client's CPUs were saturated, the stock client is the limit, and the output
says so. JSON (machine, load, pinning, versions, every round's raw output, medians) goes to
bench/results/stock-compare-<date>.json; the markdown table to stdout.

Message counts: fan-out publishes --msgs-128 (1M) or --msgs-1k (300k) messages, 1->1 and queue runs
3 times as many, so that every run takes a few seconds.

--tls: both servers get the same TLS flags (--tls --tlscert --tlskey, a fresh EC P-256 certificate
from tests/integration/tls_certs.sh) and every client connection is TLS (natsgo-bench -tls-ca); the
JSON is then stock-compare-tls-<date>.json. natrix runs TLS in user space (OpenSSL memory BIOs):
kernel TLS needs CONFIG_TLS, which this machine's kernel lacks.

usage: bench/stock_compare.py [--tls] [--rounds 3] [--msgs-128 1000000] [--msgs-1k 300000]
           [--scenarios pubsub-128,...] [--natrix PATH] [--nats-server PATH] [--go-bench PATH]
           [--server-cpus LIST] [--client-cpus LIST] [--no-pin] [--shards N] [--spin-ns NS]
           [--timeout S] [--natrix-args "..."] [--out DIR]
`tools/dev bench stock [args]` builds natrix and the Go program, then runs this.
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()

# (id, label, subscribers, queue group?, size, count factor). A run publishes factor x the base
# count for its size (--msgs-128 / --msgs-1k): fan-out delivers every message 4 times, so 1->1 and
# queue runs publish 3x as many to last about as long (a few seconds each on a 2-core machine).
SCENARIOS = [
    ("pubsub-128", "pub/sub 1->1, 128 B", 1, False, 128, 3),
    ("pubsub-1k", "pub/sub 1->1, 1 KiB", 1, False, 1024, 3),
    ("fanout4-128", "fan-out 1->4, 128 B", 4, False, 128, 1),
    ("fanout4-1k", "fan-out 1->4, 1 KiB", 4, False, 1024, 1),
    ("queue4-128", "queue group of 4, 128 B", 4, True, 128, 3),
    ("queue4-1k", "queue group of 4, 1 KiB", 4, True, 1024, 3),
]

# Both medians within this factor of each other: "the same rate".
SAME_RATE = 0.10
# The client's CPUs count as saturated when its process used this fraction of them, or when
# they were this busy altogether (the machine is shared: other work may take the rest).
CLIENT_SATURATED = 0.85
CORES_BUSY = 0.90
# ...while each server used less than this fraction of its CPUs.
SERVER_HEADROOM = 0.75

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("stock_compare: error: " + msg)
    sys.exit(2)


def proc_cpu_s(pid):
    """User + system CPU seconds of a process (all its threads), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def cpu_times(cpus):
    """(busy, total) jiffies of the given CPUs from /proc/stat: everyone's work, not just ours."""
    busy = total = 0
    try:
        with open("/proc/stat") as f:
            for line in f:
                name = line.split(" ", 1)[0]
                if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
                    continue
                v = [int(x) for x in line.split()[1:9]]
                total += sum(v)
                busy += sum(v) - v[3] - v[4]  # less idle and iowait
    except (OSError, ValueError):
        return None
    return busy, total


def busy_fraction(before, after):
    if not before or not after or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


def find_go_bench(explicit):
    """The natsgo-bench binary; built with bench/stock/build.sh when not given."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            die("%s is not an executable" % explicit)
        return explicit
    out = os.path.join(ROOT, "build/bench/stock/natsgo-bench")
    log("stock_compare: building %s (bench/stock/build.sh)" % os.path.relpath(out, ROOT))
    r = subprocess.run([os.path.join(ROOT, "bench/stock/build.sh"), out], capture_output=True,
                       text=True)
    if r.returncode != 0 or not os.access(out, os.X_OK):
        die("bench/stock/build.sh failed: " + (r.stderr or r.stdout).strip()[-500:])
    return out


def go_version():
    try:
        return subprocess.run(["go", "version"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


TLS_CA = None  # --tls: the CA file the clients verify the servers against


def run_client(go_bench, server, sc, msgs, client_cpus, spin_ns, timeout_s):
    """One natsgo-bench run against server; returns the entry recorded for it."""
    subs, queue, size = sc[2], sc[3], sc[4]
    argv = [go_bench, "-s", "nats://127.0.0.1:%d" % server.port] + \
        (["-tls-ca", TLS_CA] if TLS_CA else []) + [
            "-subject", "stock.%s" % sc[0], "-pubs", "1", "-subs", str(subs),
            "-msgs", str(msgs), "-size", str(size), "-timeout", "%ds" % timeout_s]
    if queue:
        argv += ["-queue", "q"]
    if spin_ns:
        argv += ["-spin-ns", str(spin_ns)]

    def pin():
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)

    entry = {"server": server.name, "argv": argv[1:], "load_avg_1m": os.getloadavg()[0]}
    server_cpu0 = proc_cpu_s(server.proc.pid)
    ccpus = client_cpus or sorted(os.sched_getaffinity(0))
    scpus = server.cpus or sorted(os.sched_getaffinity(0))
    c0, s0 = cpu_times(ccpus), cpu_times(scpus)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=pin, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        entry["error"] = "natsgo-bench did not finish within %d s" % (timeout_s + 30)
    wall = time.monotonic() - t0
    server_cpu1 = proc_cpu_s(server.proc.pid)
    # How busy the client's and the servers' cores were (all processes: the machine is shared).
    entry["client_cores_busy"] = busy_fraction(c0, cpu_times(ccpus))
    entry["server_cores_busy"] = busy_fraction(s0, cpu_times(scpus))
    # The client's CPU time: the child's rusage, read once it has been reaped by communicate().
    entry["wall_s"] = round(wall, 3)
    if server_cpu0 is not None and server_cpu1 is not None and wall > 0:
        entry["server_cpu_s"] = round(server_cpu1 - server_cpu0, 3)
        entry["server_cpu_util"] = round((server_cpu1 - server_cpu0) / wall, 3)
    entry["exit"] = proc.returncode
    doc = None
    for line in reversed(stdout.strip().splitlines()):
        try:
            doc = json.loads(line)
            break
        except ValueError:
            continue
    if doc is None:
        entry.setdefault("error", "exit %s, no JSON: %s" % (proc.returncode,
                                                           (stderr or stdout).strip()[-300:]))
        entry["ok"] = False
        return entry
    entry["result"] = doc
    if entry.get("server_cpu_s") is not None and doc.get("received"):
        # Server CPU per delivery: what the server spent, whichever side set the pace.
        entry["server_cpu_ns_per_delivery"] = round(1e9 * entry["server_cpu_s"] / doc["received"],
                                                    1)
    failed = (doc.get("lost") or doc.get("out_of_order") or doc.get("duplicates") or
              doc.get("timed_out") or proc.returncode != 0)
    entry["ok"] = not failed and "error" not in entry
    if stderr.strip():
        entry["stderr"] = stderr.strip()[-500:]
    return entry


class ClientClock:
    """CPU time of reaped children (RUSAGE_CHILDREN): the clients' CPU use, run by run."""

    def __init__(self):
        self.last = self.now()

    @staticmethod
    def now():
        t = os.times()
        return t.children_user + t.children_system

    def take(self):
        now = self.now()
        used, self.last = now - self.last, now
        return used


def describe_failure(entry):
    d = entry.get("result")
    if not d:
        return entry.get("error", "failed")
    parts = []
    for k in ("lost", "out_of_order", "duplicates"):
        if d.get(k):
            parts.append("%s %d" % (k.replace("_", "-"), d[k]))
    if d.get("timed_out"):
        parts.append("timed out")
    if d.get("errors"):
        parts.append("errors: " + "; ".join(d["errors"])[:200])
    if not parts:
        parts.append("exit %s" % entry.get("exit"))
    return ", ".join(parts)


def fmt_rate(v):
    return cmp.fmt_value(v, "msg/s") if v is not None else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--natrix", default=os.path.join(ROOT, "build/src/app/natrix"),
                    help="natrix binary (default build/src/app/natrix)")
    ap.add_argument("--nats-server", help="nats-server binary (default: from PATH, /usr/sbin)")
    ap.add_argument("--go-bench", help="natsgo-bench binary (default: build it with "
                    "bench/stock/build.sh into build/bench/stock/natsgo-bench)")
    ap.add_argument("--rounds", type=int, default=3, help="A B rounds per scenario (default 3)")
    ap.add_argument("--msgs-128", type=int, default=1000000,
                    help="base message count at 128 B (default 1000000): fan-out publishes "
                    "this many, 1->1 and queue runs 3 times as many")
    ap.add_argument("--msgs-1k", type=int, default=300000,
                    help="base message count at 1 KiB (default 300000), likewise")
    ap.add_argument("--scenarios", help="comma-separated ids (default all: %s)"
                    % ",".join(s[0] for s in SCENARIOS))
    ap.add_argument("--spin-ns", type=int, default=0,
                    help="busy work per message in every subscriber callback (default 0)")
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds one run may wait for its messages (default 60)")
    ap.add_argument("--shards", type=int, help="natrix shards (default: number of server CPUs)")
    ap.add_argument("--natrix-args", default="",
                    help="extra natrix arguments, shell-split (e.g. \"-c flow.conf\")")
    ap.add_argument("--server-cpus", help="CPUs for the brokers (default: first half)")
    ap.add_argument("--client-cpus", help="CPUs for the client (default: the other half)")
    ap.add_argument("--no-pin", action="store_true", help="pin nothing")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warm-up run per server")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results"),
                    help="directory for the JSON (default bench/results)")
    ap.add_argument("--tls", action="store_true", help="TLS on both servers and every client")
    args = ap.parse_args()
    global TLS_CA
    tls_flags = []
    if args.tls:
        certs = tempfile.mkdtemp(prefix="stock-tls-")
        subprocess.run([os.path.join(ROOT, "tests/integration/tls_certs.sh"), certs], check=True)
        TLS_CA = os.path.join(certs, "ca.pem")
        tls_flags = ["--tls", "--tlscert", os.path.join(certs, "server.pem"),
                     "--tlskey", os.path.join(certs, "server.key")]
    if args.rounds < 1:
        die("--rounds must be at least 1")

    scenarios = SCENARIOS
    if args.scenarios:
        wanted = args.scenarios.split(",")
        unknown = [w for w in wanted if w not in [s[0] for s in SCENARIOS]]
        if unknown:
            die("unknown scenario(s) %s; have %s" % (",".join(unknown),
                                                     ",".join(s[0] for s in SCENARIOS)))
        scenarios = [s for s in SCENARIOS if s[0] in wanted]

    nats = cmp.find_nats_server(args.nats_server)
    natrix = args.natrix if os.path.isabs(args.natrix) else os.path.join(ROOT, args.natrix)
    if not os.access(natrix, os.X_OK):
        die("natrix not found at %s; build it with `tools/dev build`" % args.natrix)
    go_bench = find_go_bench(args.go_bench)

    usable = sorted(os.sched_getaffinity(0))
    if args.no_pin:
        server_cpus, client_cpus = [], []
    else:
        half = max(1, len(usable) // 2)
        server_cpus = (cmp.parse_cpus(args.server_cpus) if args.server_cpus
                       else usable[:half])
        client_cpus = (cmp.parse_cpus(args.client_cpus) if args.client_cpus
                       else (usable[half:] or usable))
    shards = args.shards or max(1, len(server_cpus) or len(usable))
    n_client_cpus = len(client_cpus) or len(usable)
    n_server_cpus = len(server_cpus) or len(usable)

    t_start = time.monotonic()
    load_at_start = list(os.getloadavg())
    gomaxprocs = {"GOMAXPROCS": str(len(server_cpus))} if server_cpus else None
    extra = shlex.split(args.natrix_args)
    a = cmp.Server("nats-server", lambda p: [nats, "-a", "127.0.0.1", "-p", str(p)] + tls_flags,
                   server_cpus, gomaxprocs)
    err = a.start()
    if err:
        die("nats-server did not start: " + err[:300])
    b = cmp.Server("natrix", lambda p: [natrix, "-a", "127.0.0.1", "-p", str(p),
                                        "--shards", str(shards)] + tls_flags + extra,
                   server_cpus)
    err = b.start()
    if err:
        a.stop()
        die("natrix did not start: " + " / ".join(err.strip().splitlines())[:300])
    sides = [("a", a), ("b", b)]

    def msgs_for(sc):
        return sc[5] * (args.msgs_128 if sc[4] <= 128 else args.msgs_1k)

    log("stock_compare: %d round(s) of %d scenario(s); servers on CPUs [%s] (natrix %d shard(s), "
        "nats-server GOMAXPROCS %s), client on [%s]; load %.2f"
        % (args.rounds, len(scenarios), cmp.cpu_text(server_cpus), shards,
           len(server_cpus) or "default", cmp.cpu_text(client_cpus), load_at_start[0]))
    clock = ClientClock()
    warmup = {}
    results = []
    try:
        if not args.no_warmup:
            wsc = ("warmup", "warm-up", 1, False, 128, 1)
            for side, server in sides:
                e = run_client(go_bench, server, wsc, min(200000, args.msgs_128), client_cpus,
                               0, args.timeout)
                e["client_cpu_s"] = round(clock.take(), 3)
                warmup[side] = e
                if not e["ok"]:
                    log("stock_compare: warm-up on %s failed: %s" % (server.name,
                                                                     describe_failure(e)))
        for sc in scenarios:
            sid, label = sc[0], sc[1]
            rounds_out = []
            for r in range(args.rounds):
                row = {}
                for side, server in sides:
                    if not server.alive():
                        row[side] = {"server": server.name, "ok": False,
                                     "error": "%s is not running" % server.name}
                        continue
                    e = run_client(go_bench, server, sc, msgs_for(sc), client_cpus,
                                   args.spin_ns, args.timeout)
                    cpu = clock.take()
                    e["client_cpu_s"] = round(cpu, 3)
                    if e.get("wall_s"):
                        e["client_cpu_util"] = round(cpu / e["wall_s"], 3)
                    row[side] = e
                    rate = e.get("result", {}).get("sub_msgs_per_s")
                    log("stock_compare: %-24s round %d %-11s %14s%s" % (
                        label, r + 1, server.name, fmt_rate(rate),
                        "" if e["ok"] else "  FAILED: " + describe_failure(e)))
                rounds_out.append(row)
            results.append({"id": sid, "label": label, "subs": sc[2], "queue": sc[3],
                            "size": sc[4], "msgs": msgs_for(sc), "rounds": rounds_out})
    finally:
        for _, server in sides:
            server.stop()

    # Medians over the runs that passed; failed runs are listed, never averaged in.
    for sc in results:
        summ = {}
        for side in ("a", "b"):
            ok = [rw[side] for rw in sc["rounds"] if rw.get(side, {}).get("ok")]
            bad = [(i + 1, rw[side]) for i, rw in enumerate(sc["rounds"])
                   if side in rw and not rw[side].get("ok")]
            summ[side] = {
                "median_sub_msgs_per_s": cmp.median([e["result"]["sub_msgs_per_s"] for e in ok]),
                "median_pub_msgs_per_s": cmp.median([e["result"]["pub_msgs_per_s"] for e in ok]),
                "runs_ok": len(ok), "runs_failed": len(bad),
                "failures": ["round %d: %s" % (i, describe_failure(e)) for i, e in bad],
                "median_client_cpu_util": cmp.median([e["client_cpu_util"] for e in ok
                                                      if "client_cpu_util" in e]),
                "median_server_cpu_util": cmp.median([e["server_cpu_util"] for e in ok
                                                      if "server_cpu_util" in e]),
                "median_server_cpu_ns_per_delivery": cmp.median(
                    [e["server_cpu_ns_per_delivery"] for e in ok
                     if e.get("server_cpu_ns_per_delivery") is not None]),
                "median_client_cores_busy": cmp.median([e["client_cores_busy"] for e in ok
                                                        if e.get("client_cores_busy") is not None]),
                "median_server_cores_busy": cmp.median([e["server_cores_busy"] for e in ok
                                                        if e.get("server_cores_busy") is not None]),
            }
        am, bm = summ["a"]["median_sub_msgs_per_s"], summ["b"]["median_sub_msgs_per_s"]
        ratios = [rw["b"]["result"]["sub_msgs_per_s"] / rw["a"]["result"]["sub_msgs_per_s"]
                  for rw in sc["rounds"] if rw.get("a", {}).get("ok") and rw.get("b", {}).get("ok")
                  and rw["a"]["result"]["sub_msgs_per_s"]]
        summ["ratio_of_medians"] = bm / am if am and bm else None
        summ["round_ratio_min"] = min(ratios) if ratios else None
        summ["round_ratio_max"] = max(ratios) if ratios else None
        same = summ["ratio_of_medians"] is not None and \
            abs(summ["ratio_of_medians"] - 1) <= SAME_RATE
        # The client is the limit when, for both servers, its process used nearly all of its
        # CPUs or its cores were busy (with it and whatever else runs there), while neither
        # server used more than SERVER_HEADROOM of its own CPUs.
        client_limited = server_headroom = True
        for x in ("a", "b"):
            cu, cb = summ[x]["median_client_cpu_util"], summ[x]["median_client_cores_busy"]
            su = summ[x]["median_server_cpu_util"]
            if not ((cu is not None and cu >= CLIENT_SATURATED * n_client_cpus) or
                    (cb is not None and cb >= CORES_BUSY)):
                client_limited = False
            if su is None or su >= SERVER_HEADROOM * n_server_cpus:
                server_headroom = False
        if same and client_limited and server_headroom:
            verdict = ("client-bound: both servers within %d%%, client's core(s) full, servers "
                       "below %d%% of theirs" % (100 * SAME_RATE, 100 * SERVER_HEADROOM))
        elif same:
            verdict = "both servers within %d%% of each other" % (100 * SAME_RATE)
        elif client_limited:
            verdict = "client's core(s) full in both runs, but the servers differ"
        else:
            verdict = ""
        saturated = client_limited and server_headroom
        summ["client_bound"] = same and saturated
        summ["verdict"] = verdict
        sc["summary"] = summ

    now = datetime.datetime.now()
    m = cmp.machine_info(load_at_start)
    client_version = next((rw[s]["result"].get("client_version") for sc in results
                           for rw in sc["rounds"] for s in ("a", "b")
                           if rw.get(s, {}).get("result")), "unknown")
    result = {
        "tool": "bench/stock_compare.py" + (" --tls" if args.tls else ""),
        "tls": bool(args.tls),
        "date": now.isoformat(timespec="seconds"),
        "git_commit": cmp.git_commit(),
        "rounds": args.rounds,
        "order": "per scenario, per round: nats-server then natrix (A B A B)",
        "machine": m,
        "load_avg_per_run_1m": [rw[s]["load_avg_1m"] for sc in results for rw in sc["rounds"]
                                for s in ("a", "b") if "load_avg_1m" in rw.get(s, {})],
        "pinning": {"server_cpus": cmp.cpu_text(server_cpus),
                    "client_cpus": cmp.cpu_text(client_cpus),
                    "natrix_shards": shards,
                    "nats_server_gomaxprocs": len(server_cpus) if server_cpus else None,
                    "how": "sched_setaffinity before exec (as taskset -c)"},
        "servers": {
            "a": {"label": "nats-server", "path": nats, "version": cmp.version_of(nats)},
            "b": {"label": "natrix", "path": natrix, "version": cmp.version_of(natrix),
                  "args": ["--shards", str(shards)] + extra,
                  "flow_control": ("natrix-args given" if extra else
                                   "built-in default (slow_consumer: throttle)")},
        },
        "client": {"program": "bench/stock/natsgo_bench.go", "binary": go_bench,
                   "library": client_version, "go": go_version(),
                   "publishers": 1, "pending_limits": "unlimited (SetPendingLimits(-1, -1))",
                   "spin_ns": args.spin_ns},
        "figure": "sub_msgs_per_s: deliveries per second from the first to the last delivery, "
                  "all subscribers together; medians over runs with no loss, reordering or "
                  "duplicates",
        "warmup": warmup,
        "scenarios": results,
        "elapsed_s": round(time.monotonic() - t_start, 1),
    }

    # The table.
    print()
    print("Stock nats.go client (%s), natrix / nats-server, median delivered msg/s over %d "
          "round(s) (A B A B)" % (client_version, args.rounds))
    print()
    print("Machine: %s, %d cores, kernel %s; load %.2f at start, %.2f at end. Servers on CPUs [%s] "
          "(natrix %d shard, nats-server GOMAXPROCS %s), client on [%s]. natrix: %s. %s."
          % (m["cpu_model"], m["cores"], m["kernel"], m["load_avg_start"][0],
             m["load_avg_end"][0], cmp.cpu_text(server_cpus), shards,
             len(server_cpus) or "default", cmp.cpu_text(client_cpus),
             result["servers"]["b"]["version"], result["servers"]["a"]["version"]))
    print()
    print("| scenario | msgs | nats-server msg/s | natrix msg/s | natrix / nats-server (round range) "
          "| runs OK (ns / natrix) | loss | client CPU (ns / natrix runs) | server CPU (ns / natrix) "
          "| server CPU per delivery (ns / natrix) | note |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    any_failed = False
    for sc in results:
        s = sc["summary"]
        fails = (["nats-server " + f for f in s["a"]["failures"]] +
                 ["natrix " + f for f in s["b"]["failures"]])
        any_failed = any_failed or bool(fails)
        ratio = s["ratio_of_medians"]
        rr = (" (%.2f-%.2f)" % (s["round_ratio_min"], s["round_ratio_max"])
              if s["round_ratio_min"] is not None else "")
        pct = lambda v: "%.0f%%" % (100 * v) if v is not None else "-"
        cu = ["%s (%s)" % (pct(s[x]["median_client_cpu_util"]),
                           pct(s[x]["median_client_cores_busy"])) for x in ("a", "b")]
        su = ["%s (%s)" % (pct(s[x]["median_server_cpu_util"]),
                           pct(s[x]["median_server_cores_busy"])) for x in ("a", "b")]
        nspd = " / ".join("%.0f ns" % v if v is not None else "-" for v in
                          (s["a"]["median_server_cpu_ns_per_delivery"],
                           s["b"]["median_server_cpu_ns_per_delivery"]))
        print("| %s | %s | %s | %s | %s | %d / %d | %s | %s | %s | %s | %s |" % (
            sc["label"], "{:,}".format(sc["msgs"]),
            fmt_rate(s["a"]["median_sub_msgs_per_s"]), fmt_rate(s["b"]["median_sub_msgs_per_s"]),
            ("**%.2f**%s" % (ratio, rr)) if ratio is not None else "-",
            s["a"]["runs_ok"], s["b"]["runs_ok"],
            "; ".join(fails) if fails else "none",
            " / ".join(cu), " / ".join(su), nspd, s["verdict"]))
    print()
    print("msg/s: deliveries per second (all subscribers together) from first to last delivery; "
          "fan-out counts each of the 4 copies. A run with any loss, reordering or duplicate "
          "FAILS: its figure is not in the median and the loss column names it. CPU: median "
          "CPU seconds per wall second of the process over each run (%d client CPU(s) = %d%%, "
          "%d server CPU(s) = %d%%), in brackets how busy its pinned core(s) were with "
          "everything that ran there (the machine is shared). Server CPU per delivery: the "
          "server's CPU time over the run divided by the deliveries (lower is cheaper; it holds "
          "even where the client sets the pace)."
          % (n_client_cpus, 100 * n_client_cpus, n_server_cpus, 100 * n_server_cpus))
    bound = [sc["label"] for sc in results if sc["summary"]["client_bound"]]
    if bound:
        print("The stock client is the bottleneck in: %s (both servers within %d%% while the "
              "client's core(s) were full and the servers had headroom): these rows measure "
              "nats.go on %d core(s), not the servers." % (", ".join(bound), 100 * SAME_RATE,
                                                          n_client_cpus))
    if m["cores"] and m["cores"] <= 4:
        print("Only %d cores, shared with other work: expect noisy numbers." % m["cores"])

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "stock-compare%s-%s.json" % ("-tls" if args.tls else "",
                                                               now.strftime("%Y%m%d-%H%M%S")))
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print()
    print("wrote %s (%.0f s)" % (os.path.relpath(path, ROOT), result["elapsed_s"]))
    if any_failed:
        log("stock_compare: some runs lost, reordered or duplicated messages (see the loss column)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
