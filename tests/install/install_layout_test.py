#!/usr/bin/env python3
"""meson install --destdir into a temporary directory; checks the layout.

usage: install_layout_test.py BUILD_ROOT PREFIX BINDIR SYSCONFDIR MANDIR UNITDIR
"""
import os
import subprocess
import sys
import tempfile


def under(prefix: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(prefix, path)


def main() -> int:
    build, prefix, bindir, sysconfdir, mandir, unitdir = sys.argv[1:7]
    bindir, sysconfdir, mandir = (under(prefix, p) for p in (bindir, sysconfdir, mandir))
    failures = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="natrix-install-") as dest:
        r = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True)
        check(r.returncode == 0, "meson install --destdir: " + (r.stderr.strip() or "exit 0"))
        if r.returncode != 0:
            return 1

        def at(path: str) -> str:
            return dest + path

        for prog in ("natrix", "natrix-bench", "natrix-keys"):
            p = at(os.path.join(bindir, prog))
            check(os.path.isfile(p) and os.access(p, os.X_OK), f"{bindir}/{prog} is executable")
            man = at(os.path.join(mandir, "man1", prog + ".1"))
            check(os.path.isfile(man), f"{mandir}/man1/{prog}.1")
        conf = at(os.path.join(sysconfdir, "natrix", "natrix.conf"))
        check(os.path.isfile(conf), f"{sysconfdir}/natrix/natrix.conf")
        unit = at(os.path.join(unitdir, "natrix.service"))
        check(os.path.isfile(unit), f"{unitdir}/natrix.service")
        if os.path.isfile(unit):
            text = open(unit, encoding="utf-8").read()
            want = f"ExecStart={bindir}/natrix -c {sysconfdir}/natrix/natrix.conf"
            check(want in text.split("\n"), f"unit runs the installed binary: {want}")
            for key in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=natrix",
                        "NoNewPrivileges=yes"):
                check(key in text.split("\n"), f"unit has {key}")
            filt = [l for l in text.split("\n") if l.startswith("SystemCallFilter=")]
            check(bool(filt) and all(s in filt[0] for s in ("io_uring_setup", "io_uring_enter",
                                                          "io_uring_register")),
                  "SystemCallFilter allows io_uring")
        # The man page is the --help text: the newest flag is in it.
        man = at(os.path.join(mandir, "man1", "natrix.1"))
        if os.path.isfile(man):
            page = open(man, encoding="utf-8").read()
            check("check\\-host" in page or "check-host" in page, "natrix.1 documents --check-host")
            check(page.startswith('.TH "NATRIX" "1"'), "natrix.1 has a .TH header")
        # Nothing else: test programs are never installed.
        installed = sorted(os.path.relpath(os.path.join(d, f), dest)
                           for d, _, fs in os.walk(dest) for f in fs)
        check(len(installed) == 8, "exactly 8 files installed: " + ", ".join(installed))
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
