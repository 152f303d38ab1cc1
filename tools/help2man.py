#!/usr/bin/env python3
"""Writes a man page from a program's own --help, so that the two cannot drift.

usage: help2man.py PROGRAM NAME SECTION SUMMARY OUTPUT [--see-also TEXT] [--extra FILE]

The help text becomes the OPTIONS section verbatim (monospace, as printed);
--extra adds hand-written sections (a file of ".SH TITLE" lines and text) that
describe what --help does not: files, signals, environment. The meson build
runs it for natrix, natrix-bench and natrix-keys (docs/man/meson.build).
"""
import argparse
import datetime
import os
import subprocess
import sys


def roff_escape(line: str) -> str:
    line = line.replace("\\", "\\e")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("program")
    ap.add_argument("name")
    ap.add_argument("section")
    ap.add_argument("summary")
    ap.add_argument("output")
    ap.add_argument("--version", default="")
    ap.add_argument("--see-also", default="")
    ap.add_argument("--extra", default="")
    a = ap.parse_args()

    r = subprocess.run([a.program, "--help"], capture_output=True, text=True, timeout=30)
    text = r.stdout if r.stdout.strip() else r.stderr
    if not text.strip():
        print(f"help2man.py: {a.program} --help printed nothing", file=sys.stderr)
        return 1
    lines = text.rstrip("\n").split("\n")
    synopsis = lines[0]
    for prefix in ("Usage: ", "usage: "):
        if synopsis.startswith(prefix):
            synopsis = synopsis[len(prefix):]
            lines = lines[1:]
            break
    while lines and not lines[0].strip():
        lines = lines[1:]

    # Reproducible builds: SOURCE_DATE_EPOCH when set.
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    date = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc) if epoch else datetime.date.today()
    # The --extra file's sections; a DESCRIPTION among them goes before OPTIONS.
    extra, description = [], []
    target = extra
    if a.extra:
        with open(a.extra, encoding="utf-8") as f:
            for l in f:
                l = l.rstrip("\n")
                if l.startswith(".SH "):
                    target = description if l == ".SH DESCRIPTION" else extra
                target.append(l)
    out = [
        f'.TH "{a.name.upper()}" "{a.section}" "{date:%Y-%m-%d}" "natrix {a.version}" "natrix manual"',
        ".SH NAME",
        f"{a.name} \\- {a.summary}",
        ".SH SYNOPSIS",
        ".B " + roff_escape(synopsis.split(" ", 1)[0]),
        roff_escape(synopsis.split(" ", 1)[1]) if " " in synopsis else "",
    ]
    out += description
    out += [
        ".SH OPTIONS",
        "The text of",
        f".B {a.name} \\-\\-help",
        "(this page is generated from it):",
        ".PP",
        ".nf",
        ".ft CR",
    ]
    out += [roff_escape(l) for l in lines]
    out += [".ft R", ".fi"]
    out += extra
    if a.see_also:
        out += [".SH SEE ALSO", a.see_also]
    with open(a.output, "w", encoding="utf-8") as f:
        f.write("\n".join(l for l in out if l is not None) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
