"""Client side of the wire: one TCP connection, server frames, INFO normalization.

A *frame* is one complete unit the server sent, as text (bytes decoded as latin-1 so that
every byte survives): a control line without its CRLF, and for MSG/HMSG the control line,
CRLF and the payload (without the payload's closing CRLF). INFO frames are normalized
(see normalize_info), and so are random service-import reply subjects in MSG/HMSG lines
(normalize_msg_line) and the measured rtt in a Nats-Request-Info header (normalize_hmsg),
so that the two servers' transcripts compare equal when they agree.
"""
import json
import re
import select
import socket
import time

# INFO keys whose values legitimately differ between two servers (or two runs of one).
# Their values are replaced by a type placeholder such as "<str>", so presence and JSON
# type are still compared; every other key is compared by value. Key order never matters.
INFO_VALUE_IGNORED = (
    "server_id", "server_name", "version", "go", "git_commit",
    "client_id", "client_ip", "host", "port", "nonce",
)

CLOSED = "<closed by server>"

# Service-import reply subjects (nats-server accounts.go newServiceReply: "_R_." + 6 base62
# characters fixed per account + "." + 6 per request) are random: in MSG/HMSG control
# lines each one reads as SERVICE_REPLY. The frame's `raw` text keeps the real subject.
_SERVICE_REPLY_RE = re.compile(r"(?<![^ \t])_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}(?![^ \t])")
SERVICE_REPLY = "_R_.<random6>.<random6>"


def normalize_msg_line(line):
    """MSG/HMSG control line with random service-import reply subjects replaced."""
    return _SERVICE_REPLY_RE.sub(SERVICE_REPLY, line) if "_R_." in line else line


# A request that crosses accounts reaches a headers-capable responder with a header
# Nats-Request-Info: {"acc":"B","rtt":391514} (client.go processServiceImport), where rtt is
# the requester's measured round trip in nanoseconds. Transcripts show that number as <rtt>.
_REQUEST_INFO_RTT = re.compile(r'(Nats-Request-Info: \{[^\r\n]*?"rtt":)[0-9]+')
_HMSG_SIZES = re.compile(r"([0-9]+)([ \t]+)([0-9]+)$")


def normalize_hmsg(line, payload):
    """(control line, headers+payload) of an HMSG with the rtt in Nats-Request-Info replaced
    and both sizes adjusted to match. Left alone unless the sizes were right to begin with,
    so that a wrong size still shows."""
    if "Nats-Request-Info:" not in payload:
        return line, payload
    m = _HMSG_SIZES.search(line)
    end = payload.find("\r\n\r\n")
    if not m or end < 0 or int(m.group(1)) != end + 4 or int(m.group(3)) != len(payload):
        return line, payload
    head = _REQUEST_INFO_RTT.sub(r"\1<rtt>", payload[:end + 4])
    payload = head + payload[end + 4:]
    return line[:m.start()] + f"{len(head)}{m.group(2)}{len(payload)}", payload


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "list"
    return "object"


def normalize_info(line):
    """Returns (normalized frame text, parsed JSON or None) for an INFO control line.

    Everything outside the JSON object (the 'INFO ' prefix, trailing blanks) is kept
    byte for byte; the object is re-serialized with sorted keys and the ignored values
    replaced by their type.
    """
    start = line.find("{")
    if start < 0:
        return line, None
    try:
        obj, end = json.JSONDecoder().raw_decode(line, start)
    except ValueError:
        return line, None
    if not isinstance(obj, dict):
        return line, None
    norm = {k: (f"<{json_type(v)}>" if k in INFO_VALUE_IGNORED else v) for k, v in obj.items()}
    canon = json.dumps(norm, sort_keys=True, separators=(",", ":"))
    return line[:start] + canon + line[end:], obj


