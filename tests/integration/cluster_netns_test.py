#!/usr/bin/env python3
"""A 3-node natrix cluster in network namespaces: one node is cut off under load, then healed.

usage: cluster_netns_test.py NATRIX_BIN CLIENT_BIN     (CLIENT_BIN: cluster-netns-client, a nats.go program)

Needs root and `ip` (iproute2) with network namespaces; otherwise it prints why and exits 77 (meson: SKIP).

Topology (nothing in the root namespace; every name carries this process's pid):

    nx1-PID (10.77.0.1, eth0) --- p1 \
    nx2-PID (10.77.0.2, eth0) --- p2 -- br0   in nxbr-PID
    nx3-PID (10.77.0.3, eth0) --- p3 /

Each node namespace runs one natrix (`natrix -c nI.conf --shards 1 --cpus C -D`, the nodes on different CPUs
where there are several) on eth0's address: clients on 4222, routes on 6222, monitoring on 8222.
`ping_interval: "1s"` and `ping_max: 2` let a silent peer be declared stale after about 3 s (the default, 2m,
would take minutes). Routes: n1 lists n2 and n3; n2 and n3 list only n1. So after the heal both ends of n1-n3
redial each other (a node keeps dialling its configured routes), while n2-n3, which neither side configures,
can only come back through gossip: when n1 registers the new route to n3 it forwards n3's INFO to n2 (and n2's
to n3), and one of them dials the other. The test thus covers both ways a route is re-established.

The cut: p3 is taken out of the bridge (`ip link set p3 nomaster`). n3's eth0 keeps its carrier and its
addresses, and packets to and from it are dropped silently, as with a failed switch port or a partition: no RST,
no ICMP, no link-down event on the node. Healing puts p3 back into br0.

Clients are the stock nats.go client (cluster-netns-client), each started in its node's namespace with
`ip netns exec` and with reconnects off, so each stays on its node: a publisher on n1 (2000 msg/s, sequence
numbers in the payload), a subscriber on n2 (the healthy path n1->n2) and one on n3 (local to n3, it stays
connected through the cut).

Scenario and checks:
  1. the mesh forms and settles (every node's /routez num_routes == 2, same routes for 1.5 s), both
     subscriptions reach n1 (/routez subscriptions), publishing starts;
  2. after 3 s, n3 is cut off for 5 s under load, then healed;
  3. (mesh) every node's /routez shows num_routes == 2 within 10 s of the heal. Either the old route survived
     the cut or a new one was dialled: both are accepted, and which one it was is reported;
  4. (interest) n1's route to n3 carries n3's subscription again, messages published on n1 after that reach
     the subscriber on n3 within 5 s, and nothing published after that point is lost, duplicated or reordered
     on n3;
  5. (healthy path) the subscriber on n2 receives every sequence number from 1 to the last one published,
     exactly once, in order; no client was disconnected; the n1-n2 route was never replaced.
It also reports what happened on the way: n1's /routez during the cut (route to n3, pending_size), when n1's
log declared that route stale and when and why it was closed, the longest silence on n2 and the longest block
of the publisher, which messages n3 missed, and the longest time a natrix thread waited for a CPU (from
/proc/PID/task/*/schedstat: on a loaded machine a node that gets no CPU for ~3 s has its healthy routes declared
stale by its peers, which is the machine, not the cut). A run takes about 15 s.

What to expect: every node closes its routes to the silent peer about 2-3 s into the cut (Stale Connection,
closed at once without waiting for output a dead peer cannot take; nats-server 2.9.10 does not declare n1's
route stale at all and keeps it until a write fails). The configs set max_pending 1MB, so n1's backlog for
the dead route passes flow control's watermark and pauses the publisher until that route is closed: the
healthy path stalls for a moment (reported as n2's longest silence) but loses nothing, and the paused
publisher is not mistaken for a stale client. The new n1-n3 route (and the gossiped n2-n3 one) appears
after the heal.

Knobs, to study other cases by hand: NATRIX_NETNS_CUT_S (seconds, default 5), NATRIX_NETNS_RATE (msg/s,
default 2000), NATRIX_NETNS_MAX_PENDING (default 1MB; "default" leaves max_pending out of the configs; flow
control pauses the publishers feeding a route whose backlog passes max_pending / 4), NATRIX_NETNS_KEEP=1 (keep the configs and
natrix logs, -D). Passing /usr/sbin/nats-server as NATRIX_BIN runs the same scenario on nats-server.
"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
NET = "10.77.0."
RATE = int(os.environ.get("NATRIX_NETNS_RATE", "2000"))  # messages per second
STEADY_S = 3.0  # publishing before the cut
CUT_S = float(os.environ.get("NATRIX_NETNS_CUT_S", "5"))  # override to study longer partitions
MESH_TIMEOUT_S = 10.0
RESYNC_TIMEOUT_S = 5.0
AFTER_S = 2.0  # publishing after n3 receives again
SUBJECT = "netns.seq"

T0 = time.monotonic()


def log(msg):
    print("[%6.2fs] %s" % (time.monotonic() - T0, msg), flush=True)


class Skip(Exception):
    pass


class Failed(Exception):
    pass


def run(args, check=True, timeout=10):
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, (r.stderr or r.stdout).strip()))
    return r


class Topology:
    def __init__(self):
        pid = os.getpid()
        self.br = "nxbr-%d" % pid
        self.nodes = {i: "nx%d-%d" % (i, pid) for i in (1, 2, 3)}
        self.created = []

    def add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.created.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def create(self):
        try:
            self.add_ns(self.br)
        except (RuntimeError, OSError) as e:
            raise Skip("cannot create a network namespace: %s" % e)
        try:
            run(["ip", "-n", self.br, "link", "add", "br0", "type", "bridge"])
            run(["ip", "-n", self.br, "link", "set", "br0", "up"])
            for i, ns in self.nodes.items():
                self.add_ns(ns)
                # Both ends are created from inside the bridge namespace: nothing touches the root one.
                run(["ip", "-n", self.br, "link", "add", "p%d" % i, "type", "veth", "peer", "name", "eth0",
                     "netns", ns])
                run(["ip", "-n", self.br, "link", "set", "p%d" % i, "master", "br0", "up"])
                run(["ip", "-n", ns, "addr", "add", NET + "%d/24" % i, "dev", "eth0"])
                run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        except RuntimeError as e:
            raise Skip("cannot set up the namespaces' network (veth/bridge): %s" % e)

    def cut(self, i):
        run(["ip", "-n", self.br, "link", "set", "p%d" % i, "nomaster"])

    def heal(self, i):
        run(["ip", "-n", self.br, "link", "set", "p%d" % i, "master", "br0"])

    def destroy(self):
        for ns in reversed(self.created):
            r = run(["ip", "netns", "del", ns], check=False)
            if r.returncode != 0:
                print("warning: ip netns del %s: %s" % (ns, r.stderr.strip()), flush=True)
        self.created = []


class Proc:
    """A process started in a namespace; its own process group, so cleanup can always reach it."""

    def __init__(self, name, ns, args, logfile=None):
        self.name = name
        cmd = ["ip", "netns", "exec", ns] + args  # ip execs the command: the pid is the command's
        if logfile:
            self.p = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        else:
            self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1)

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                os.killpg(self.p.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout=5):
        if self.p.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.p.wait(timeout=5)
        return self.p.returncode


class Client(Proc):
    """cluster-netns-client: reads its progress lines ("P seq ms", "R", "S count last ms", "E ...", JSON)."""

    def __init__(self, name, ns, args):
        super().__init__(name, ns, args)
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.seq = 0  # publisher: last published
        self.count = 0  # subscriber: received
        self.last = 0  # subscriber: highest sequence received
        self.result = None
        self.errors = []
        self.other = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            line = line.rstrip("\n")
            with self.lock:
                if line.startswith("P "):
                    self.seq = int(line.split()[1])
                elif line.startswith("S "):
                    f = line.split()
                    self.count, self.last = int(f[1]), int(f[2])
                elif line == "R":
                    self.ready.set()
                elif line.startswith("E "):
                    self.errors.append(line[2:])
                elif line.startswith("{"):
                    try:
                        self.result = json.loads(line)
                    except ValueError:
                        self.other.append(line)
                else:
                    self.other.append(line)

    def finish(self, timeout=15):
        """SIGTERM, then the final JSON line."""
        self.stop(timeout=timeout)
        self.reader.join(timeout=5)
        return self.result

    def describe(self):
        return "%s: exit %s, errors %s, output %s" % (self.name, self.p.returncode, self.errors[-5:],
                                                     self.other[-5:])


class SchedWatch:
    """How long natrix's threads waited for a CPU (/proc/PID/task/TID/schedstat, every 100 ms), to tell a
    loaded machine from a natrix stall when a route goes stale or a subscriber sees a long silence."""

    def __init__(self, pids):
        self.pids = pids
        self.worst = {i: (0.0, 0.0) for i in pids}  # node -> (seconds waited in one sample, when, test time)
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        prev = {}
        while not self.stop_ev.wait(0.1):
            for i, pid in self.pids.items():
                try:
                    tids = os.listdir("/proc/%d/task" % pid)
                except OSError:
                    continue
                for tid in tids:
                    try:
                        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                            waited = int(f.read().split()[1]) / 1e9
                    except (OSError, ValueError, IndexError):
                        continue
                    d = waited - prev.get(tid, waited)
                    prev[tid] = waited
                    if d > self.worst[i][0]:
                        self.worst[i] = (d, time.monotonic() - T0)

    def stop(self):
        self.stop_ev.set()
        self.t.join(timeout=2)
        return self.worst


def node_conf(i):
    routes = [2, 3] if i == 1 else [1]
    extra = ""
    max_pending = os.environ.get("NATRIX_NETNS_MAX_PENDING", "1MB")  # flow control's watermark: / 4
    if max_pending and max_pending != "default":
        extra = "max_pending: %s\n" % max_pending
    return extra + """server_name: n%(i)d
