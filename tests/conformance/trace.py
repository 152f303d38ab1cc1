#!/usr/bin/env python3
"""Protocol traces: natrix -DV and nats-server -DV through the same raw sessions, and the
[TRC] lines of each client must agree.

    trace.py --natrix PATH --reference /usr/sbin/nats-server [--shards N]
             [--natrix-args ARGS] [--filter S] [-v]

Each case starts a fresh pair of servers with -DV on the same config text, drives the
same bytes into both from the same script, stops them and reads their logs. A trace line
is "[pid] date time [TRC] 127.0.0.1:PORT - cid:N - ["name" - ]<text>"; the address and cid
become the client's label in the script (its local port tells which), and each client's
lines are compared in order. What is normalised and why:
  - nats-server's CONNECT lines are redacted with the patterns of later nats-server
    releases (removeSecretsFromTrace), which natrix follows: 2.9.10 shows tokens,
    signatures and nkeys, and hides only the first password (docs/protocol_compatibility.md);
  - a run of DELSUB lines (a connection's subscriptions going away when it closes) is
    compared as a set: nats-server walks a Go map, in random order;
  - server PINGs (->> [PING]) count only in cases about them: they come on a timer.
Output is TAP; the exit status is 1 if any case differs. See docs/conformance.md.
"""
import sys

sys.dont_write_bytecode = True  # keep the source tree clean of __pycache__

import argparse
import difflib
import pathlib
import re
import shutil
import shlex
import signal
import socket
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import servers  # noqa: E402

STEP_WAIT = 0.12  # after each send: the servers (and other shards) act on it


def pub(subject, payload, reply=None, op="PUB"):
    payload = payload.encode("latin-1") if isinstance(payload, str) else payload
    args = [subject] + ([reply] if reply else []) + [str(len(payload))]
    return f"{op} {' '.join(args)}\r\n".encode() + payload + b"\r\n"


def hpub(subject, headers, payload):
    h = headers.encode()
    body = h + payload.encode()
    return f"HPUB {subject} {len(h)} {len(body)}\r\n".encode() + body + b"\r\n"


class Case:
    def __init__(self, name, steps, config="", pings=False, flags=("-DV",)):
        self.name, self.steps, self.config, self.pings = name, steps, config, pings
        self.flags = list(flags)


# Steps: ("a", "connect"), ("a", b"bytes"), ("a", "close"), ("a", "answer_ping"),
# ("sleep", secs), ("reload", config text: rewritten, then SIGHUP). Clients are opened
# by their first step.
USERS = 'authorization { users: [ {user: derek, password: "s3cr3t"} ] }\n'
TOKEN = "authorization { token: tok3n }\n"

