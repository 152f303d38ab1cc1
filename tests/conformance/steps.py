"""The case language: a Case is a list of steps run against one server at a time.

Every step appends to the side's transcript (what was sent, what came back, in script
order) and may add a failure (a direct assertion that did not hold). After the first
failure a side stops running steps: later ones would only repeat the damage. The runner
(run.py) runs each case against both servers and compares the two transcripts.

Frames are written as the server sends them, minus the final CRLF; a MSG/HMSG frame
includes CRLF and its payload: "MSG foo 1 5\\r\\nhello". Strings are sent and compared as
latin-1, so any byte can be written as "\\xNN".

Values a server chooses at random (a service-import reply subject, the nonce) can flow into
later steps: capture() saves parts of a received frame as named values, send() replaces
"${name}" with them, and Late values in CONNECT options (sign_nonce) are computed when the
step runs. Transcripts show the "${name}" and Late placeholders, never the values.
"""
import json
import re
import time
from collections import Counter

import wire

DEFAULT_TIMEOUT = 5.0   # waiting for something that should come; costs nothing when it does
SETTLE = 0.15           # after the last step: anything arriving now was not expected


class Case:
    """One conformance case.

    config: nats-server-syntax text appended to the base config for this case; cases with the
        same text share one server pair.
    tags: labels for --list and --skip-tag (e.g. "auth" = waits for natrix's auth work).
    known_difference: reason text when natrix deliberately differs (see
        docs/protocol_compatibility.md); the case still runs and is reported as TODO.
    isolated: run on the group's servers with no other case running at the same time.
    rejects_config: the case has no steps; both servers must refuse `config`, exiting with a
        non-zero status before they accept a connection.
    """

    def __init__(self, name, steps, config="", tags=(), known_difference=None, isolated=False,
                 rejects_config=False):
        self.name = name
        self.steps = list(steps)
        self.config = config.strip()
        self.tags = tuple(tags)
        self.known_difference = known_difference
        self.isolated = isolated
        self.rejects_config = rejects_config
        if rejects_config and self.steps:
            raise ValueError(f"{name}: a rejects_config case has no steps")


class Side:
    """The state of one case against one server."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.conns = {}
        self.transcript = []
        self.failures = []
        self.values = {}   # name -> text saved by capture(), used as ${name} in send()

    def record(self, line):
        self.transcript.append(line)

    def fail(self, message):
        self.failures.append(message)
        self.record(f"!! {message}")

    def conn(self, name):
        if name not in self.conns:
            raise KeyError(f"client {name!r} is not connected in this case")
        return self.conns[name]

    def record_frame(self, name, frame):
        if frame is wire.CLOSED:
            self.record(f"{name}< {wire.CLOSED}")
        else:
            self.record(f"{name}< {wire.escape(frame.text)}")


def _data(x):
    return x.encode("latin-1") if isinstance(x, str) else bytes(x)


def _show(pattern):
    if isinstance(pattern, Pattern):
        return pattern.describe()
    return f"'{wire.escape(pattern)}'"


class Pattern:
    """A frame matcher other than exact text."""

    def matches(self, frame):
        raise NotImplementedError

    def describe(self):
        raise NotImplementedError


class AnyInfo(Pattern):
    def matches(self, frame):
        return frame.op == "INFO" and frame.info is not None

    def describe(self):
        return "any INFO"


class Re(Pattern):
    """Frame text must fully match the regular expression."""

    def __init__(self, regex):
        self.regex = re.compile(regex, re.S)

    def matches(self, frame):
        return self.regex.fullmatch(frame.text) is not None

    def describe(self):
        return f"/{self.regex.pattern}/"


class Capture(Pattern):
    """A frame template: literal text in which each "${name}" stands for one token (no
    blank, CR or LF). Matched against the frame as received (before normalization); on a
    match the tokens are saved in the side's values for later "${name}" in send()."""

    _VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

    def __init__(self, template):
        self.template = template
        parts, pos = [], 0
        for m in self._VAR.finditer(template):
            parts.append(re.escape(template[pos:m.start()]))
            parts.append(f"(?P<{m.group(1)}>[^ \t\r\n]+)")
            pos = m.end()
        parts.append(re.escape(template[pos:]))
        self.regex = re.compile("".join(parts), re.S)

    def matches(self, frame):
        return self.regex.fullmatch(frame.raw) is not None

    def captured(self, frame):
        return self.regex.fullmatch(frame.raw).groupdict()

    def describe(self):
        return f"'{wire.escape(self.template)}' (capturing)"


