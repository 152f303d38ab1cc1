#!/usr/bin/env python3
"""Client TLS on the wire, natrix against nats-server 2.9.10 under the same tls config, TAP output.

Every differential case runs once against nats-server and once against natrix (1 and 2 shards) and
what the client saw must be equal: the plain-text INFO's tls_required/tls_verify/tls_available, the
handshake-timeout -ERR text, a plain-text CONNECT where TLS is required, TLS and plain clients with
allow_non_tls, and a certificate reload on SIGHUP (old connections keep working, new ones get the new
certificate). handshake_first (nats-server 2.10+, not in 2.9) runs against natrix only. Clients use
Python's ssl module; certificates come from tls_certs.sh.

usage: tls_protocol_test.py NATRIX_BIN CERTS_SCRIPT [NATS_SERVER_BIN]
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from route_protocol_test import free_port  # noqa: E402

CERTS = None


def c(name):
    return os.path.join(CERTS, name)


class server:
    def __init__(self, kind, binary, shards, tls_extra="", top_extra="", certs=None):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="natrix-tlsp-")
        self.port = free_port()
        cert, key = certs or (c("server.pem"), c("server.key"))
        self.conf = os.path.join(self.dir, "s.conf")
        with open(self.conf, "w") as f:
            f.write("listen: 127.0.0.1:%d\n%s\ntls {\n cert_file: \"%s\"\n key_file: \"%s\"\n"
                    " ca_file: \"%s\"\n %s\n}\n" % (self.port, top_extra, cert, key, c("ca.pem"),
                                                   tls_extra))
        args = [binary, "-c", self.conf]
        if kind == "natrix":
            args += ["--shards", str(shards)]
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("%s did not start" % kind)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def read_line(s, timeout=3):
    s.settimeout(timeout)
    buf = b""
    while b"\r\n" not in buf:
        d = s.recv(1)
        if not d:
            return None
        buf += d
    return buf[:-2].decode()


def info_flags(line):
    i = json.loads(line[5:])
    return {k: i.get(k, False) for k in ("tls_required", "tls_verify", "tls_available")}


def tls_ctx(client_cert=None):
    ctx = ssl.create_default_context(cafile=c("ca.pem"))
    if client_cert:
        ctx.load_cert_chain(c(client_cert + ".pem"), c(client_cert + ".key"))
    return ctx


def tls_client(srv, client_cert=None):
    """INFO in plain text, then TLS; returns (INFO flags, the TLS socket after CONNECT/PONG)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
    flags = info_flags(read_line(s))
    t = tls_ctx(client_cert).wrap_socket(s, server_hostname="localhost")
    t.sendall(b'CONNECT {"verbose":false,"tls_required":true}\r\nPING\r\n')
    while True:
        l = read_line(t)
        if l is None or l == "PONG":
            break
    return flags, t


def roundtrip(t, subject="x.y"):
    t.sendall(b"SUB %s 1\r\nPUB %s 2\r\nok\r\nPING\r\n" % (subject.encode(), subject.encode()))
    got = []
    while True:
        l = read_line(t)
        if l is None or l == "PONG":
            break
        got.append(l)
    return got


def until_closed(s, timeout=3):
    s.settimeout(timeout)
    buf = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return buf.decode(errors="replace"), True
            buf += d
    except socket.timeout:
        return buf.decode(errors="replace"), False
    except OSError:
        return buf.decode(errors="replace"), True


# ---- differential cases: each returns what the client saw ----

def case_info_fields(make):
    out = []
    for name, tls_extra, top in (("tls", "", ""), ("verify", "verify: true", ""),
                                 ("allow_non_tls", "", "allow_non_tls: true")):
        srv = make(tls_extra, top)
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
            out.append("%s: %s" % (name, info_flags(read_line(s))))
            s.close()
        finally:
            srv.stop()
    return out