CASES = [
    Case("verbose session with user and password", [
        ("a", b'CONNECT {"verbose":true,"pedantic":false,"user":"derek","pass":"s3cr3t",'
              b'"name":"n1","lang":"python","version":"1.2.3","headers":true}\r\n'),
        ("a", b"SUB foo 1\r\nSUB bar q 2\r\nSUB baz 3\r\n"),
        ("a", pub("foo", "hello")),
        ("a", pub("foo", b'"\x01\xff\\', reply="r.x")),
        ("a", hpub("foo", "NATS/1.0\r\nA: b\r\n\r\n", "hello")),
        ("a", b"UNSUB 3\r\nUNSUB 2 3\r\nPING\r\nPONG\r\n"),
        ("a", b"FOO\r\n"),
    ], config=USERS),
    Case("secrets in CONNECT", [
        ("a", b'CONNECT {"verbose":false,"pedantic":true,"auth_token":"tok3n","sig":"abcd",'
              b'"nkey":"UABC","jwt":"eyJ","password":"p2", "pass" : "x", "proxy_sig":"ps"}\r\n'
              b"PING\r\n"),
        ("a", b"SUB foo 1\r\n" + pub("foo", "hello", reply="r") + b"PING\r\n"),
        ("a", b"HPUB nobody r 12 12\r\nNATS/1.0\r\n\r\n\r\n"),
    ], config=TOKEN),
    Case("refused token", [
        ("a", b'CONNECT {"verbose":false,"auth_token":"bad"}\r\nPING\r\n'),
    ], config=TOKEN),
    Case("operation before CONNECT", [
        ("a", b"PING\r\n"),
    ], config=TOKEN),
    Case("two clients", [
        ("s", b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"name":"sub\\"x"}\r\n'
              b"SUB foo  1\r\nSUB bar 2\r\nUNSUB 1  2\r\nPING\r\n"),
        ("p", b'CONNECT {"verbose":false,"lang":"go","headers":true}\r\n'
              b"PUB   foo   2  \r\nhi\r\n" + hpub("foo", "NATS/1.0\r\n\r\n", "hi")),
        ("p", pub("bar", b"\xc3\xa9\x07") + pub("bar", b"\xc2\xa0\xe2\x80\x8b\x7f\\\xf0\x9f\x98\x80")),
        ("p", b"pub bar 0\r\n\r\nPING\r\n"),
        ("s", b"PING\r\n"),
        ("p", b"SUB p 1\r\n" + pub("p", "") + pub("foo.*", "") + b"PING\r\n"),
        ("p", b"PUB foo 99999999\r\n"),
        ("s", b"SUB a b c d e\r\n"),
    ]),
    Case("split payload, blanks and lower case", [
        ("a", b'CONNECT {"verbose":true,"pedantic":false}\r\nsub\tq.a  7\r\n'),
        ("a", b"PUB q.a 10\r\n01234"),
        ("a", b"56789\r\nPuB q.a\tr.1 1 \r\nz\r\n"),
        ("a", b"unsub 7 \r\nPING x\r\n"),
        ("a", b"PUB q.a 4\r\nhello\r\n"),
    ]),
    Case("errors with text", [
        ("a", b'CONNECT {"verbose":false,"user":"u","pass":"p"}\r\n'),
        ("a", b"SUB secret.x 1\r\n" + pub("secret.y", "x") + b"SUB ok 2\r\n" +
         pub("ok", "fine") + b"PING\r\n"),
        ("a", b"UNSUB\r\n"),
    ], config='authorization { users: [ {user: u, password: p, permissions: '
              '{publish: {deny: "secret.>"}, subscribe: {deny: "secret.>"}}} ] }\n'),
    Case("max_traced_msg_len", [
        ("a", b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB m 1\r\n'),
        ("a", pub("m", "abc") + pub("m", "abcdef") + pub("m", b"\x01\x02\x03\x04\x05") +
         pub("m", "ab\xe9\x99") + pub("m", "ab\xe9\x99z") + b"PING\r\n"),
    ], config="max_traced_msg_len: 4\n"),
    Case("trace switched on and off by SIGHUP", [
        ("a", b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB r 1\r\nPING\r\n'),
        ("reload", "trace: true\n"),
        ("a", pub("r", "on") + b"PING\r\n"),
        ("reload", "trace: false\n"),
        ("a", pub("r", "off") + b"PING\r\n"),
    ], config="trace: false\n", flags=()),
    Case("server PING", [
        ("a", b'CONNECT {"verbose":false,"pedantic":false}\r\n'),
        ("a", "answer_ping"),
        ("a", b"PING\r\n"),
    ], pings=True),
]

# -- driving a server ----------------------------------------------------------------------


def drive(case, server):
    """Runs the steps against one server; returns {label: local port} and a list of
    problems."""
    port = server.port
    socks, ports, problems = {}, {}, []

    def drain(s, timeout=0.0):
        data = b""
        s.settimeout(timeout)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                s.settimeout(0.0)
        except (BlockingIOError, socket.timeout, OSError):
            pass
        return data

    for label, what in case.steps:
        if label == "sleep":
            time.sleep(what)
            continue
        if label == "reload":
            with open(server.config_path, "w") as fh:
                fh.write(what)
            server.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            continue
        if label not in socks:
            s = socket.create_connection((servers.HOST, port), timeout=5)
            socks[label] = s
            ports[label] = s.getsockname()[1]
            info = b""
            s.settimeout(5)
            while b"\r\n" not in info:
                chunk = s.recv(4096)
                if not chunk:
                    break
                info += chunk
        s = socks[label]
        if what == "connect":
            continue
        if what == "close":
            s.close()
            continue
        if what == "answer_ping":
            got, deadline = b"", time.monotonic() + 5
            while b"PING\r\n" not in got and time.monotonic() < deadline:
                got += drain(s, 0.2)
            if b"PING\r\n" not in got:
                problems.append(f"{label}: no server PING within 5 s")
            else:
                s.sendall(b"PONG\r\n")
            time.sleep(STEP_WAIT)
            continue
        try:
            s.sendall(what)
        except OSError:
            pass  # closed by the server: its trace says why
        time.sleep(STEP_WAIT)
        drain(s)
    for s in socks.values():
        s.close()
    time.sleep(0.3)  # closes and their DELSUBs
    return ports, problems


# -- reading and normalising traces --------------------------------------------------------

_TRC = re.compile(r"^\[\d+\] (?:\S+ \S+ )?\[TRC\] (.*)$")
_WHO = re.compile(r"^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+)):(\d+) - cid:\d+ - (.*)$")

# nats-server's removeSecretsFromTrace (server/client.go after 2.11), RE2's \s spelled out.
_S = r"[\t\n\f\r ]"
_PREFIX_AUTH = re.compile(rf'"?{_S}*(?:auth_token[^\t\n\f\r ]*?|pass[^\t\n\f\r ]*?)"?{_S}*[:=]'
                          rf'{_S}*"?([^",\r\n}}]*)')
_EXACT_AUTH = re.compile(rf'(?:^|[^A-Za-z0-9_])"?{_S}*(?:proxy_sig|nkey|sig)"?{_S}*[:=]{_S}*"?'
                         rf'([^",\r\n}}]*)')


def redact(arg):
    for pat in (_PREFIX_AUTH, _EXACT_AUTH):
        for m in reversed(list(pat.finditer(arg))):
            arg = arg[:m.start(1)] + "[REDACTED]" + arg[m.end(1):]
    return arg


def traces(log_path, ports, pings, newer_redaction):
    """{label: [text]} from a server log."""
    by_port = {p: label for label, p in ports.items()}
    out = {label: [] for label in ports}
    with open(log_path, "rb") as fh:
        for raw in fh.read().decode("utf-8", "surrogateescape").splitlines():
            m = _TRC.match(raw)
            if not m:
                continue
            who = _WHO.match(m.group(1))
            if not who:
                out.setdefault("?", []).append(m.group(1))
                continue
            label = by_port.get(int(who.group(3)), "?" + who.group(3))
            text = who.group(4)
            if newer_redaction:
                head = '<<- [CONNECT '
                at = text.find(head)
                if at >= 0 and text.endswith("]"):
                    arg = text[at + len(head):-1]
                    text = text[:at + len(head)] + redact(arg) + "]"
            if not pings and text.endswith("->> [PING]"):
                continue
            out.setdefault(label, []).append(text)
    for label, lines in out.items():
        # Runs of DELSUB as sets.
        i = 0
        while i < len(lines):
            j = i
            while j < len(lines) and "<-> [DELSUB " in lines[j]:
                j += 1
            lines[i:j] = sorted(lines[i:j])
            i = max(j, i + 1)
    return out


def run_case(case, reference, natrix, natrix_args, workdir):
    ref = servers.Server("nats-server", reference, case.flags, case.config, workdir)
    nat = servers.Server("natrix", natrix, case.flags + natrix_args, case.config, workdir)
    servers.start_all([ref, nat])
    for s in (ref, nat):
        if s.error:
            return None, None, [f"{s.label}: {s.error}\n{s.log_tail()}"]
    results = {}

    def one(server):
        results[server.label] = drive(case, server)

    threads = [threading.Thread(target=one, args=(s,)) for s in (ref, nat)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (ref, nat):
        s.stop()
    problems = []
    for label, (_, probs) in results.items():
        problems += [f"{label}: {p}" for p in probs]
    a = traces(ref.log_path, results["nats-server"][0], case.pings, newer_redaction=True)
    b = traces(nat.log_path, results["natrix"][0], case.pings, newer_redaction=False)
    return a, b, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--natrix", required=True)
    ap.add_argument("--reference", default="/usr/sbin/nats-server")
    ap.add_argument("--shards", type=int)
    ap.add_argument("--natrix-args", action="append", default=[],
                    help="extra natrix flags, split like a shell would (repeatable)")
    ap.add_argument("--filter")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every trace")
    args = ap.parse_args()
    reference = args.reference
    if not pathlib.Path(reference).exists():
        reference = shutil.which("nats-server") or "/usr/sbin/nats-server"
    natrix_args = ["--shards", str(args.shards)] if args.shards else []
    for extra in args.natrix_args:
        natrix_args += shlex.split(extra)
    cases = [c for c in CASES if not args.filter or args.filter in c.name]
    print(f"1..{len(cases)}", flush=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="natrix-trace-") as workdir:
        for n, case in enumerate(cases, 1):
            a, b, problems = run_case(case, reference, args.natrix, natrix_args, workdir)
            ok = not problems and a == b and a is not None and any(a.values())
            print(f"{'ok' if ok else 'not ok'} {n} - {case.name}", flush=True)
            if not ok:
                failed += 1
            for p in problems:
                print(f"# {p}")
            if a is None:
                continue
            for label in sorted(set(a) | set(b)):
                la, lb = a.get(label, []), b.get(label, [])
                if args.verbose:
                    for line in lb:
                        print(f"# {label}: {line}")
                if la != lb:
                    print(f"# client {label}:")
                    for d in difflib.unified_diff(la, lb, "nats-server", "natrix", lineterm="", n=2):
                        print(f"# {d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
