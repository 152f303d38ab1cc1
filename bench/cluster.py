#!/usr/bin/env python3
"""A 3-node natrix cluster against a 3-node nats-server cluster, on this machine, in one run.

Each cluster is three processes on loopback with nats-server's `cluster {}` block, the same config
text for both brokers (only the ports differ): node 1 is the seed, nodes 2 and 3 list only node 1 in
`routes`, and the full mesh is discovered by gossip. Every node has an `http:` port; the run starts
once /routez shows num_routes == 2 on every node, and each measurement is bracketed by the same
check (a route lost during a run makes it invalid). Both clusters stay up for the whole run; the
idle one is measured too (its CPU seconds during the other's runs).

Pinning (2-core default): all six server processes on cpu 0 (`taskset -c 0`; natrix `--shards 1`,
nats-server GOMAXPROCS=1), every client and this script on cpu 1.

Scenarios, cross-node (publisher on node 1, subscribers elsewhere):
  pubsub-x-128  1 publisher on n1 -> 1 subscriber on n2, 128 B
  fanout2-1k    1 publisher on n1 -> subscribers on n2 and n3, 1 KiB
  queue3-128    queue group of 3 members (n1, n2, n3), publisher on n1, 128 B, exactly-once checked
  reqrep-x-128  requester on n1, responder on n2, 128 B: round trip p50/p99 and requests/s
  stock-x-128   stock nats.go client (natsgo-bench): 1 pub on n1 -> 1 sub on n2, 128 B, fixed count

natrix-bench gives publisher i and subscriber i the same server (both take servers[i % n]), so the
two stream scenarios run as two natrix-bench processes: `sub` on n2 (and n3), then, once a probe
published on n1 reaches a probe subscriber on each of those nodes (so n1 has learned their
interest), `pub` on n1 for --duration. Loss = published x subscribers - received, plus the sub's own
order/duplicate checks. queue and reqrep are one natrix-bench process each (`-s n1,n2,n3` and
`-s n2,n1`: members/responders take the first URLs, the publisher/requester n1). The stock run
uses natsgo-bench's -pub-url/-sub-url, which probes the route the same way before publishing.

A B A B: for each round and scenario, nats-server's cluster then natrix's. Each figure is the median
over valid rounds; the ratio is the median of the per-round ratios natrix / nats-server. Any loss,
duplicate, reorder, error or lost route makes that run's figures invalid: they are kept in the JSON
(marked) and left out of the medians. Server logs are scanned for warnings and errors at the end.

--supercluster: the same three servers as three single-server clusters A (n1), B (n2) and C (n3)
joined by gateways, each listing the other two in `gateway { gateways: [...] }`; readiness is
/gatewayz showing two outbound and two inbound gateways on every server. Every scenario then crosses
a gateway (pub/sub A -> B, fan-out A -> B+C, request A -> reply B, nats.go A -> B); the queue
scenario is left out (a group is served in the publisher's own cluster first, so it would not cross).

usage: bench/cluster.py [--rounds 2] [--duration 6] [--warmup 1] [--stock-msgs 1000000]
                        [--server-cpu 0] [--client-cpu 1] [--supercluster] [--quick] [--out FILE]
                        [--keep-logs DIR]
Writes bench/results/cluster-YYYYMMDD.json (supercluster-YYYYMMDD.json with --supercluster; --quick:
/tmp/...-quick-YYYYMMDD.json) and prints a table. Exit status 1 if any run was invalid.
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from compare_module import load_compare  # noqa: E402 (bench/ is the script's own folder)

cmp = load_compare()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (id, label, kind)
SCENARIOS = [
    ("pubsub-x-128", "pub/sub n1 -> n2, 128 B", "split"),
    ("fanout2-1k", "fan-out n1 -> n2+n3, 1 KiB", "split"),
    ("queue3-128", "queue of 3 (n1,n2,n3), pub n1, 128 B", "queue"),
    ("reqrep-x-128", "request n1 -> reply n2, 128 B", "reqrep"),
    ("stock-x-128", "nats.go pub n1 -> sub n2, 128 B", "stock"),
]

# Figures per kind: name -> (unit, higher_is_better). The first one is the headline.
FIGURES = {
    "split": {"delivered_msgs_per_s": ("msg/s", True), "published_msgs_per_s": ("msg/s", True)},
    "queue": {"delivered_msgs_per_s": ("msg/s", True), "member_share_min": ("", True),
              "member_share_max": ("", False)},
    "reqrep": {"rtt_p50_ns": ("ns", False), "rtt_p99_ns": ("ns", False),
               "requests_per_s": ("req/s", True)},
    "stock": {"delivered_msgs_per_s": ("msg/s", True), "published_msgs_per_s": ("msg/s", True)},
}

LOG_PATTERN = re.compile(r"\[(WRN|ERR|FTL)\]|slow consumer|panic|route.*closed|router connection "
                         r"closed|gateway connection.*closed|stale connection|write deadline",
                         re.IGNORECASE)
SUPER = False  # --supercluster: three single-server clusters joined by gateways


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log("cluster: error: " + msg)
    sys.exit(2)


def http_json(port, path, timeout=2.0):
    """GET a monitoring endpoint; natrix answers 503 while its shard is busy: ask again."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                        timeout=timeout) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def proc_cpu_s(pid):
    """utime + stime of a process, seconds (None once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks(cpu):
    """(busy, total) jiffies of one CPU from /proc/stat (every process on it, not only ours)."""
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu%d " % cpu):
                    v = [int(x) for x in line.split()[1:9]]
                    return sum(v) - v[3] - v[4], sum(v)
    except (OSError, ValueError):
        pass
    return None


def busy(before, after):
    if not before or not after or after[1] <= before[1]:
        return None
    return round((after[0] - before[0]) / (after[1] - before[1]), 3)


class Node:
    def __init__(self, idx):
        self.idx = idx
        self.name = "n%d" % (idx + 1)
        self.client_port = cmp.free_port()
        self.route_port = cmp.free_port()
        self.http_port = cmp.free_port()
        self.gateway_port = cmp.free_port()
        self.proc = None
        self.conf = None
        self.log_path = None
        self.log_reader = None  # kept open: the log stays readable even if /tmp is cleaned

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.client_port


class Cluster:
    """Three nodes of one broker on loopback, node 1 the seed, all pinned to one CPU."""

    def __init__(self, label, binary, server_cpu, workdir, extra_args):
        self.label = label
        self.binary = binary
        self.server_cpu = server_cpu
        self.dir = os.path.join(workdir, label)
        os.makedirs(self.dir, exist_ok=True)
        self.nodes = [Node(i) for i in range(3)]
        self.extra_args = extra_args
        self.mesh_s = None

    def config_text(self, node):
        if SUPER:
            names = "ABC"
            remotes = "".join("    {name: %s, url: \"nats://127.0.0.1:%d\"}\n"
                              % (names[o.idx], o.gateway_port) for o in self.nodes if o is not node)
            return ("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                    "gateway {\n  name: %s\n  listen: 127.0.0.1:%d\n  gateways: [\n%s  ]\n}\n"
                    % (node.name, node.client_port, node.http_port, names[node.idx],
                       node.gateway_port, remotes))
        seed = self.nodes[0]
        routes = ("" if node.idx == 0 else
                  "  routes: [nats-route://127.0.0.1:%d]\n" % seed.route_port)
        return ("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\n"
                "cluster {\n  name: bench\n  listen: 127.0.0.1:%d\n%s}\n"
                % (node.name, node.client_port, node.http_port, node.route_port, routes))

    def argv(self, node):
        cmd = ["taskset", "-c", str(self.server_cpu), self.binary, "-c", node.conf]
        if self.label == "natrix":
            cmd += ["--shards", "1"] + self.extra_args
        return cmd

    def env(self):
        env = dict(os.environ)
        if self.label == "nats-server":
            env["GOMAXPROCS"] = "1"
        return env

    def start(self):
        t0 = time.monotonic()
        for node in self.nodes:
            node.conf = os.path.join(self.dir, node.name + ".conf")
            with open(node.conf, "w") as f:
                f.write(self.config_text(node))
            node.log_path = os.path.join(self.dir, node.name + ".log")
            out = open(node.log_path, "w")
            node.log_reader = open(node.log_path, errors="replace")
            node.proc = subprocess.Popen(self.argv(node), stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env())
            out.close()
            deadline = time.monotonic() + 10
            while not cmp.port_open(node.client_port):
                if node.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    die("%s %s did not start: %s" % (self.label, node.name,
                                                     self.log_tail(node)))
                time.sleep(0.02)
        problems = self.wait_mesh(30)
        if problems:
            self.stop()
            die("%s cluster did not form a full mesh: %s" % (self.label, "; ".join(problems)))
        self.mesh_s = round(time.monotonic() - t0, 2)
        log("cluster: %s cluster up, full mesh in %.2f s (client ports %s)"
            % (self.label, self.mesh_s, ",".join(str(n.client_port) for n in self.nodes)))

    def log_text(self, node):
        if node.log_reader is None:
            return None
        node.log_reader.seek(0)
        return node.log_reader.read()

    def log_tail(self, node, n=5):
        text = self.log_text(node)
        return " / ".join(text.strip().splitlines()[-n:]) if text else "no log"

    def route_problems(self):
        """Empty when every node is running with num_routes == 2."""
        problems = []
        for node in self.nodes:
            if node.proc is None or node.proc.poll() is not None:
                problems.append("%s exited (%s)" % (node.name, self.log_tail(node, 3)))
                continue
            if SUPER:
                try:
                    gz = http_json(node.http_port, "/gatewayz")
                except (OSError, ValueError) as e:
                    problems.append("%s /gatewayz: %s" % (node.name, e))
                    continue
                nout = len(gz.get("outbound_gateways") or {})
                nin = sum(len(v) for v in (gz.get("inbound_gateways") or {}).values())
                if nout != 2 or nin != 2:
                    problems.append("%s gateways out=%d in=%d" % (node.name, nout, nin))
                continue
            try:
                rz = http_json(node.http_port, "/routez")
            except (OSError, ValueError) as e:
                problems.append("%s /routez: %s" % (node.name, e))
                continue
            if rz.get("num_routes") != 2:
                problems.append("%s num_routes=%s" % (node.name, rz.get("num_routes")))
        return problems

    def wait_mesh(self, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            problems = self.route_problems()
            if not problems or time.monotonic() > deadline:
                return problems
            time.sleep(0.1)

    def routez(self):
        out = {}
        if SUPER:
            for node in self.nodes:
                try:
                    gz = http_json(node.http_port, "/gatewayz")
                    out[node.name] = {"outbound": {k: {f: v["connection"].get(f) for f in (
                        "name", "rtt", "pending_bytes", "in_msgs", "out_msgs", "out_bytes")}
                        for k, v in (gz.get("outbound_gateways") or {}).items()}}
                except (OSError, ValueError) as e:
                    out[node.name] = {"error": str(e)}
            return out
        for node in self.nodes:
            try:
                rz = http_json(node.http_port, "/routez")
                out[node.name] = {"num_routes": rz.get("num_routes"), "routes": [
                    {k: r.get(k) for k in ("remote_id", "remote_name", "did_solicit", "rtt",
                                           "pending_size", "in_msgs", "out_msgs", "in_bytes",
                                           "out_bytes", "subscriptions", "paused") if k in r}
                    for r in rz.get("routes", [])]}
            except (OSError, ValueError) as e:
                out[node.name] = {"error": str(e)}
        return out

    def cpu_s(self):
        vals = [proc_cpu_s(n.proc.pid) for n in self.nodes if n.proc]
        return sum(v for v in vals if v is not None)

    def rss_mb(self):
        return {n.name: round(cmp.rss_bytes(n.proc.pid) / 2**20, 1) for n in self.nodes if n.proc}

    def log_findings(self):
        """Warning/error lines of each node's log (route closures, slow consumers, ...)."""
        out = {}
        for node in self.nodes:
            text = self.log_text(node)
            if not text:
                out[node.name] = {"count": 1, "lines": ["(no log output at all)"]}
                continue
            lines = [ln for ln in text.splitlines() if LOG_PATTERN.search(ln)]
            out[node.name] = {"count": len(lines), "lines": lines[:30]}
        return out

    def save_logs(self, folder):
        """Configs and full logs into folder/<label>/ (from the open handles)."""
        d = os.path.join(folder, self.label)
        os.makedirs(d, exist_ok=True)
        for node in self.nodes:
            with open(os.path.join(d, node.name + ".conf"), "w") as f:
                f.write(self.config_text(node))
            with open(os.path.join(d, node.name + ".log"), "w") as f:
                f.write(self.log_text(node) or "")

    def stop(self):
        for node in self.nodes:
            if node.proc and node.proc.poll() is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            if node.proc and node.proc.poll() is None:
                try:
                    node.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait()

    def exit_codes(self):
        return {n.name: (n.proc.returncode if n.proc else None) for n in self.nodes}