def case_handshake_timeout(make):
    srv = make("timeout: 0.5", "")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        read_line(s)
        s.sendall(b"\x16\x03\x01")
        t0 = time.monotonic()
        text, closed = until_closed(s)
        waited = time.monotonic() - t0
        return [text.strip(), "closed=%s" % closed, "within 0.3-2.5 s=%s" % (0.3 < waited < 2.5)]
    finally:
        srv.stop()


def case_plain_connect_where_tls_required(make):
    srv = make("", "")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        read_line(s)
        s.sendall(b"CONNECT {}\r\nPING\r\n")
        text, closed = until_closed(s)
        return ["PONG" in text, "closed=%s" % closed]
    finally:
        srv.stop()


def case_allow_non_tls_both(make):
    srv = make("", "allow_non_tls: true")
    try:
        flags, t = tls_client(srv)
        out = ["tls: %s" % roundtrip(t)]
        t.close()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        read_line(s)
        s.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        read_line(s)
        out.append("plain: %s" % roundtrip(s))
        return out
    finally:
        srv.stop()


def case_mutual_tls(make):
    srv = make("verify: true", "")
    try:
        _, t = tls_client(srv, "alice")
        out = ["alice: %s" % roundtrip(t)]
        try:
            _, t2 = tls_client(srv)  # no client certificate
            out.append("no cert: %s" % roundtrip(t2))
        except (ssl.SSLError, OSError) as e:
            out.append("no cert: refused")
        return out
    finally:
        srv.stop()


def case_reload_certificates(make):
    d = tempfile.mkdtemp(prefix="natrix-tlsr-")
    cert, key = os.path.join(d, "s.pem"), os.path.join(d, "s.key")
    shutil.copy(c("server.pem"), cert)
    shutil.copy(c("server.key"), key)
    srv = make("", "", (cert, key))
    try:
        _, old = tls_client(srv)
        first = hashlib.sha256(old.getpeercert(binary_form=True)).hexdigest()
        shutil.copy(c("server2.pem"), cert)
        shutil.copy(c("server2.key"), key)
        srv.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        _, new = tls_client(srv)
        second = hashlib.sha256(new.getpeercert(binary_form=True)).hexdigest()
        want2 = hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(c("server2.pem")).read())).hexdigest()
        return ["old connection still works: %s" % roundtrip(old, "a.b"),
                "new connection: %s" % roundtrip(new, "c.d"),
                "certificate changed=%s" % (first != second), "new one is server2=%s" % (second == want2)]
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