def capture(template):
    """Frame pattern for expect(): `template` is the exact frame with "${name}" for each
    token to save, e.g. capture(msg("svc.q", 1, "hi", reply="${rep}")) saves the reply
    subject as "rep"; a later send(c, pub("${rep}", "ok")) publishes to it."""
    return Capture(template)


class Late:
    """A CONNECT option value computed when the connect step runs: fn(side, client name)
    returns the value; `shown` is what the transcript records instead."""

    def __init__(self, fn, shown):
        self.fn, self.shown = fn, shown


def sign_nonce(keypair, of=None, encoding="url"):
    """CONNECT "sig" value: `keypair` (nkeys.KeyPair) signs the nonce from the INFO that
    client `of` received (default: the connecting client itself). encoding "url" =
    base64url without padding (what clients send), "std" = standard base64 with padding."""
    import nkeys

    def fn(side, name):
        who = of or name
        nonce = (side.conn(who).first_info or {}).get("nonce")
        if not isinstance(nonce, str):
            raise KeyError(f"client {who!r} got no nonce in INFO")
        sig = keypair.sign(nonce)
        return nkeys.sig_url(sig) if encoding == "url" else nkeys.sig_std(sig)
    whose = f"{of}'s" if of else "own"
    return Late(fn, f"<{encoding} signature of {whose} nonce by {keypair.public_key[:8]}...>")


INFO = AnyInfo()


def _matches(pattern, frame):
    if frame is wire.CLOSED or frame is None:
        return False
    if isinstance(pattern, Pattern):
        return pattern.matches(frame)
    return frame.text == pattern


def _check_at(side, name, what, at, window):
    if window is None or at is None:
        return
    lo, hi = window
    if not (lo <= at <= hi):
        side.fail(f"{name}: {what} arrived {at:.2f}s after connect, outside [{lo}, {hi}]s")


class Step:
    def run(self, side):
        raise NotImplementedError


# -- wire text builders: cases may also write the bytes out by hand ------------------------

def _len(x):
    return len(_data(x))


def pub(subject, payload="", reply=None):
    """PUB command with the right size: pub("foo", "hi") == "PUB foo 2\\r\\nhi\\r\\n"."""
    r = f" {reply}" if reply else ""
    return f"PUB {subject}{r} {_len(payload)}\r\n{payload}\r\n"


def hpub(subject, headers, payload="", reply=None):
    """HPUB command; `headers` is the whole header block including its closing blank line."""
    r = f" {reply}" if reply else ""
    return f"HPUB {subject}{r} {_len(headers)} {_len(headers) + _len(payload)}\r\n{headers}{payload}\r\n"


def msg(subject, sid, payload="", reply=None):
    """The MSG frame a subscriber gets, as expect() wants it."""
    r = f" {reply}" if reply else ""
    return f"MSG {subject} {sid}{r} {_len(payload)}\r\n{payload}"


def hmsg(subject, sid, headers, payload="", reply=None):
    r = f" {reply}" if reply else ""
    return f"HMSG {subject} {sid}{r} {_len(headers)} {_len(headers) + _len(payload)}\r\n{headers}{payload}"


# -- connections --------------------------------------------------------------------------

class Connect(Step):
    def __init__(self, name, opts, pings):
        self.name, self.opts, self.pings = name, opts, pings

    def run(self, side):
        try:
            c = wire.Connection(side.host, side.port, strip_pings=(self.pings == "strip"))
        except OSError as e:
            side.fail(f"{self.name}: cannot connect: {e}")
            return
        side.conns[self.name] = c
        side.record(f"{self.name}: connected")
        f = c.next_frame(time.monotonic() + DEFAULT_TIMEOUT)
        if f is None:
            side.fail(f"{self.name}: no INFO within {DEFAULT_TIMEOUT}s")
            return
        side.record_frame(self.name, f)
        if not _matches(INFO, f):
            side.fail(f"{self.name}: first frame is not INFO")
            return
        c.first_info = f.info
        c.first_info_raw = f.raw_line
        if self.opts is not None:
            if isinstance(self.opts, str):
                Send(self.name, f"CONNECT {self.opts}\r\n").run(side)
                return
            real = {k: (v.fn(side, self.name) if isinstance(v, Late) else v)
                    for k, v in self.opts.items()}
            shown = {k: (v.shown if isinstance(v, Late) else v) for k, v in self.opts.items()}
            body = json.dumps(real, separators=(",", ":"))
            Send(self.name, f"CONNECT {body}\r\n",
                 shown=f"CONNECT {json.dumps(shown, separators=(',', ':'))}\r\n").run(side)


