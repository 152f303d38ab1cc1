#!/usr/bin/env python3
"""natrix conformance suite: every case runs against nats-server and natrix, and the two
wire transcripts must agree.

    run.py --natrix PATH [--natrix-args ARGS] --reference /usr/sbin/nats-server
           [--filter SUBSTR] [--shards N] [-v]

Without --natrix (or with the reference's path) nats-server is compared with a second
nats-server: every case must then pass, which checks the suite itself. Output is TAP;
the exit status is 1 if any case failed. See docs/conformance.md.
"""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import argparse
import difflib
import importlib
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import servers  # noqa: E402
import steps  # noqa: E402

BASE_CONFIG = "# natrix conformance suite: both servers read this same text\n"


def load_cases():
    cases = []
    for path in sorted((HERE / "cases").glob("*.py")):
        if path.name.startswith("_"):
            continue
        mod = importlib.import_module(f"cases.{path.stem}")
        cases.extend(mod.CASES)
    names = [c.name for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise SystemExit(f"duplicate case names: {sorted(dups)}")
    return cases


# -- which cases may share a server at the same time --------------------------------------

_OP = re.compile(rb"(?im)^[ \t]*(sub|pub|hpub)[ \t]+([^ \t\r\n]+)(?:[ \t]+([^ \t\r\n]+))?"
                 rb"(?:[ \t]+([^ \t\r\n]+))?(?:[ \t]+([^ \t\r\n]+))?")


def subjects_of(case):
    """(subscribed patterns, published subjects incl. reply subjects) found in the bytes a
    case sends. Over-approximates: anything that looks like an op counts, and a subject
    with a "${name}" value in it (known only at run time) counts as ">", any subject."""
    sent = {}
    for s in steps.flatten(case.steps):
        if isinstance(s, steps.Send):
            sent[s.name] = sent.get(s.name, b"") + s.data
    subs, pubs = set(), set()
    for data in sent.values():
        for m in _OP.finditer(data):
            op = m.group(1).lower()
            args = [">" if b"${" in a else a.decode("latin-1") for a in m.groups()[1:] if a]
            if op == b"sub":
                subs.add(args[0])
            else:
                pubs.add(args[0])
                n_sizes = 1 if op == b"pub" else 2
                if len(args) >= 2 + n_sizes:
                    pubs.add(args[1])
    return subs, pubs


def subject_matches(pattern, subject):
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i < len(s) and s[i] == ">":   # a published ">" stands for any subject
            return True
        if i >= len(s):
            return False
        if tok != "*" and tok != s[i] and s[i] not in ("*", ">"):
            return False
    return len(p) == len(s) or (len(s) > len(p) and s[len(p)] == ">")


def conflicts(a, b):
    if a.isolated or b.isolated:
        return True
    (sa, pa), (sb, pb) = a._subjects, b._subjects
    return any(subject_matches(x, y) for x in sa for y in pb) or \
        any(subject_matches(x, y) for x in sb for y in pa)


# -- comparing the two sides --------------------------------------------------------------

def judge(case, ref, nat, labels):
    """Returns (passed, diagnostic lines)."""
    diag = []
    same = ref.transcript == nat.transcript
    if same and not ref.failures and not nat.failures:
        return True, diag
    for label, side in zip(labels, (ref, nat)):
        if side.failures:
            diag.append(f"{label} failed the case's assertions:")
            diag.extend(f"  {f}" for f in side.failures)
    if same:
        diag.append("both transcripts are identical:")
        diag.extend(f"  {line}" for line in ref.transcript)
    else:
        diag.extend(difflib.unified_diff(ref.transcript, nat.transcript, labels[0], labels[1],
                                         lineterm="", n=3))
        diag.extend(info_differences(ref.transcript, nat.transcript))
    return False, diag


def refusal(server):
    """The outcome of a rejects_config case on one server, as a Side: it must exit with a
    non-zero status before it accepts a connection."""
    side = steps.Side(servers.HOST, server.port)
    if server.proc is not None and server.error and not server.alive() \
            and server.proc.returncode != 0:
        side.record("server: exited with a non-zero status without accepting connections")
    elif server.proc is None:
        side.fail(f"could not run the server: {server.error}")
    else:
        side.fail("the server accepted the config"
                  + ("" if server.alive() else f" (exited with status {server.proc.returncode})"))
    return side


def info_differences(a, b):
    """One line per INFO key that differs between the n-th INFO frames of two transcripts."""
    def infos(transcript):
        out = []
        for line in transcript:
            head, _, rest = line.partition("< ")
            if rest.startswith("INFO "):
                try:
                    out.append((head, json.loads(rest[5:].strip())))
                except ValueError:
                    pass
        return out
    lines = []
    for (who, x), (_, y) in zip(infos(a), infos(b)):
        for key in sorted(set(x) | set(y)):
            if x.get(key, "<absent>") != y.get(key, "<absent>"):
                lines.append(f"INFO on {who} differs in {key!r}: "
                             f"{x.get(key, '<absent>')!r} vs {y.get(key, '<absent>')!r}")
    return sorted(set(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--natrix", help="natrix binary (omit for self-check: nats-server twice)")
    ap.add_argument("--natrix-args", action="append", default=[],
                    help="extra arguments for natrix (shell-split; repeatable)")
    ap.add_argument("--reference", default="/usr/sbin/nats-server", help="nats-server binary")
    ap.add_argument("--filter", help="only cases whose name contains this")
    ap.add_argument("--shards", type=int, help="pass --shards N to natrix")
    ap.add_argument("--skip-tag", action="append", default=[],
                    help="report cases with this tag as skipped (repeatable)")
    ap.add_argument("--natrix-config-append", default="",
                    help="text appended to natrix's config only: to check that cases notice a "
                         "mismatched server")
    ap.add_argument("-j", "--jobs", type=int, default=12, help="cases run at the same time")
    ap.add_argument("--list", action="store_true", help="list cases with their tags and exit")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every case's reference transcript as TAP comments")
    argv = sys.argv[1:]
    # `--natrix-args -D` would read -D as an option of ours: glue the value on.
    for i, a in enumerate(argv[:-1]):
        if a == "--natrix-args":
            argv[i:i + 2] = [f"--natrix-args={argv[i + 1]}"]
            break
    args = ap.parse_args(argv)

    cases = load_cases()
    if args.filter:
        cases = [c for c in cases if args.filter in c.name]
    if args.list:
        for c in cases:
            extra = f"  [{', '.join(c.tags)}]" if c.tags else ""
            kd = f"  (known difference: {c.known_difference})" if c.known_difference else ""
            print(f"{c.name}{extra}{kd}")
        return 0

    notes = []
    reference = args.reference
    if not os.path.exists(reference):
        found = shutil.which("nats-server") or \
            ("/usr/sbin/nats-server" if os.path.exists("/usr/sbin/nats-server") else None)
        if not found:
            print(f"Bail out! reference {reference} not found")
            return 2
        notes.append(f"reference {reference} does not exist; using {found}")
        reference = found
    self_check = not args.natrix or os.path.realpath(args.natrix) == os.path.realpath(reference)
    natrix_exe = reference if self_check else args.natrix
    natrix_args = [a for s in args.natrix_args for a in shlex.split(s)]
    if args.shards:
        if self_check:
            notes.append("--shards ignored in self-check mode")
        else:
            natrix_args += ["--shards", str(args.shards)]
    labels = ("nats-server", "nats-server#2" if self_check else "natrix")
    if self_check:
        notes.append("self-check mode: nats-server against a second nats-server")

    start = time.monotonic()
    print(f"1..{len(cases)}", flush=True)
    for n in notes:
        print(f"# {n}", flush=True)

    workdir = tempfile.TemporaryDirectory(prefix="natrix-conformance-")

    def on_signal(signum, _frame):
        servers.kill_all()
        os._exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # One server pair per distinct config text.
    runnable = [c for c in cases if not set(c.tags) & set(args.skip_tag)]
    groups = {}
    for c in runnable:
        text = BASE_CONFIG + (c.config + "\n" if c.config else "")
        if text not in groups:
            ref = servers.Server(labels[0], reference, [], text, workdir.name)
            nat = servers.Server(labels[1], natrix_exe, [] if self_check else natrix_args,
                                 text + args.natrix_config_append + "\n", workdir.name)
            groups[text] = (ref, nat)
        c._servers = groups[text]
        c._subjects = subjects_of(c)
    all_servers = [s for pair in groups.values() for s in pair]
    servers.start_all(all_servers)

    # Scheduling: a case may start once no conflicting case on the same servers runs.
    lock = threading.Condition()
    pending = list(runnable)
    running = []
    results = {}

    def take():
        with lock:
            while pending:
                for c in pending:
                    if not any(r._servers is c._servers and conflicts(c, r) for r in running):
                        pending.remove(c)
                        running.append(c)
                        return c
                lock.wait()
            return None

    def run_case(c):
        ref_srv, nat_srv = c._servers
        t0 = time.monotonic()
        if c.rejects_config:
            sides = [refusal(s) for s in (ref_srv, nat_srv)]
            ok, diag = judge(c, sides[0], sides[1], labels)
            results[c.name] = (ok, diag, sides[0], time.monotonic() - t0)
            return
        errors = []
        for s in (ref_srv, nat_srv):
            if s.error:
                errors.append(f"server did not start: {s.error}")
                errors.append(f"  command: {' '.join(s.cmd)}")
                errors.extend(f"  | {line}" for line in s.log_tail(5).splitlines())
        if errors:
            results[c.name] = (False, errors, None, 0.0)
            return
        out = {}
        t = threading.Thread(target=lambda: out.__setitem__(
            "nat", steps.run_side(c, servers.HOST, nat_srv.port)))
        t.start()
        ref_side = steps.run_side(c, servers.HOST, ref_srv.port)
        t.join()
        ok, diag = judge(c, ref_side, out["nat"], labels)
        for s in (ref_srv, nat_srv):
            if not s.alive():
                ok = False
                diag.append(f"{s.label} is no longer running (status {s.proc.returncode}); log tail:")
                diag.extend(f"  {line}" for line in s.log_tail().splitlines())
        results[c.name] = (ok, diag, ref_side, time.monotonic() - t0)

    def worker():
        while True:
            c = take()
            if c is None:
                return
            try:
                run_case(c)
            except Exception as e:  # a harness bug must fail the case, not hang the report
                results[c.name] = (False, [f"harness error: {type(e).__name__}: {e}"], None, 0.0)
            finally:
                with lock:
                    running.remove(c)
                    lock.notify_all()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()

    # Report in plan order as results arrive.
    failed = 0
    for n, c in enumerate(cases, 1):
        if set(c.tags) & set(args.skip_tag):
            print(f"ok {n} - {c.name} # SKIP tag {', '.join(sorted(set(c.tags) & set(args.skip_tag)))}",
                  flush=True)
            continue
        while c.name not in results:
            time.sleep(0.01)
        ok, diag, ref_side, secs = results[c.name]
        if c.known_difference:
            # TAP's expected failure: the transcripts differ, as documented. If
            # they ever agree, `ok ... # TODO` is an unexpected pass, which
            # meson and tools/run_tests.py report, so the mark gets removed.
            status = "ok" if ok else "not ok"
            print(f"{status} {n} - {c.name} # TODO known difference: {c.known_difference}")
        elif ok:
            print(f"ok {n} - {c.name}")
        else:
            failed += 1
            print(f"not ok {n} - {c.name}")
        if not ok:
            diag = diag + [f"config: {c.config!r}"] if c.config else diag
            for line in diag:
                print(f"# {line}")
        if args.verbose and ref_side is not None:
            print(f"# ({secs:.2f}s) transcript against {labels[0]}:")
            for line in ref_side.transcript:
                print(f"#   {line}")
        sys.stdout.flush()
    for t in threads:
        t.join()
    for s in all_servers:
        s.stop()
    workdir.cleanup()
    print(f"# {len(cases)} cases, {failed} failed, {time.monotonic() - start:.1f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