def escape(text, limit=400):
    """Printable one-line form of frame or send text (CR, LF, TAB and non-ASCII escaped)."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\\":
            out.append("\\\\")
        elif 32 <= o < 127:
            out.append(ch)
        else:
            out.append(f"\\x{o:02x}")
    s = "".join(out)
    if len(s) > limit:
        import hashlib
        digest = hashlib.sha1(text.encode("latin-1")).hexdigest()[:12]
        s = f"{s[:limit // 2]}...<{len(text)} bytes, sha1 {digest}>...{s[-limit // 4:]}"
    return s


class Frame:
    """One server frame. `text` is what transcripts compare; `info` is the parsed INFO;
    `raw` is the frame as received, before any normalization."""

    __slots__ = ("text", "info", "raw_line", "at", "raw")

    def __init__(self, text, info=None, raw_line=None, at=0.0, raw=None):
        self.text = text
        self.info = info
        self.raw_line = raw_line
        self.at = at
        self.raw = text if raw is None else raw

    @property
    def op(self):
        return self.text.split(" ", 1)[0].split("\r", 1)[0].upper()

    def __repr__(self):
        return f"Frame({escape(self.text, 80)})"


class Connection:
    """A client TCP connection to one server, read synchronously by the step interpreter.

    Nothing is read or written in the background: server PINGs are either dropped from the
    frame stream (strip_pings) or delivered as frames for the case to answer.
    """

    def __init__(self, host, port, strip_pings=True, connect_timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.port = port
        self.strip_pings = strip_pings
        self.buf = b""
        self.frames = []          # parsed, not yet consumed
        self.closed = False       # EOF or reset seen
        self.closed_at = None     # seconds after connect
        self.eof_consumed = False
        self.protocol_error = None
        self.t0 = time.monotonic()
        self.stripped_pings = 0
        self.first_info = None    # parsed JSON of the INFO that opened the connection
        self.first_info_raw = None

    # -- sending ---------------------------------------------------------------------------
    def send(self, data, stall_limit=10.0):
        """Sends bytes. Returns "ok", "closed" (the server had closed the connection) or
        "stalled" (the server read nothing for stall_limit seconds)."""
        view = memoryview(data)
        last_progress = time.monotonic()
        while view:
            try:
                sent = self.sock.send(view)
                view = view[sent:]
                last_progress = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - last_progress > stall_limit:
                    return "stalled"
                # Our data is not being read: drain what the server sends meanwhile so
                # that neither side blocks on a full buffer.
                self._read_some(0.05)
                select.select([], [self.sock], [], 0.05)
            except OSError:
                return "closed"
        return "ok"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- receiving -------------------------------------------------------------------------
    def _read_some(self, timeout):
        """Reads what is available within timeout; returns True if bytes or EOF arrived."""
        if self.closed:
            return False
        try:
            r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            self.closed = True
            self.closed_at = time.monotonic() - self.t0
            return True
        if not r:
            return False
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return False
        except OSError:  # reset by peer: same event as an orderly close for our purposes
            data = b""
        if not data:
            self.closed = True
            self.closed_at = time.monotonic() - self.t0
            return True
        self.buf += data
        self._parse()
        return True

    def _parse(self):
        while True:
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                return
            line = self.buf[:nl].decode("latin-1")
            head = line.split(" ", 1)[0].split("\t", 1)[0].upper()
            at = time.monotonic() - self.t0
            if head in ("MSG", "HMSG"):
                args = line.split()
                try:
                    size = int(args[-1])
                except (ValueError, IndexError):
                    size = -1
                if size < 0:
                    self.frames.append(Frame(line, at=at))
                    self.buf = self.buf[nl + 2:]
                    continue
                end = nl + 2 + size
                if len(self.buf) < end + 2:
                    return
                payload = self.buf[nl + 2:end].decode("latin-1")
                trailer = self.buf[end:end + 2]
                if trailer != b"\r\n":
                    # Not a valid frame: keep the raw bytes visible in the transcript.
                    self.frames.append(Frame(line + "\r\n" + payload + "<missing CRLF after payload>", at=at))
                    self.buf = self.buf[end:]
                    continue
                raw = line + "\r\n" + payload
                text_line = normalize_msg_line(line)
                if head == "HMSG":
                    text_line, payload = normalize_hmsg(text_line, payload)
                self.frames.append(Frame(text_line + "\r\n" + payload, at=at, raw=raw))
                self.buf = self.buf[end + 2:]
                continue
            self.buf = self.buf[nl + 2:]
            if head == "INFO":
                text, info = normalize_info(line)
                self.frames.append(Frame(text, info=info, raw_line=line, at=at, raw=line))
                continue
            if head == "PING" and line == "PING" and self.strip_pings:
                self.stripped_pings += 1
                continue
            self.frames.append(Frame(line, at=at))

    def next_frame(self, deadline):
        """Returns the next Frame, CLOSED once the server closed, or None at the deadline."""
        while True:
            if self.frames:
                return self.frames.pop(0)
            if self.closed:
                if self.buf:
                    rest = self.buf.decode("latin-1")
                    self.buf = b""
                    return Frame(rest + "<incomplete frame at close>")
                self.eof_consumed = True
                return CLOSED
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read_some(min(left, 0.25))

    def pending(self, settle):
        """Frames (and CLOSED) that arrive within `settle` seconds, without waiting longer."""
        deadline = time.monotonic() + settle
        # Always read what has already arrived, even with settle=0; then keep reading
        # until the deadline, and past it (up to a second) while bytes keep coming.
        while not self.closed:
            got = self._read_some(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline and (not got or time.monotonic() > deadline + 1.0):
                break
        out = list(self.frames)
        self.frames.clear()
        if self.closed and not self.eof_consumed:
            out.append(CLOSED)
            self.eof_consumed = True
        return out
