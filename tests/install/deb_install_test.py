#!/usr/bin/env python3
"""Installs natrix's .deb on this machine, checks it, and purges it again.

usage: deb_install_test.py NATRIX_DEB   (as root; `tools/dev package` runs it)

Not part of `meson test`: it needs root, changes the machine (a package, a
user) and a .deb that takes minutes to build. It refuses to run where natrix
is already installed (as a package or by `meson install` into /usr; exit 77,
skipped), and it always purges what it installed, and removes the natrix
user if it made it. Exit 0: every check passed; 1: some failed.

Checks: dpkg -i succeeds; the binaries run; /etc/natrix/natrix.conf is a
conffile; the natrix system user exists; the unit is installed and enabled;
the man pages are there. Then the unit's ExecStartPre and ExecStart are run
as systemd would: as the natrix user, without capabilities, no_new_privs,
the unit's LimitNOFILE/LimitMEMLOCK (as far as this machine allows), and a
fake $NOTIFY_SOCKET that must receive READY=1 (and RELOADING=1 and READY=1
on SIGHUP, STOPPING=1 on SIGTERM).
ExecStart gets `-p PORT` appended (a free port, so that a broker already on
4222 does not matter). Where systemd is PID 1 the started service is checked
too. Finally dpkg --purge must leave nothing behind.
"""
import grp
import os
import pwd
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

UNIT = "/lib/systemd/system/natrix.service"
CONF = "/etc/natrix/natrix.conf"
WANTS = "/etc/systemd/system/multi-user.target.wants/natrix.service"
DSH_STATE = "/var/lib/systemd/deb-systemd-helper-enabled"
MAN_PAGES = ["/usr/share/man/man1/%s.1.gz" % p for p in ("natrix", "natrix-bench", "natrix-keys")]
BINARIES = ["/usr/bin/natrix", "/usr/bin/natrix-bench", "/usr/bin/natrix-keys"]

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def user_exists(name="natrix"):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name="natrix"):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def package_state():
    r = run("dpkg-query", "-W", "-f=${db:Status-Status}", "natrix")
    return r.stdout.strip() if r.returncode == 0 else "absent"


def unit_service_section(path):
    """[Service] of a unit file: key -> list of values (no drop-ins, no specifiers)."""
    keys, section = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