# ---------------------------------------------------------------------------------------------
# Interest probe for the split runs (raw client protocol).

def nats_connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1,"name":"cluster-probe"}'
              b'\r\nPING\r\n')
    read_until(s, b"PONG\r\n", timeout)
    return s


def read_until(s, token, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return None
        if not chunk:
            raise OSError("server closed the probe connection")
        buf += chunk
    return buf


def wait_interest(pub_node, sub_nodes, tag, timeout_s=10.0):
    """Publish a probe on pub_node until a probe subscriber on each of sub_nodes receives it.

    The probe subscriptions are made after the bench subscribers' (whose PONG has come back), so
    each node announces them later on the same route: once a probe gets through, pub_node knows the
    bench subscriptions too. Returns the seconds it took, or raises RuntimeError."""
    t0 = time.monotonic()
    socks = []
    try:
        pub = nats_connect(pub_node.client_port)
        socks.append(pub)
        pending = {}
        for n in sub_nodes:
            s = nats_connect(n.client_port)
            socks.append(s)
            subj = "_CLUSTER_PROBE.%s.%s" % (tag, n.name)
            s.sendall(("SUB %s 1\r\nPING\r\n" % subj).encode())
            read_until(s, b"PONG\r\n", 5)
            pending[n.name] = (s, subj)
        while pending:
            if time.monotonic() - t0 > timeout_s:
                raise RuntimeError("interest of %s not seen on %s after %.0f s"
                                   % (",".join(pending), pub_node.name, timeout_s))
            for name, (s, subj) in list(pending.items()):
                pub.sendall(("PUB %s 0\r\n\r\nPING\r\n" % subj).encode())
                read_until(pub, b"PONG\r\n", 5)
                got = read_until(s, b"MSG ", 0.05)
                if got:
                    del pending[name]
        return round(time.monotonic() - t0, 3)
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------------------------------------
# Runs. Each returns an entry: figures, checks, validity, raw details.

def run_split(ctx, cl, sid, size, nsubs, tag):
    """natrix-bench sub on n2 (and n3), then natrix-bench pub on n1 for the duration."""
    n1 = cl.nodes[0]
    sub_nodes = cl.nodes[1:1 + nsubs]
    subject = "bench.cluster.%s" % tag
    entry = {"clients": {"pub": [n1.name], "sub": [n.name for n in sub_nodes]}}
    sub_cmd = [ctx.bench, "sub", "-s", ",".join(n.url for n in sub_nodes), "-S", str(nsubs),
               "-m", size, "--subject", subject, "-d", str(ctx.duration + 120),
               "--drain-timeout", "1s", "--cpus", str(ctx.client_cpu), "--json", "-q"]
    pub_args = ["pub", "-s", n1.url, "-m", size, "--subject", subject,
                "-d", str(ctx.duration), "--cpus", str(ctx.client_cpu)]
    entry["argv"] = {"sub": sub_cmd[1:], "pub": pub_args + ["--json", "-q"]}
    errors = []
    pub_doc = None
    sub = subprocess.Popen(sub_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # "N subscriber(s) ready" on stderr once every subscriber's PONG is back.
        ready_line = sub.stderr.readline()
        if "ready" not in ready_line:
            raise RuntimeError("sub did not get ready: " + ready_line.strip()[:300])
        entry["interest_probe_s"] = wait_interest(n1, sub_nodes, tag)
        pub_doc, e = cmp.run_bench(ctx.bench, pub_args, ctx.duration + 60)
        if e:
            errors.append("pub: " + e)
        out, err = sub.communicate(timeout=ctx.duration + 60)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        errors.append(str(e))
        sub.kill()
        out, err = sub.communicate()
    try:
        sub_doc = json.loads(out)
    except ValueError:
        sub_doc = None
        errors.append("sub: exit %s, no JSON: %s" % (sub.returncode, (err or "").strip()[:300]))
    if sub_doc is not None and sub.returncode != 0:
        errors.append("sub: exit %d: %s" % (sub.returncode, (err.strip() or
                                                              str(sub_doc.get("errors")))[:300]))
    figures = {}
    checks = {}
    if pub_doc:
        figures["published_msgs_per_s"] = pub_doc["publish"]["msgs_per_s"]
        checks["published"] = pub_doc["publish"]["msgs"]
    if sub_doc:
        figures["delivered_msgs_per_s"] = sub_doc["deliver"]["msgs_per_s"]
        figures["deliver_per_sub_min_msgs_per_s"] = sub_doc.get("deliver_per_sub_min_msgs_per_s")
        sc = sub_doc.get("checks", {})
        checks["received"] = sc.get("received")
        for k in ("duplicated", "out_of_order", "unexpected"):
            checks[k] = sc.get(k, 0)
        checks["gaps_lost"] = sc.get("lost", 0)
    if "published" in checks and checks.get("received") is not None:
        checks["expected"] = checks["published"] * nsubs
        checks["lost"] = max(0, checks["expected"] - checks["received"]) + checks["gaps_lost"]
    entry.update(figures=figures, checks=checks, errors=errors)
    return entry


def run_one_bench(ctx, args):
    doc, e = cmp.run_bench(ctx.bench, args, ctx.duration + ctx.warmup + 60)
    return doc, ([e] if e else [])


def run_queue(ctx, cl, sid, tag):
    urls = ",".join(n.url for n in cl.nodes)  # members n1,n2,n3; publisher 0 on n1
    args = ["queue", "-p", "1", "-S", "3", "-s", urls, "-m", "128", "--subject",
            "bench.cluster.%s" % tag, "-d", str(ctx.duration), "-w", str(ctx.warmup),
            "--cpus", str(ctx.client_cpu)]
    doc, errors = run_one_bench(ctx, args)
    entry = {"clients": {"pub": ["n1"], "members": ["n1", "n2", "n3"]},
             "argv": args + ["--json", "-q"], "errors": errors, "figures": {}, "checks": {}}
    if doc:
        f = doc.get("figures", {})
        entry["figures"] = {"delivered_msgs_per_s": doc["deliver"]["msgs_per_s"],
                            "published_msgs_per_s": doc["publish"]["msgs_per_s"],
                            "member_share_min": f.get("member_share_min"),
                            "member_share_max": f.get("member_share_max")}
        entry["checks"] = doc.get("checks", {})
    return entry


def run_reqrep(ctx, cl, sid, tag):
    urls = ",".join([cl.nodes[1].url, cl.nodes[0].url])  # responder on n2, requester on n1
    args = ["reqrep", "-p", "1", "-S", "1", "-s", urls, "-m", "128", "--subject",
            "bench.cluster.%s" % tag, "-d", str(ctx.duration), "-w", str(ctx.warmup),
            "--cpus", str(ctx.client_cpu)]
    doc, errors = run_one_bench(ctx, args)
    entry = {"clients": {"requester": ["n1"], "responder": ["n2"]},
             "argv": args + ["--json", "-q"], "errors": errors, "figures": {}, "checks": {}}
    if doc:
        entry["figures"] = {"rtt_p50_ns": doc["latency_ns"]["p50"],
                            "rtt_p99_ns": doc["latency_ns"]["p99"],
                            "requests_per_s": doc["publish"]["msgs_per_s"]}
        entry["checks"] = doc.get("checks", {})
        entry["checks"]["responses_sent"] = doc.get("figures", {}).get("responses_sent")
    return entry


def run_stock(ctx, cl, sid, tag):
    argv = [ctx.go_bench, "-s", cl.nodes[0].url, "-pub-url", cl.nodes[0].url,
            "-sub-url", cl.nodes[1].url, "-subject", "stock.cluster.%s" % tag, "-pubs", "1",
            "-subs", "1", "-msgs", str(ctx.stock_msgs), "-size", "128",
            "-timeout", "%ds" % ctx.stock_timeout]
    entry = {"clients": {"pub": ["n1"], "sub": ["n2"]}, "argv": argv[1:], "errors": [],
             "figures": {}, "checks": {}}
    try:
        p = subprocess.run(["taskset", "-c", str(ctx.client_cpu)] + argv, capture_output=True,
                           text=True, timeout=ctx.stock_timeout + 30)
    except subprocess.TimeoutExpired:
        entry["errors"].append("natsgo-bench did not finish within %d s" % (ctx.stock_timeout + 30))
        return entry
    doc = None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            doc = json.loads(line)
            break
        except ValueError:
            continue
    if doc is None:
        entry["errors"].append("natsgo-bench exit %d, no JSON: %s"
                               % (p.returncode, (p.stderr or p.stdout).strip()[-300:]))
        return entry
    entry["figures"] = {"delivered_msgs_per_s": doc.get("sub_msgs_per_s"),
                        "published_msgs_per_s": doc.get("pub_msgs_per_s")}
    entry["checks"] = {k: doc.get(k) for k in ("published", "expected", "received", "lost",
                                               "out_of_order", "duplicates", "timed_out")}
    entry["client_version"] = doc.get("client_version")
    if doc.get("errors"):
        entry["errors"].extend(doc["errors"])
    if p.returncode != 0:
        entry["errors"].append("natsgo-bench exit %d" % p.returncode)
    return entry


def judge(entry):
    """Valid only with no loss, duplicate, reorder, error or lost route."""
    c = entry.get("checks", {})
    bad = []
    for k in ("lost", "duplicated", "duplicates", "out_of_order", "unexpected"):
        if c.get(k):
            bad.append("%s %s" % (k, c[k]))
    if c.get("ok") is False and not bad:
        bad.append("checks failed")
    if c.get("timed_out"):
        bad.append("timed out")
    if entry.get("errors"):
        bad.append("errors: " + "; ".join(entry["errors"])[:300])
    if entry.get("route_problems"):
        bad.append("routes: " + "; ".join(entry["route_problems"]))
    if not entry.get("figures"):
        bad.append("no figures")
    entry["valid"] = not bad
    entry["invalid_reason"] = "; ".join(bad) if bad else None
    return entry


def run_scenario(ctx, cl, other, sc, rnd):
    sid, _label, kind = sc
    tag = "%s.%s.r%d" % (sid.replace("-", "_"), cl.label.replace("-", "_"), rnd)
    before = cl.route_problems()
    other_cpu0 = other.cpu_s() if other else None
    cpu0 = cl.cpu_s()
    ticks0 = (cpu_ticks(ctx.server_cpu), cpu_ticks(ctx.client_cpu))
    t0 = time.monotonic()
    if before:
        entry = {"errors": ["cluster not healthy before the run"], "figures": {}, "checks": {}}
    elif kind == "split":
        size, nsubs = ("128", 1) if sid == "pubsub-x-128" else ("1K", 2)
        entry = run_split(ctx, cl, sid, size, nsubs, tag)
    elif kind == "queue":
        entry = run_queue(ctx, cl, sid, tag)
    elif kind == "reqrep":
        entry = run_reqrep(ctx, cl, sid, tag)
    else:
        entry = run_stock(ctx, cl, sid, tag)
    wall = time.monotonic() - t0
    entry["wall_s"] = round(wall, 2)
    entry["servers_cpu_s"] = round(cl.cpu_s() - cpu0, 3)
    # How busy each core was over the whole run (set-up and drain included): a client core near
    # 1.0 with a server core well below it means the clients, not the cluster, set the pace.
    entry["server_core_busy"] = busy(ticks0[0], cpu_ticks(ctx.server_cpu))
    entry["client_core_busy"] = busy(ticks0[1], cpu_ticks(ctx.client_cpu))
    if other is not None:
        entry["idle_cluster_cpu_s"] = round(other.cpu_s() - other_cpu0, 3)
    entry["route_problems"] = before + [p + " (after)" for p in cl.route_problems()]
    return judge(entry)


class Ctx:
    pass


def summarize(rounds_out, kind):
    summary = {}
    for name, (unit, hib) in FIGURES[kind].items():
        def vals(side):
            return [rw[side]["figures"].get(name) for rw in rounds_out
                    if rw[side].get("valid") and rw[side]["figures"].get(name) is not None]
        ratios = [rw["natrix"]["figures"][name] / rw["nats-server"]["figures"][name]
                  for rw in rounds_out
                  if rw["natrix"].get("valid") and rw["nats-server"].get("valid")
                  and rw["nats-server"]["figures"].get(name)
                  and rw["natrix"]["figures"].get(name) is not None]
        summary[name] = {"unit": unit, "higher_is_better": hib,
                         "nats_server_median": cmp.median(vals("nats-server")),
                         "natrix_median": cmp.median(vals("natrix")),
                         "ratio_median": cmp.median(ratios),
                         "ratio_min": min(ratios) if ratios else None,
                         "ratio_max": max(ratios) if ratios else None,
                         "valid_rounds": {s: len(vals(s)) for s in ("nats-server", "natrix")}}
    return summary


def core_busy(rounds_out):
    """Median busy fraction of the server core and the client core, per side."""
    out = {}
    for side in ("nats-server", "natrix"):
        out[side] = {k: cmp.median([rw[side][k] for rw in rounds_out
                                    if rw[side].get(k) is not None])
                     for k in ("server_core_busy", "client_core_busy")}
    return out


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "":
        return "%.3f" % v
    return cmp.fmt_value(v, unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--natrix", default=os.path.join(ROOT, "build/src/app/natrix"))
    ap.add_argument("--nats-server", help="nats-server binary (default: from PATH, /usr/sbin)")
    ap.add_argument("--bench", help="natrix-bench binary (default build/src/tools/...)")
    ap.add_argument("--go-bench", default=os.path.join(ROOT, "build/tests/integration/natsgo-bench"),
                    help="natsgo-bench binary (default build/tests/integration/natsgo-bench)")
    ap.add_argument("--rounds", type=int, help="A B rounds per scenario (default 2; quick 2)")
    ap.add_argument("--duration", type=float, help="measured seconds per natrix-bench run "
                    "(default 6; quick 0.5)")
    ap.add_argument("--warmup", type=float, help="warm-up seconds for queue and reqrep "
                    "(default 1; quick 0.2)")
    ap.add_argument("--stock-msgs", type=int, help="messages per nats.go run (default 1000000; "
                    "quick 50000)")
    ap.add_argument("--stock-timeout", type=int, default=60, help="natsgo-bench -timeout, s")
    ap.add_argument("--server-cpu", type=int, default=0, help="CPU for all six servers (0)")
    ap.add_argument("--client-cpu", type=int, default=1, help="CPU for the clients (1)")
    ap.add_argument("--natrix-args", default="", help="extra natrix arguments, shell-split")
    ap.add_argument("--scenarios", help="comma-separated ids (default: all)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: very short runs; output to /tmp unless --out")
    ap.add_argument("--out", help="JSON file (default bench/results/cluster-YYYYMMDD.json)")
    ap.add_argument("--keep-logs", help="copy the servers' configs and logs into this directory")
    ap.add_argument("--supercluster", action="store_true",
                    help="three single-server clusters joined by gateways (see above)")
    args = ap.parse_args()
    global SUPER, SCENARIOS
    SUPER = args.supercluster
    if SUPER:
        SCENARIOS = [(sid, label.replace("n1", "A").replace("n2", "B").replace("n3", "C"), kind)
                     for sid, label, kind in SCENARIOS if kind != "queue"]

    ctx = Ctx()
    ctx.rounds = args.rounds or 2
    ctx.duration = args.duration or (0.5 if args.quick else 6.0)
    ctx.warmup = args.warmup if args.warmup is not None else (0.2 if args.quick else 1.0)
    ctx.stock_msgs = args.stock_msgs or (50000 if args.quick else 1000000)
    ctx.stock_timeout = args.stock_timeout
    ctx.client_cpu = args.client_cpu
    ctx.server_cpu = args.server_cpu
    ctx.bench = cmp.find_bench(args.bench)
    nats = cmp.find_nats_server(args.nats_server)
    if not os.access(args.natrix, os.X_OK):
        die("natrix not found at %s (ninja -C build src/app/natrix)" % args.natrix)
    ctx.go_bench = args.go_bench
    if not os.access(ctx.go_bench, os.X_OK):
        die("natsgo-bench not found at %s (ninja -C build tests/integration/natsgo-bench)"
            % ctx.go_bench)
    if shutil.which("taskset") is None:
        die("taskset not found (util-linux)")
    usable = sorted(os.sched_getaffinity(0))
    for c in (args.server_cpu, args.client_cpu):
        if c not in usable:
            die("cpu %d is not usable here (usable: %s)" % (c, cmp.cpu_text(usable)))
    scenarios = SCENARIOS
    if args.scenarios:
        wanted = args.scenarios.split(",")
        unknown = [w for w in wanted if w not in [s[0] for s in SCENARIOS]]
        if unknown:
            die("unknown scenario(s) %s; have %s" % (",".join(unknown),
                                                     ",".join(s[0] for s in SCENARIOS)))
        scenarios = [s for s in SCENARIOS if s[0] in wanted]

    # This script and every client on the client CPU; the servers get taskset -c server_cpu.
    os.sched_setaffinity(0, {args.client_cpu})
    t_start = time.monotonic()
    load_at_start = list(os.getloadavg())
    workdir = tempfile.mkdtemp(prefix="clusterbench-")
    clusters = {"nats-server": Cluster("nats-server", nats, args.server_cpu, workdir, []),
                "natrix": Cluster("natrix", args.natrix, args.server_cpu, workdir,
                                  shlex.split(args.natrix_args))}
    order = ["nats-server", "natrix"]
    results = []
    notes = []
    findings = {}
    routez_end = {}
    rss_end = {}
    rss_start = {}
    log("cluster: %d round(s), %.1f s per run (+%.1f s warm-up for queue/reqrep), %d msgs per "
        "nats.go run; servers on cpu %d, clients on cpu %d"
        % (ctx.rounds, ctx.duration, ctx.warmup, ctx.stock_msgs, args.server_cpu,
           args.client_cpu))
    try:
        for name in order:
            clusters[name].start()
        rss_start = {name: clusters[name].rss_mb() for name in order}
        for sc in scenarios:
            sid, label, kind = sc
            rounds_out = []
            for r in range(ctx.rounds):
                row = {}
                for name in order:
                    other = clusters[order[1 - order.index(name)]]
                    e = run_scenario(ctx, clusters[name], other, sc, r + 1)
                    row[name] = e
                    head = next(iter(FIGURES[kind]))
                    log("cluster: %-14s round %d %-11s %s%s" % (
                        sid, r + 1, name, fmt(e["figures"].get(head), FIGURES[kind][head][0]),
                        "" if e["valid"] else "  INVALID: " + e["invalid_reason"]))
                rounds_out.append(row)
            results.append({"id": sid, "label": label, "kind": kind, "rounds": rounds_out,
                            "summary": summarize(rounds_out, kind),
                            "core_busy": core_busy(rounds_out)})
        for name in order:
            routez_end[name] = clusters[name].routez()
            rss_end[name] = clusters[name].rss_mb()
            findings[name] = clusters[name].log_findings()
    finally:
        for name in order:
            clusters[name].stop()
            if args.keep_logs:
                clusters[name].save_logs(args.keep_logs)
    exit_codes = {name: clusters[name].exit_codes() for name in order}
    shutil.rmtree(workdir, ignore_errors=True)

    now = datetime.datetime.now()
    m = cmp.machine_info(load_at_start)
    if m["cores"] and m["cores"] <= 4:
        notes.append("only %d cores (load %.1f at start): six servers share one core, the clients "
                     "the other; expect noise and read the ratio ranges"
                     % (m["cores"], m["load_avg_start"][0]))
    if args.quick:
        notes.append("--quick smoke run: durations far too short for real figures")
    invalid = [(sc["id"], name, rw[name]["invalid_reason"]) for sc in results
               for rw in sc["rounds"] for name in order if not rw[name]["valid"]]
    noisy_logs = {name: {n: f["count"] for n, f in findings.get(name, {}).items() if f["count"]}
                  for name in order}
    result = {
        "tool": "bench/cluster.py" + (" --supercluster" if SUPER else ""),
        "date": now.isoformat(timespec="seconds"),
        "quick": args.quick,
        "rounds": ctx.rounds,
        "duration_s": ctx.duration,
        "warmup_s": ctx.warmup,
        "stock_msgs": ctx.stock_msgs,
        "git_commit": cmp.git_commit(),
        "machine": m,
        "pinning": {
            "servers": "all 6 server processes (3 per cluster, both clusters up all along) on cpu "
                       "%d with taskset -c %d" % (args.server_cpu, args.server_cpu),
            "clients": "natrix-bench (--cpus %d), natsgo-bench and this script on cpu %d"
                       % (args.client_cpu, args.client_cpu),
            "server_cpu": args.server_cpu, "client_cpu": args.client_cpu,
            "natrix_shards": 1, "nats_server_gomaxprocs": 1,
        },
        "topology": ("3 single-server clusters A, B, C on 127.0.0.1 joined by gateways, each "
                     "listing the other two; same config text for both brokers" if SUPER else
                     "3 nodes per cluster on 127.0.0.1; node 1 is the seed, nodes 2 and 3 list "
                     "only node 1 in routes (full mesh by gossip); same config text for both "
                     "brokers"),
        "clusters": {name: {
            "binary": clusters[name].binary, "version": cmp.version_of(clusters[name].binary),
            "argv_node1": clusters[name].argv(clusters[name].nodes[0]),
            "config_node2": clusters[name].config_text(clusters[name].nodes[1]),
            "mesh_s": clusters[name].mesh_s, "routez_end": routez_end.get(name),
            "rss_start_mb": rss_start.get(name), "rss_end_mb": rss_end.get(name), "exit_codes": exit_codes[name],
            "log_findings": findings.get(name)} for name in order},
        "natrix_bench": ctx.bench,
        "natsgo_bench": ctx.go_bench,
        "scenarios": results,
        "invalid_runs": [{"scenario": s, "server": n, "reason": why} for s, n, why in invalid],
        "notes": notes,
        "elapsed_s": round(time.monotonic() - t_start, 1),
    }

    print()
    print("%s, natrix vs nats-server: %d round(s), %.1f s runs (+%.1f s warm-up for "
          "queue/reqrep), %d msgs per nats.go run; medians of valid rounds"
          % ("3 single-server clusters joined by gateways" if SUPER else "3-node clusters",
             ctx.rounds, ctx.duration, ctx.warmup, ctx.stock_msgs))
    print("machine: %s, %d cores, kernel %s; servers on cpu %d (natrix --shards 1, nats-server "
          "GOMAXPROCS=1), clients on cpu %d" % (m["cpu_model"], m["cores"], m["kernel"],
                                                args.server_cpu, args.client_cpu))
    hdr = "%-38s %-22s %12s %12s %7s %11s %7s" % ("scenario", "figure", "nats-server", "natrix",
                                                   "ratio", "range", "valid")
    print(hdr)
    print("-" * len(hdr))
    for sc in results:
        for i, (name, s) in enumerate(sc["summary"].items()):
            rr = ("%.2f-%.2f" % (s["ratio_min"], s["ratio_max"])) if s["ratio_min"] else "-"
            v = s["valid_rounds"]
            print("%-38s %-22s %12s %12s %7s %11s %7s" % (
                sc["label"] if i == 0 else "", name.replace("_msgs_per_s", " msg/s")[:22],
                fmt(s["nats_server_median"], s["unit"]), fmt(s["natrix_median"], s["unit"]),
                ("%.2f" % s["ratio_median"]) if s["ratio_median"] else "-", rr,
                "%d/%d" % (v["nats-server"], v["natrix"]) if i == 0 else ""))
    print("ratio = natrix / nats-server, median of per-round ratios (throughput: >1 natrix faster; "
          "latency: <1 natrix faster). valid = valid rounds nats-server/natrix of %d."
          % ctx.rounds)
    print("core busy over each run (server core / client core, medians; all processes on them):")
    for sc in results:
        cb = sc["core_busy"]
        print("  %-36s nats-server %s / %s   natrix %s / %s" % (
            sc["label"], *["%.2f" % v if v is not None else "-" for v in (
                cb["nats-server"]["server_core_busy"], cb["nats-server"]["client_core_busy"],
                cb["natrix"]["server_core_busy"], cb["natrix"]["client_core_busy"])]))
    for s, n, why in invalid:
        print("INVALID: %s on %s: %s" % (s, n, why))
    for name in order:
        for node, f in findings.get(name, {}).items():
            if f["count"]:
                print("log: %s %s: %d warning/error line(s), first: %s"
                      % (name, node, f["count"], f["lines"][0][:160]))
    if not any(noisy_logs.values()):
        print("logs: no warnings or errors in any server log")
    for n in notes:
        print("note: " + n)

    stem = "supercluster" if SUPER else "cluster"
    out = args.out or (os.path.join("/tmp", "%s-quick-%s.json" % (stem, now.strftime("%Y%m%d")))
                       if args.quick else
                       os.path.join(ROOT, "bench/results",
                                    "%s-%s.json" % (stem, now.strftime("%Y%m%d"))))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote %s (%.0f s)" % (out, result["elapsed_s"]))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
