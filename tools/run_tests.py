#!/usr/bin/env python3
"""Runs every test registered in a Meson build and sums the results.

Each test is run as Meson registered it (command, environment, timeout). GoogleTest
binaries report per test case through --gtest_output=xml; TAP tests report per
`ok`/`not ok` line; anything else counts as one case by its exit status. A binary
that crashes or times out counts as one extra failure on top of what it reported.

The last line printed is `N passed, N failed[, N skipped]` for CI.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET


def introspect(build_dir):
    out = subprocess.run(["meson", "introspect", build_dir, "--tests"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def parse_gtest_xml(path):
    passed = failed = skipped = 0
    failures = []
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.get("result") == "skipped" or case.find("skipped") is not None or \
                case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failures


TAP_LINE = re.compile(r"^(not ok|ok)\b(.*)$")


def parse_tap(text):
    passed = failed = skipped = 0
    failures = []
    for line in text.splitlines():
        m = TAP_LINE.match(line)
        if not m:
            continue
        rest = m.group(2)
        if "# SKIP" in rest.upper():
            skipped += 1
        elif "# TODO" in rest.upper():
            # Expected failure (a documented difference): not a pass, not a
            # failure. An unexpected pass fails, as in meson, so the stale
            # mark is noticed.
            if m.group(1) == "ok":
                failed += 1
                failures.append(rest.strip() + " (unexpected pass)")
            else:
                skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
            failures.append(rest.strip())
    return passed, failed, skipped, failures


def run_one(test, tmp):
    env = dict(os.environ)
    env.update(test.get("env") or {})
    cmd = list(test["cmd"])
    proto = test.get("protocol", "exitcode")
    xml_path = None
    if proto == "gtest":
        xml_path = os.path.join(tmp, re.sub(r"[^A-Za-z0-9_.-]", "_", test["name"]) + ".xml")
        cmd.append(f"--gtest_output=xml:{xml_path}")
    timeout = test.get("timeout") or 30
    if timeout <= 0:
        timeout = None
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, cwd=test.get("workdir") or None,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        output = proc.stdout.decode(errors="replace")
        rc = proc.returncode
        timed_out = False
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode(errors="replace")
        rc = -1
        timed_out = True
    elapsed = time.monotonic() - start

    passed = failed = skipped = 0
    failures = []
    reported = False
    if proto == "gtest" and xml_path and os.path.exists(xml_path):
        passed, failed, skipped, failures = parse_gtest_xml(xml_path)
        reported = True
    elif proto == "tap":
        passed, failed, skipped, failures = parse_tap(output)
        reported = passed + failed + skipped > 0
    if not reported:
        if rc == 0:
            passed = 1
        else:
            failed = 1
            failures.append(test["name"])
    elif rc != 0 and failed == 0:
        # The binary reported success per case but still failed (sanitizer report at
        # exit, crash after the last case, timeout): that is a failure too.
        failed += 1
        failures.append(f"{test['name']} exited with status {rc}" +
                        (" (timeout)" if timed_out else ""))
    return dict(name=test["name"], suite=test.get("suite", []), passed=passed, failed=failed,
                skipped=skipped, failures=failures, rc=rc, timed_out=timed_out,
                elapsed=elapsed, output=output)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_dirs", nargs="+", help="Meson build directories")
    ap.add_argument("--suite", action="append", default=[],
                    help="only tests in this Meson suite (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--summary", action="store_true",
                    help="print the closing 'N passed, N failed' line")
    ap.add_argument("--json", help="write the per-test results here")
    args = ap.parse_args()

    tests = []
    for bd in args.build_dirs:
        for t in introspect(bd):
            suites = [s.split(":")[-1] for s in t.get("suite", [])]
            if args.suite and not set(suites) & set(args.suite):
                continue
            tests.append(t)

    results = []
    with tempfile.TemporaryDirectory(prefix="natrix-tests-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_one, t, tmp): t for t in tests}
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            results.append(r)
            status = "PASS" if r["failed"] == 0 else "FAIL"
            print(f"{status} {r['name']:<28} {r['passed']:>5} passed {r['failed']:>3} failed "
                  f"{r['skipped']:>3} skipped  {r['elapsed']:6.1f}s", flush=True)
            if r["failed"]:
                tail = "\n".join(r["output"].splitlines()[-150:])
                print(f"---- output of {r['name']} (last 150 lines) ----\n{tail}\n----", flush=True)
                for f in r["failures"]:
                    print(f"  failed: {f}")

    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{k: v for k, v in r.items() if k != "output"} for r in results], fh, indent=1)
    total_p = sum(r["passed"] for r in results)
    total_f = sum(r["failed"] for r in results)
    total_s = sum(r["skipped"] for r in results)
    if not tests:
        print("no tests found", file=sys.stderr)
        total_f += 1
    if args.summary:
        line = f"{total_p} passed, {total_f} failed"
        if total_s:
            line += f", {total_s} skipped"
        print(line)
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