def size_value(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def apply_limits(unit):
    """The unit's LimitNOFILE= and LimitMEMLOCK= on this process, for its
    children. Where the hard limit cannot be raised (a container without
    CAP_SYS_RESOURCE) the soft limit goes as high as the hard one allows."""
    for key, which in (("LimitNOFILE", resource.RLIMIT_NOFILE),
                       ("LimitMEMLOCK", resource.RLIMIT_MEMLOCK)):
        if key not in unit:
            continue
        want = size_value(unit[key][-1])
        try:
            resource.setrlimit(which, (want, want))
        except (ValueError, OSError):
            hard = resource.getrlimit(which)[1]
            got = hard if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(which, (got, hard))
            print("     note: %s=%s cannot be applied here (hard limit %s): running with %s"
                  % (key, unit[key][-1], hard, got))


def as_natrix(argv, unit):
    """argv as the unit runs it: User=/Group=, CapabilityBoundingSet= (empty),
    NoNewPrivileges=yes (the limits come from apply_limits)."""
    user = unit.get("User", ["natrix"])[-1]
    group = unit.get("Group", [user])[-1]
    return ["setpriv", "--reuid=" + user, "--regid=" + group, "--init-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"] + argv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def greeting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as c:
            return c.recv(512).decode("utf-8", "replace")
    except OSError as e:
        return "error: %s" % e


def receive(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode("utf-8", "replace")
    except socket.timeout:
        return ""


def check_installed(version):
    for b in BINARIES:
        check(os.path.isfile(b) and os.access(b, os.X_OK), b + " is executable")
    r = run("/usr/bin/natrix", "--version")
    check(r.returncode == 0 and version in r.stdout,
          "natrix --version says %s: %r" % (version, r.stdout.strip()))
    r = run("/usr/bin/natrix-keys", "--help")
    check(r.returncode == 0, "natrix-keys --help runs")
    check(os.path.isfile(CONF), CONF + " exists")
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "natrix").stdout
    check(CONF in conffiles, CONF + " is a conffile")
    if check(user_exists(), "natrix user exists"):
        pw = pwd.getpwnam("natrix")
        check(pw.pw_uid < 1000, "natrix is a system user (uid %d)" % pw.pw_uid)
        check(group_exists() and grp.getgrnam("natrix").gr_gid == pw.pw_gid,
              "natrix's primary group is natrix")
        check(pw.pw_shell in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false"),
              "natrix has no login shell (%s)" % pw.pw_shell)
        check(pw.pw_dir == "/nonexistent" and not os.path.exists(pw.pw_dir),
              "natrix's home is /nonexistent (%s)" % pw.pw_dir)
    check(os.path.isfile(UNIT), UNIT + " exists")
    check(os.path.islink(WANTS) and os.readlink(WANTS) == UNIT,
          "natrix.service is enabled (%s -> %s)" % (WANTS, UNIT))
    for m in MAN_PAGES:
        ok = os.path.isfile(m)
        if ok:
            page = run("zcat", m).stdout
            ok = page.startswith('.TH "')
        check(ok, m + " is a man page")


def check_exec_start(unit):
    """The unit's ExecStartPre and ExecStart by hand, as systemd would run them."""
    apply_limits(unit)
    for pre in unit.get("ExecStartPre", []):
        argv = as_natrix(shlex.split(pre.lstrip("-@:+!")), unit)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "ExecStartPre as natrix: %s -> exit %d %s"
              % (pre, r.returncode, (r.stdout + r.stderr).strip()[-300:]))
    if not check(len(unit.get("ExecStart", [])) == 1, "unit has one ExecStart"):
        return
    start = unit["ExecStart"][0]
    port = free_port()
    name = "natrix-deb-test-%d" % os.getpid()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG": "C.UTF-8", "NOTIFY_SOCKET": "@" + name}
    argv = as_natrix(shlex.split(start) + ["-p", str(port)], unit)
    print("     running: " + " ".join(shlex.quote(a) for a in argv), flush=True)
    log = open("/tmp/natrix-deb-test-%d.log" % os.getpid(), "w+")
    proc = subprocess.Popen(argv, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        ready = receive(sock, 20)
        check(ready.startswith("READY=1\n") or ready == "READY=1",
              "READY=1 on $NOTIFY_SOCKET: %r" % ready)
        check("MAINPID=%d" % proc.pid in ready, "READY=1 names MAINPID=%d" % proc.pid)
        check(greeting(port).startswith("INFO "), "a client gets INFO on 127.0.0.1:%d "
              "the moment READY=1 arrives" % port)
        uid = None
        for line in open("/proc/%d/status" % proc.pid):
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
        check(uid == pwd.getpwnam("natrix").pw_uid, "the broker runs as natrix (uid %s)" % uid)
        proc.send_signal(signal.SIGHUP)  # ExecReload=/bin/kill -HUP $MAINPID
        check(receive(sock, 10) == "RELOADING=1", "SIGHUP: RELOADING=1")
        check(receive(sock, 10) == "READY=1", "SIGHUP: READY=1 after the reload")
        proc.send_signal(signal.SIGTERM)  # KillSignal=SIGTERM
        check(receive(sock, 10) == "STOPPING=1", "SIGTERM: STOPPING=1")
        check(proc.wait(timeout=15) == 0, "SIGTERM: exit 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
        log.seek(0)
        text = log.read()
        log.close()
        os.unlink(log.name)
        if failures:
            print("     natrix's output:\n" + "\n".join("       " + l for l in text.splitlines()[-30:]))


def check_under_systemd():
    """Where systemd is PID 1, postinst has started the service."""
    r = run("systemctl", "is-active", "natrix")
    check(r.stdout.strip() == "active", "systemd: natrix.service is active (%s)" % r.stdout.strip())
    r = run("systemctl", "reload", "natrix")
    check(r.returncode == 0, "systemd: systemctl reload natrix")
    r = run("systemctl", "is-active", "natrix")
    check(r.stdout.strip() == "active", "systemd: active after reload")


def check_purged(files):
    check(package_state() == "absent", "dpkg knows no natrix package after purge")
    left = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    check(not left, "every file the package installed is gone" + (": " + ", ".join(left) if left else ""))
    dirs = ["/etc/natrix", "/usr/share/doc/natrix", "/var/log/natrix"]
    left = [d for d in dirs if os.path.lexists(d)]
    check(not left, "no directories left (%s)" % ", ".join(left or dirs))
    check(not os.path.lexists(WANTS), "the enable symlink is gone")
    state = [f for f in (os.listdir(DSH_STATE) if os.path.isdir(DSH_STATE) else []) if "natrix" in f]
    check(not state, "deb-systemd-helper keeps no state for natrix" + (": %s" % state if state else ""))


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    deb = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("deb_install_test: needs root (dpkg -i)", file=sys.stderr)
        return 2
    if not os.path.isfile(deb):
        print("deb_install_test: no such file: " + deb, file=sys.stderr)
        return 2
    present = [p for p in BINARIES + [CONF, UNIT] if os.path.lexists(p)]
    if package_state() != "absent" or present:
        print("deb_install_test: skipped: natrix is already installed here (%s); not touching it"
              % (package_state() if package_state() != "absent" else ", ".join(present)),
              file=sys.stderr)
        return 77
    user_before, group_before = user_exists(), group_exists()
    version = run("dpkg-deb", "-f", deb, "Version").stdout.strip()
    systemd = os.path.isdir("/run/systemd/system")
    print("     %s (version %s); systemd is %sPID 1 here" % (deb, version, "" if systemd else "not "))

    files = []
    try:
        r = run("dpkg", "-i", deb, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if not check(r.returncode == 0, "dpkg -i " + os.path.basename(deb)):
            print(r.stdout + r.stderr)
            return 1
        files = run("dpkg-query", "-L", "natrix").stdout.split("\n")
        files = [f for f in files if f.startswith("/")]
        check_installed(version.split("-")[0])
        unit = unit_service_section(UNIT)
        check(unit.get("Type") == ["notify"], "unit is Type=notify")
        if shutil.which("systemd-analyze"):
            r = run("systemd-analyze", "verify", UNIT)
            check(r.returncode == 0 and not r.stderr.strip(),
                  "systemd-analyze verify natrix.service" + (": " + r.stderr.strip() if r.stderr.strip() else ""))
        if systemd:
            check_under_systemd()
        check_exec_start(unit)
    except Exception as e:  # a broken check fails the test, and still purges
        check(False, "test error: %s: %s" % (type(e).__name__, e))
    finally:
        r = run("dpkg", "--purge", "natrix")
        check(r.returncode == 0, "dpkg --purge natrix" + ("" if r.returncode == 0 else ": " + r.stderr))
        if files:
            check_purged(files)
        # Debian keeps a package's system user after purge (postrm says why);
        # this test leaves the machine as it found it.
        if not user_before and user_exists():
            run("userdel", "natrix")
        if not group_before and group_exists():
            run("groupdel", "natrix")
        check(user_exists() == user_before and group_exists() == group_before,
              "natrix user and group as before the test")
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