listen: %(ip)s:4222
http: %(ip)s:8222
ping_interval: "1s"
ping_max: 2
cluster {
  name: netns
  listen: %(ip)s:6222
  routes: [
%(routes)s
  ]
}
""" % {"i": i, "ip": NET + str(i), "routes": "\n".join("    nats-route://%s%d:6222" % (NET, r) for r in routes)}


MON_SCRIPT = ("import sys, urllib.request\n"
              "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=1).read().decode())\n")


def monitor(topo, i, path, tries=2):
    """GET http://10.77.0.i:8222<path> from inside nx_i; the parsed JSON, or None when unreachable."""
    for _ in range(tries):
        try:
            r = run(["ip", "netns", "exec", topo.nodes[i], sys.executable, "-c", MON_SCRIPT,
                     "http://%s%d:8222%s" % (NET, i, path)], check=False, timeout=3)
        except subprocess.TimeoutExpired:
            continue
        if r.returncode != 0:
            continue
        try:
            return json.loads(r.stdout)
        except ValueError:
            continue
    return None


def routez(topo, i):
    return monitor(topo, i, "/routez")


def route_to(rz, server_id):
    for r in (rz or {}).get("routes") or []:
        if r.get("remote_id") == server_id:
            return r
    return None


def wait_for(what, cond, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Failed("%s: not within %.0f s" % (what, timeout))
        time.sleep(interval)


def mesh_complete(topo):
    out = {}
    for i in (1, 2, 3):
        rz = routez(topo, i)
        if not rz or rz.get("num_routes") != 2:
            return None
        out[i] = rz
    return out


def stable_mesh(topo, settle=1.5, timeout=20, alive=lambda: True):
    """A complete mesh whose routes (rids) stay the same for `settle` seconds. At start-up a node whose
    first dial was refused redials its configured routes a second later and one of each pair of crossing
    routes is closed (decision 0013), so the first complete mesh is not yet the one that lasts."""
    deadline = time.monotonic() + timeout
    seen, since = None, None
    while time.monotonic() < deadline:
        alive()
        rz = mesh_complete(topo)
        key = None if rz is None else tuple(sorted((i, r["rid"]) for i in rz for r in rz[i]["routes"]))
        if key is None or key != seen:
            seen, since = key, time.monotonic()
        elif time.monotonic() - since >= settle:
            return rz
        time.sleep(0.2)
    raise Failed("the mesh did not form and settle (num_routes == 2 on every node) within %.0f s" % timeout)


LOG_TIME = re.compile(r"^\[\d+\] (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+) ")


def route_fate(lines, rid, t_cut_wall):
    """What natrix's log says about route `rid`: (first "Stale Connection" s after the cut, how many, closed
    s after the cut, close reason)."""
    stale, n_stale, closed, reason = None, 0, None, None
    for l in lines:
        if "rid:%d - " % rid not in l:
            continue
        m = LOG_TIME.match(l)
        if not m:
            continue
        t = datetime.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S.%f").timestamp() - t_cut_wall
        if "Stale" in l:
            n_stale += 1
            if stale is None:
                stale = t
        elif "connection closed" in l and closed is None:
            closed, reason = t, l.split("connection closed", 1)[1].strip(": ")
    return stale, n_stale, closed, reason


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    natrix, client_bin = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, veth, bridge)", flush=True)
        return SKIP
    if not shutil.which("ip"):
        print("SKIP: `ip` (iproute2) is not installed", flush=True)
        return SKIP
    for b in (natrix, client_bin):
        if not os.access(b, os.X_OK):
            print("FAIL: %s is not an executable" % b, flush=True)
            return 1

    # meson's timeout sends SIGTERM: turn it into an exception so that `finally` cleans up.
    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)

    topo = Topology()
    procs = []
    tmp = tempfile.mkdtemp(prefix="natrix-netns-")
    logs = {}
    sched = None
    ok = False
    try:
        try:
            topo.create()
        except Skip as e:
            print("SKIP: %s" % e, flush=True)
            return SKIP
        log("namespaces %s, %s up" % (topo.br, ", ".join(topo.nodes.values())))

        # One shard each, pinned to different CPUs where there are several (natrix pins a single shard to the
        # first usable CPU: three nodes would otherwise share one core and starve each other's route pings).
        cpus = sorted(os.sched_getaffinity(0))
        nodes = {}
        for i in (1, 2, 3):
            conf = os.path.join(tmp, "n%d.conf" % i)
            with open(conf, "w") as f:
                f.write(node_conf(i))
            logs[i] = open(os.path.join(tmp, "n%d.log" % i), "w+")
            cpu = str(cpus[(i - 1) % len(cpus)])
            if "nats-server" in os.path.basename(natrix):  # the same scenario on nats-server, for comparison
                args = [natrix, "-c", conf, "-D"]
            else:
                args = [natrix, "-c", conf, "--shards", "1", "--cpus", cpu, "-D"]
            nodes[i] = Proc("n%d" % i, topo.nodes[i], args, logs[i])
            procs.append(nodes[i])
        sched = SchedWatch({i: nodes[i].p.pid for i in nodes})

        def check_alive():
            for i in (1, 2, 3):
                if not nodes[i].alive():
                    raise Failed("natrix n%d exited with %s" % (i, nodes[i].p.returncode))

        rz = stable_mesh(topo, alive=check_alive)
        ids = {i: rz[i]["server_id"] for i in (1, 2, 3)}
        log("mesh up: %s" % ", ".join("n%d=%s" % (i, ids[i][:8]) for i in (1, 2, 3)))

        def url(i):
            return "nats://%s%d:4222" % (NET, i)

        sub2 = Client("sub@n2", topo.nodes[2], [client_bin, "-mode", "sub", "-s", url(2), "-subj", SUBJECT])
        procs.append(sub2)
        sub3 = Client("sub@n3", topo.nodes[3], [client_bin, "-mode", "sub", "-s", url(3), "-subj", SUBJECT])
        procs.append(sub3)
        for s in (sub2, sub3):
            if not s.ready.wait(10):
                raise Failed("%s did not subscribe: %s" % (s.name, s.describe()))

        def interest_at_n1():
            r = routez(topo, 1)
            a, b = route_to(r, ids[2]), route_to(r, ids[3])
            return a and b and a.get("subscriptions", 0) >= 1 and b.get("subscriptions", 0) >= 1

        wait_for("n1 learns both subscriptions", interest_at_n1, 10)
        pub = Client("pub@n1", topo.nodes[1], [client_bin, "-mode", "pub", "-s", url(1), "-subj", SUBJECT,
                                               "-rate", str(RATE), "-size", "64"])
        procs.append(pub)
        log("publishing %d msg/s on n1; subscribers on n2 and n3" % RATE)
        time.sleep(STEADY_S)
        with sub2.lock, sub3.lock, pub.lock:
            c2, c3, p = sub2.count, sub3.count, pub.seq
        log("before the cut: published %d, n2 got %d, n3 got %d" % (p, c2, c3))
        if c2 == 0 or c3 == 0:
            raise Failed("no messages flow before the cut (n2 %d, n3 %d, published %d)" % (c2, c3, p))

        # --- the cut ---
        rz = wait_for("the mesh is still complete before the cut", lambda: mesh_complete(topo), 5)
        rid12 = route_to(rz[1], ids[2])["rid"]
        rid13 = route_to(rz[1], ids[3])["rid"]
        topo.cut(3)
        t_cut = time.monotonic()
        t_cut_wall = time.time()
        seq_cut = pub.seq
        log("n3 cut off (p3 out of the bridge), published so far %d" % seq_cut)
        t_n1_dropped = None  # when n1's /routez stopped listing a route to n3
        while time.monotonic() - t_cut < CUT_S:
            r1 = routez(topo, 1)
            r = route_to(r1, ids[3])
            with sub2.lock, pub.lock:
                c2, p = sub2.last, pub.seq
            if r1 is None:
                log("  n1 /routez unreachable")
            elif r is None:
                if t_n1_dropped is None:
                    t_n1_dropped = time.monotonic() - t_cut
                log("  n1: %d route(s), none to n3; published %d, n2 at %d" % (r1["num_routes"], p, c2))
            else:
                log("  n1: route to n3 rid %d, pending_size %d, paused %s; published %d, n2 at %d"
                    % (r["rid"], r.get("pending_size", 0), r.get("paused"), p, c2))
            time.sleep(0.5)
        for c in (pub, sub2, sub3):
            if not c.alive():
                raise Failed("%s exited during the cut: %s" % (c.name, c.describe()))

        # --- the heal ---
        topo.heal(3)
        t_heal = time.monotonic()
        log("n3 healed (p3 back in the bridge), published so far %d" % pub.seq)
        try:
            rz = wait_for("the mesh re-forms (num_routes == 2 on every node)", lambda: mesh_complete(topo),
                          MESH_TIMEOUT_S, 0.1)
        except Failed:
            for i in (1, 2, 3):
                r = routez(topo, i)
                log("  n%d /routez: %s" % (i, "unreachable" if r is None else json.dumps(
                    {"num_routes": r["num_routes"],
                     "peers": [x.get("remote_name") or x.get("remote_id") for x in r.get("routes") or []]})))
            raise
        t_mesh = time.monotonic() - t_heal
        new13 = route_to(rz[1], ids[3])
        new12 = route_to(rz[1], ids[2])
        log("mesh re-formed %.2f s after the heal; n1->n3: %s (rid %d, was %d); n1->n2: rid %d (was %d)"
            % (t_mesh, "the old route survived the cut" if new13["rid"] == rid13 else "a new route",
               new13["rid"], rid13, new12["rid"], rid12))

        def n3_interest():
            r = route_to(routez(topo, 1), ids[3])
            return r and r.get("subscriptions", 0) >= 1

        wait_for("n1 re-learns n3's subscription", n3_interest, RESYNC_TIMEOUT_S)
        time.sleep(0.2)  # the publisher's progress line is at most 100 ms old
        seq_resynced = pub.seq
        log("n1 has n3's interest again; published so far %d" % seq_resynced)
        wait_for("n3's subscriber receives messages published after the re-sync",
                 lambda: sub3.last > seq_resynced, RESYNC_TIMEOUT_S, 0.05)
        log("n3 receives again (at %d), %.2f s after the heal" % (sub3.last, time.monotonic() - t_heal))
        time.sleep(AFTER_S)

        # --- the end ---
        pres = pub.finish()
        if not pres:
            raise Failed("publisher gave no result: %s" % pub.describe())
        total = pres["published"]
        log("published %d in all (publisher blocked at most %d ms)" % (total, pres["max_block_ms"]))
        try:
            wait_for("both subscribers receive the last message",
                     lambda: sub2.last >= total and sub3.last >= total, 10)
        except Failed as e:
            log(str(e) + " (n2 at %d, n3 at %d): checking what arrived" % (sub2.last, sub3.last))
        r2, r3 = sub2.finish(), sub3.finish()
        if not r2 or not r3:
            raise Failed("a subscriber gave no result: %s; %s" % (sub2.describe(), sub3.describe()))

        problems = []
        if pres["errors"]:
            problems.append("publisher errors: %s" % pres["errors"])
        # 5. the healthy path
        healthy = (r2["count"] == total and r2["first"] == 1 and r2["last"] == total and r2["duplicates"] == 0
                   and r2["out_of_order"] == 0 and r2["missing"] == 0 and not r2["errors"])
        if not healthy:
            problems.append("n1->n2 lost, duplicated or reordered messages: %s (published %d)"
                            % (json.dumps(r2), total))
        log("n2 (healthy path): %d of %d%s, longest silence %d ms (ending at seq %d)"
            % (r2["count"], total, ", every one once and in order" if healthy else " (see below)",
               r2["max_interarrival_ms"], r2["max_gap_end_seq"]))
        # 4. n3 after the re-sync
        late = [g for g in r3["gaps"] if g[0] > seq_resynced]
        if r3["last"] != total or late or r3["duplicates"] or r3["out_of_order"] or r3["errors"]:
            problems.append("n3 after the re-sync (published %d at that point): last %d of %d, losses %s, "
                            "duplicates %d, out of order %d, errors %s"
                            % (seq_resynced, r3["last"], total, late, r3["duplicates"], r3["out_of_order"],
                               r3["errors"]))
        log("n3: %d of %d, missed %d in %s (cut at %d, re-synced at %d), longest silence %d ms"
            % (r3["count"], total, r3["missing"], r3["gaps"][:5], seq_cut, seq_resynced,
               r3["max_interarrival_ms"]))
        # How n1 let go of its route to n3 (information: either outcome is accepted).
        logs[1].flush()
        with open(logs[1].name) as f:
            stale, n_stale, closed, reason = route_fate(f.read().splitlines(), rid13, t_cut_wall)
        log("n1's route to n3 (rid %d): %s; %s; /routez %s"
            % (rid13, "stale %.1f s into the cut (logged %d times)" % (stale, n_stale) if stale is not None
               else "never stale", "closed %.1f s after the cut (%.1f s after the heal): %s"
               % (closed, closed - (t_heal - t_cut), reason) if closed is not None else "not closed",
               "stopped listing it %.1f s into the cut" % t_n1_dropped if t_n1_dropped is not None
               else "listed it through the whole cut"))
        if new12["rid"] != rid12:
            problems.append("the healthy route n1-n2 was replaced (rid %d, then %d)" % (rid12, new12["rid"]))
        for i in (1, 2, 3):
            if not nodes[i].alive():
                problems.append("natrix n%d exited with %s" % (i, nodes[i].p.returncode))
        worst = sched.stop()
        log("longest wait of a natrix thread for a CPU: %s%s"
            % (", ".join("n%d %.0f ms (at %.1f s)" % (i, w * 1e3, at) for i, (w, at) in sorted(worst.items())),
               " (a loaded machine: pings at 1 s with ping_max 2 declare a route stale after about 3 s)"
               if max(w for w, _ in worst.values()) > 1 else ""))
        if problems:
            raise Failed("; ".join(problems))
        ok = True
        log("PASS")
        return 0
    except Failed as e:
        log("FAIL: %s" % e)
        if sched:
            log("longest wait of a natrix thread for a CPU: %s" % ", ".join(
                "n%d %.0f ms (at %.1f s)" % (i, w * 1e3, at) for i, (w, at) in sorted(sched.stop().items())))
        return 1
    finally:
        for p in reversed(procs):
            try:
                p.stop()
            except Exception as e:  # keep cleaning up
                print("warning: stopping %s: %s" % (p.name, e), flush=True)
        topo.destroy()
        for i, f in logs.items():
            f.seek(0)
            lines = f.read().splitlines()
            f.close()
            route_lines = [l for l in lines if "Route" in l or "route" in l or "Stale" in l or "Slow" in l]
            if not ok:
                print("--- natrix n%d: route events (%d of %d lines) ---" % (i, len(route_lines), len(lines)))
                for l in route_lines[-40:]:
                    print("  " + l)
                print("--- natrix n%d: last lines ---" % i)
                for l in lines[-15:]:
                    print("  " + l)
        if not os.environ.get("NATRIX_NETNS_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("logs kept in %s" % tmp)
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