def connect(name, opts=None, pings="strip"):
    """Opens client `name`, checks that INFO comes first, sends CONNECT if opts is given
    (a dict, or raw text for malformed JSON). pings="strip" drops server PINGs from this
    client's stream (they are timing-dependent); "keep" delivers them as frames."""
    return Connect(name, opts, pings)


def ready(name, pings="strip", **opts):
    """connect + CONNECT (verbose and pedantic off unless given) + PING/PONG round trip."""
    full = {"verbose": False, "pedantic": False}
    full.update(opts)
    acks = ["+OK"] if full["verbose"] else []
    return [connect(name, full, pings), send(name, "PING\r\n"), expect(name, *acks, "PONG")]


class Close(Step):
    def __init__(self, name):
        self.name = name

    def run(self, side):
        side.conn(self.name).close()
        del side.conns[self.name]
        side.record(f"{self.name}: client closed")


def close(name):
    return Close(name)


# -- sending ------------------------------------------------------------------------------

_VALUE_REF = re.compile(rb"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Send(Step):
    def __init__(self, name, data, chunk=None, gap=None, shown=None):
        self.name = name
        self.shown = shown
        if isinstance(data, (list, tuple)):   # explicit pieces
            self.pieces = [_data(d) for d in data]
        elif chunk:
            whole = _data(data)
            self.pieces = [whole[i:i + chunk] for i in range(0, len(whole), chunk)]
        else:
            self.pieces = [_data(data)]
        self.data = b"".join(self.pieces)
        self.how = "" if len(self.pieces) == 1 else \
            f" (in {chunk}-byte pieces)" if chunk else f" (in {len(self.pieces)} pieces)"
        self.gap = gap if gap is not None else (0.001 if chunk else 0.01)

    def run(self, side):
        text = self.shown if self.shown is not None else self.data.decode('latin-1')
        side.record(f"{self.name}> {wire.escape(text)}{self.how}")
        c = side.conn(self.name)
        pieces = self.pieces
        if b"${" in self.data:
            def value(m):
                key = m.group(1).decode()
                if key not in side.values:
                    raise KeyError(f"no value captured as {key!r} before this send")
                return side.values[key].encode("latin-1")
            pieces = [_VALUE_REF.sub(value, p) for p in pieces]
        for n, piece in enumerate(pieces):
            if n and self.gap:
                time.sleep(self.gap)
            # A failed write means the server closed first; the following expect steps see it.
            result = c.send(piece)
            if result == "stalled":
                side.fail(f"{self.name}: the server stopped reading; could not send within 10s")
            if result != "ok":
                break


def send(name, data, chunk=None, gap=None):
    """Sends raw bytes: at once; or in `chunk`-byte writes 1 ms apart (chunk=1: byte by
    byte); or, when data is a list, as those pieces 10 ms apart (gap overrides either).
    "${name}" is replaced by the value capture() saved under that name (within one piece:
    the payload size is counted on the text as written, so use it in subjects only)."""
    return Send(name, data, chunk, gap)


class Sleep(Step):
    def __init__(self, seconds):
        self.seconds = seconds

    def run(self, side):
        time.sleep(self.seconds)


def sleep(seconds):
    """Waits; use only where the case is about time (an expect waits for bytes instead)."""
    return Sleep(seconds)


# -- receiving ----------------------------------------------------------------------------

class Expect(Step):
    def __init__(self, name, frames, timeout, at):
        self.name, self.frames, self.timeout, self.at = name, frames, timeout, at

    def run(self, side):
        c = side.conn(self.name)
        deadline = time.monotonic() + self.timeout
        last = None
        for pattern in self.frames:
            f = c.next_frame(deadline)
            if f is None:
                side.fail(f"{self.name}: timed out after {self.timeout}s waiting for {_show(pattern)}")
                return
            side.record_frame(self.name, f)
            if not _matches(pattern, f):
                got = "the connection closed" if f is wire.CLOSED else "another frame"
                side.fail(f"{self.name}: expected {_show(pattern)}, {got}")
                return
            if isinstance(pattern, Capture):
                side.values.update(pattern.captured(f))
            last = f
        _check_at(side, self.name, "the last expected frame", last.at if last else None, self.at)


def expect(name, *frames, timeout=DEFAULT_TIMEOUT, at=None):
    """The next frames on `name` must be exactly these, in order (server PINGs excepted when
    stripped). at=(lo, hi): the last one must arrive lo..hi seconds after connect."""
    return Expect(name, frames, timeout, at)


class ExpectClose(Step):
    def __init__(self, name, timeout, at):
        self.name, self.timeout, self.at = name, timeout, at

    def run(self, side):
        c = side.conn(self.name)
        f = c.next_frame(time.monotonic() + self.timeout)
        if f is None:
            side.fail(f"{self.name}: still open after {self.timeout}s, expected the server to close it")
            return
        side.record_frame(self.name, f)
        if f is not wire.CLOSED:
            side.fail(f"{self.name}: expected the server to close the connection, got another frame")
            return
        _check_at(side, self.name, "the close", c.closed_at, self.at)


def expect_close(name, timeout=DEFAULT_TIMEOUT, at=None):
    """The server closes `name` with nothing more sent first."""
    return ExpectClose(name, timeout, at)


class ExpectUnordered(Step):
    def __init__(self, name, frames, timeout):
        self.name, self.frames, self.timeout = name, frames, timeout

    def run(self, side):
        c = side.conn(self.name)
        deadline = time.monotonic() + self.timeout
        got = []
        while len(got) < len(self.frames):
            f = c.next_frame(deadline)
            if f is None or f is wire.CLOSED:
                break
            got.append(f.text)
        if Counter(got) == Counter(self.frames):
            for text in sorted(got):
                side.record(f"{self.name}< (any order) {wire.escape(text)}")
            return
        for text in got:
            side.record(f"{self.name}< {wire.escape(text)}")
        side.fail(f"{self.name}: expected {len(self.frames)} frames in any order, "
                  f"got {len(got)} that do not match")


def expect_unordered(name, *frames, timeout=DEFAULT_TIMEOUT):
    """The next len(frames) frames on `name` are these, in any order (for one publish that
    matches several subscriptions of one connection: their order is not defined)."""
    return ExpectUnordered(name, frames, timeout)


class ExactlyOnce(Step):
    def __init__(self, names, frames, timeout):
        self.names, self.frames, self.timeout = names, list(frames), timeout

    def run(self, side):
        conns = [(n, side.conn(n)) for n in self.names]
        deadline = time.monotonic() + self.timeout
        want = Counter(self.frames)
        per_client = {n: [] for n in self.names}
        total = 0
        bad = None
        while total < len(self.frames) and time.monotonic() < deadline and bad is None:
            progressed = False
            for n, c in conns:
                f = c.next_frame(time.monotonic() + 0.005)
                if f is None:
                    continue
                progressed = True
                if f is wire.CLOSED:
                    bad = f"{n} was closed"
                    break
                per_client[n].append(f.text)
                total += 1
                if want[f.text] <= 0:
                    bad = f"{n} got an extra or unexpected frame '{wire.escape(f.text)}'"
                    break
                want[f.text] -= 1
            if not progressed:
                time.sleep(0.002)
        group = "{" + ",".join(self.names) + "}"
        if bad is None and total == len(self.frames):
            for n, got in per_client.items():
                if not _is_subsequence(got, self.frames):
                    bad = f"{n} received its share out of publish order"
        if bad is None and total == len(self.frames):
            for text in self.frames:
                side.record(f"{group}< (exactly once) {wire.escape(text)}")
            return
        for n, got in per_client.items():
            for text in got:
                side.record(f"{n}< {wire.escape(text)}")
        side.fail(bad or f"{group}: got {total} of {len(self.frames)} frames "
                          f"within {self.timeout}s")


def _is_subsequence(sub, seq):
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def exactly_once(names, *frames, timeout=DEFAULT_TIMEOUT):
    """Each frame arrives on exactly one of the clients `names` (a queue group), each
    client's share in publish order. The transcript records the set, not who got what."""
    return ExactlyOnce(names, frames, timeout)


class AnswerPings(Step):
    def __init__(self, name, seconds, min_pings):
        self.name, self.seconds, self.min_pings = name, seconds, min_pings

    def run(self, side):
        c = side.conn(self.name)
        deadline = time.monotonic() + self.seconds
        n = 0
        while True:
            f = c.next_frame(deadline)
            if f is None:
                break
            if f is not wire.CLOSED and f.text == "PING":
                c.send(b"PONG\r\n")
                n += 1
                continue
            side.record_frame(self.name, f)
            side.fail(f"{self.name}: expected only PINGs while answering them")
            return
        side.record(f"{self.name}< PING, answered with PONG, at least {self.min_pings} time(s) "
                    f"in {self.seconds}s")
        if n < self.min_pings:
            side.fail(f"{self.name}: {n} server PINGs in {self.seconds}s, expected at least "
                      f"{self.min_pings}")


def answer_pings(name, seconds, min_pings=1):
    """For `seconds`, answers every server PING with PONG (needs pings="keep"); nothing
    else may arrive. How many PINGs came is timing, so only the minimum is asserted."""
    return AnswerPings(name, seconds, min_pings)


# -- direct checks on INFO ----------------------------------------------------------------

PORT = object()   # in check_info values: the port this client connected to


class CheckInfo(Step):
    def __init__(self, name, types, values, absent, raw):
        self.name, self.types, self.values, self.absent = name, types, values, absent
        self.raw = re.compile(raw, re.S) if raw else None

    def run(self, side):
        c = side.conn(self.name)
        info = c.first_info
        if info is None:
            side.fail(f"{self.name}: no INFO recorded")
            return
        for key, typ in self.types.items():
            if key not in info:
                side.fail(f"{self.name}: INFO lacks {key!r}")
            elif wire.json_type(info[key]) != typ:
                side.fail(f"{self.name}: INFO {key!r} is {wire.json_type(info[key])}, expected {typ}")
        for key, want in self.values.items():
            if want is PORT:
                want = side.port
            if info.get(key, "<absent>") != want:
                side.fail(f"{self.name}: INFO {key!r} is {info.get(key, '<absent>')!r}, expected {want!r}")
        for key in self.absent:
            if key in info:
                side.fail(f"{self.name}: INFO has {key!r}, expected it absent")
        if self.raw and not self.raw.fullmatch(c.first_info_raw):
            side.fail(f"{self.name}: INFO line '{wire.escape(c.first_info_raw, 80)}' does not match "
                      f"/{self.raw.pattern}/")
        side.record(f"{self.name}: INFO checked ({len(self.types)} types, "
                    f"{len(self.values)} values, {len(self.absent)} absent keys)")


def check_info(name, types=None, values=None, absent=(), raw=None):
    """Asserts on the raw (not normalized) first INFO of `name`: JSON types of keys
    ("str", "int", "bool", ...), exact values (PORT = the port connected to), absent keys,
    and a regex the whole INFO line (without CRLF) must match."""
    return CheckInfo(name, types or {}, values or {}, absent, raw)


# -- running one side ---------------------------------------------------------------------

def flatten(steps):
    for s in steps:
        if isinstance(s, (list, tuple)):
            yield from flatten(s)
        else:
            yield s


def run_side(case, host, port):
    side = Side(host, port)
    try:
        for step in flatten(case.steps):
            step.run(side)
            if side.failures:
                break
        if not side.failures:
            # Nothing may arrive that the case did not expect.
            time.sleep(SETTLE)
            for name, c in side.conns.items():
                for f in c.pending(0):
                    side.record_frame(name, f)
                    side.fail(f"{name}: unexpected " +
                              ("close" if f is wire.CLOSED else f"frame '{wire.escape(f.text)}'"))
    except Exception as e:  # a harness bug or a broken case: report it, do not crash the run
        side.fail(f"harness error: {type(e).__name__}: {e}")
    finally:
        for c in side.conns.values():
            c.close()
    return side