def spki_sha256(cert):
    pub = subprocess.run(["openssl", "x509", "-in", c(cert), "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def case_pinned_certs(make):
    srv = make("verify: true\n pinned_certs: [\"%s\"]" % spki_sha256("alice.pem"), "")
    try:
        _, t = tls_client(srv, "alice")
        out = ["alice (pinned): %s" % roundtrip(t)]
        try:
            _, t2 = tls_client(srv, "bob")
            out.append("bob (not pinned): %s" % roundtrip(t2))
        except (ssl.SSLError, OSError):
            out.append("bob (not pinned): refused")
        return out
    finally:
        srv.stop()


def case_connection_rate_limit(make):
    srv = make("connection_rate_limit: 2", "")
    try:
        time.sleep(1.2)  # a new second: the start-up probe's connection no longer counts
        socks, throttled = [], 0
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
            socks.append(s)
        for s in socks:
            read_line(s)  # INFO
            s.settimeout(0.5)
            try:
                if b"Connection throttling is active" in s.recv(4096):
                    throttled += 1
            except socket.timeout:
                pass
        # 1 to 2 accepted (natrix splits the limit across shards), the rest told why.
        return ["throttled 4-5 of 6: %s" % (4 <= throttled <= 5)]
    finally:
        srv.stop()


CASES = [
    ("INFO fields: tls, verify, allow_non_tls", case_info_fields),
    ("handshake timeout -ERR and close", case_handshake_timeout),
    ("plain-text CONNECT where TLS is required", case_plain_connect_where_tls_required),
    ("allow_non_tls: a TLS and a plain client", case_allow_non_tls_both),
    ("mutual TLS with and without a client certificate", case_mutual_tls),
    ("certificates reload on SIGHUP, open connections stay", case_reload_certificates),
    ("pinned_certs: only the pinned client certificate", case_pinned_certs),
    ("connection_rate_limit: the rest are told to try later", case_connection_rate_limit),
]


# ---- natrix only: handshake_first (nats-server 2.10+) ----

def natrix_handshake_first(natrix, shards):
    out = []
    srv = server("natrix", natrix, shards, "handshake_first: true")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        t = tls_ctx().wrap_socket(s, server_hostname="localhost")
        info = read_line(t)
        out.append("TLS first, INFO inside: %s" % (info_flags(info)["tls_required"] is True))
        t.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        out.append("PONG=%s" % (read_line(t) == "PONG"))
    finally:
        srv.stop()
    srv = server("natrix", natrix, shards, "handshake_first: auto")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        t0 = time.monotonic()
        info = read_line(s)  # a client that waits gets INFO in plain text after the delay
        waited = time.monotonic() - t0
        out.append("auto, silent client: plain INFO after %s" % ("the delay" if waited >= 0.04 else
                                                                  "%.3f s" % waited))
        t = tls_ctx().wrap_socket(s, server_hostname="localhost")
        t.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
        out.append("then TLS: PONG=%s" % (read_line(t) == "PONG"))
        s2 = socket.create_connection(("127.0.0.1", srv.port), timeout=3)
        t2 = tls_ctx().wrap_socket(s2, server_hostname="localhost")
        out.append("auto, TLS-first client: INFO inside=%s" % read_line(t2).startswith("INFO "))
    finally:
        srv.stop()
    return out


def main():
    global CERTS
    natrix, script = sys.argv[1], sys.argv[2]
    nats = sys.argv[3] if len(sys.argv) > 3 else "/usr/sbin/nats-server"
    CERTS = tempfile.mkdtemp(prefix="natrix-tlsc-")
    subprocess.run([script, CERTS], check=True)
    have_nats = os.path.exists(nats)
    n_total = (2 * len(CASES) if have_nats else 0) + 2
    print("1..%d" % n_total, flush=True)
    failed = 0
    n = 0
    try:
        if have_nats:
            for name, fn in CASES:
                def run(kind, binary, shards):
                    try:
                        return fn(lambda tls_extra, top, certs=None:
                                  server(kind, binary, shards, tls_extra, top, certs))
                    except Exception as e:
                        return ["exception: %r" % e]
                want = run("nats", nats, 1)
                for shards in (1, 2):
                    n += 1
                    got = run("natrix", natrix, shards)
                    ok = got == want and not any("exception" in str(x) for x in want)
                    failed += not ok
                    print("%s %d - %s (%d shard%s)" % ("ok" if ok else "not ok", n, name, shards,
                                                        "" if shards == 1 else "s"), flush=True)
                    if not ok:
                        print("#   nats-server: %s" % want)
                        print("#   natrix:      %s" % got, flush=True)
        for shards in (1, 2):
            n += 1
            try:
                got = natrix_handshake_first(natrix, shards)
            except Exception as e:
                got = ["exception: %r" % e]
            want = ["TLS first, INFO inside: True", "PONG=True",
                    "auto, silent client: plain INFO after the delay", "then TLS: PONG=True",
                    "auto, TLS-first client: INFO inside=True"]
            ok = got == want
            failed += not ok
            print("%s %d - handshake_first true and auto (natrix, %d shard%s)"
                  % ("ok" if ok else "not ok", n, shards, "" if shards == 1 else "s"), flush=True)
            if not ok:
                print("#   got: %s" % got, flush=True)
    finally:
        shutil.rmtree(CERTS, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
