"""Server processes for the suite: start on a free loopback port, wait for INFO, stop.

Both servers get the nats-server flags `-a HOST -p PORT -c FILE`; natrix's extra flags
(--shards ...) come in `extra_args`. Every child is killed when the harness exits, even
by a signal, and (through PR_SET_PDEATHSIG) when the harness itself is killed.
"""
import atexit
import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import time

HOST = "127.0.0.1"
_live = []


def _die_with_parent():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, label, exe, extra_args, config_text, workdir):
        self.label = label
        self.exe = exe
        self.extra_args = list(extra_args)
        self.config_text = config_text
        self.workdir = workdir
        self.proc = None
        self.cmd = [exe]
        self.port = None
        self.error = None
        fd, self.config_path = tempfile.mkstemp(prefix="conf-", suffix=".conf", dir=workdir)
        with os.fdopen(fd, "w") as fh:
            fh.write(config_text)
        self.log_path = self.config_path[:-5] + f"-{label}.log"

    def start(self):
        self.port = _free_port()
        cmd = [self.exe, "-a", HOST, "-p", str(self.port), "-c", self.config_path] + self.extra_args
        self.cmd = cmd
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=_die_with_parent)
        except OSError as e:
            self.error = f"cannot start {self.exe}: {e}"
        finally:
            log.close()
        if self.proc:
            _live.append(self)

    def wait_ready(self, timeout=10.0):
        """Waits until the server sends INFO on a fresh connection; sets self.error if not."""
        if self.error:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.error = f"{self.label} exited with status {self.proc.returncode} before accepting"
                return False
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0) as s:
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    data = b""
                    while b"\r\n" not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data.startswith(b"INFO"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        self.error = f"{self.label} did not send INFO on {HOST}:{self.port} within {timeout}s"
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _live:
            _live.remove(self)

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_all(servers):
    """Starts every server, then waits for all. A server that lost its port to another
    process between our probe and its bind gets one more try on a new port."""
    for s in servers:
        s.start()
    for s in servers:
        if not s.wait_ready() and s.proc is not None and not s.alive() and \
                "address already in use" in s.log_tail().lower():
            s.error = None
            s.start()
            s.wait_ready()


def kill_all():
    for s in list(_live):
        try:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        except OSError:
            pass
    _live.clear()


atexit.register(kill_all)
