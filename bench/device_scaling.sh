#!/usr/bin/env bash
# Scaling series for a 16-core machine: natrix with 1, 2, 4 and 8 shards against nats-server on the
# same cores (pinned, GOMAXPROCS = cores), each with N independent pub/sub pairs and a 1->8
# fan-out, alternating A B A B (bench/compare --set scaling). Brokers on CPUs 0..N-1, natrix-bench
# on CPUs 8..15. Uses prebuilt binaries only (no compilation, no network) and fits one 10-minute
# command: about 6 minutes with the defaults.
#
#   bench/device_scaling.sh [--natrix PATH] [--nats-server PATH] [--bench PATH] [--out DIR]
#                           [--rounds N] [--duration S] [--warmup S] [--shards "1 2 4 8"]
#
# Defaults: build/src/app/natrix, nats-server from PATH (else build/nats-server: copy Debian's
# /usr/sbin/nats-server there for a machine that has none), build/src/tools/natrix_bench/
# natrix-bench (else build-bench/...), results in bench/results/. If natrix is not a running
# engine, each step is an A/A run of nats-server against itself (see bench/compare).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NATRIX="build/src/app/natrix"
NATS=""
BENCH=""
OUT="bench/results"
ROUNDS=3
DURATION=3
WARMUP=1
SHARDS="1 2 4 8"

while [ $# -gt 0 ]; do
    case "$1" in
        --natrix) NATRIX="$2"; shift 2 ;;
        --nats-server) NATS="$2"; shift 2 ;;
        --bench) BENCH="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --shards) SHARDS="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "device_scaling: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

die() { echo "device_scaling: error: $*" >&2; exit 1; }

if [ -z "$NATS" ]; then
    NATS="$(command -v nats-server || true)"
    for c in /usr/sbin/nats-server build/nats-server build-bench/nats-server; do
        [ -n "$NATS" ] && break
        [ -x "$c" ] && NATS="$c"
    done
fi
[ -n "$NATS" ] && [ -x "$NATS" ] || die "nats-server not found (pass --nats-server or copy it to build/nats-server)"
if [ -z "$BENCH" ]; then
    for c in build/src/tools/natrix_bench/natrix-bench build-bench/src/tools/natrix_bench/natrix-bench; do
        [ -x "$c" ] && { BENCH="$c"; break; }
    done
fi
[ -n "$BENCH" ] && [ -x "$BENCH" ] || die "natrix-bench not found (build it here, then pass --bench)"
command -v python3 >/dev/null || die "python3 is needed for bench/compare"

CORES="$(nproc)"
if [ "$CORES" -lt 16 ]; then
    echo "device_scaling: warning: $CORES cores; the series assumes 16 (brokers 0..7, clients 8..15)" >&2
fi
CLIENT_CPUS="8-15"
[ "$CORES" -lt 16 ] && CLIENT_CPUS="$((CORES / 2))-$((CORES - 1))"

# Pinning must work (some sandboxes refuse sched_setaffinity); without it the series is unpinned.
PIN_ARGS=()
if ! "$BENCH" tcp-pingpong -d 0.2 -q --cpus "${CLIENT_CPUS%%-*}" >/dev/null 2>&1; then
    echo "device_scaling: warning: cannot pin threads here; running unpinned" >&2
    PIN_ARGS=(--no-pin)
fi

mkdir -p "$OUT"
STAMP="$(date +%Y%m%d-%H%M%S)"
RUN_DIR="$OUT/scaling-$STAMP"
mkdir -p "$RUN_DIR"
echo "device_scaling: $("$NATS" --version 2>&1 | head -1); natrix-bench $BENCH; natrix $NATRIX" >&2
echo "device_scaling: $CORES cores, kernel $(uname -r), shards [$SHARDS], $ROUNDS rounds of ${DURATION}s (+${WARMUP}s warm-up)" >&2

for n in $SHARDS; do
    last=$((n - 1))
    echo "device_scaling: --- $n shard(s): brokers on CPUs 0-$last, clients on $CLIENT_CPUS ---" >&2
    python3 bench/compare --set scaling --pairs "$n" --shards "$n" \
        --server-cpus "0-$last" --client-cpus "$CLIENT_CPUS" ${PIN_ARGS[@]+"${PIN_ARGS[@]}"} \
        --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" \
        --natrix "$NATRIX" --nats-server "$NATS" --bench "$BENCH" --out "$RUN_DIR" \
        | tee "$RUN_DIR/shards-$n.txt" || echo "device_scaling: step with $n shard(s) reported failures" >&2
done

# One table and one JSON over the series.
python3 - "$RUN_DIR" "$OUT/scaling-$STAMP.json" <<'PY'
import glob, json, os, sys
run_dir, out = sys.argv[1], sys.argv[2]
steps = []
for path in sorted(glob.glob(os.path.join(run_dir, "compare-scaling-*.json"))):
    with open(path) as f:
        steps.append(json.load(f))
steps.sort(key=lambda d: d["pinning"]["natrix_shards"])
if not steps:
    sys.exit("device_scaling: no results")
b_label = steps[0]["servers"]["b"]["label"]
print()
print("scaling series: delivered msg/s, medians (B = %s)" % b_label)
print("%-7s %-40s %14s %14s %7s" % ("shards", "scenario", "nats-server", b_label[:14], "ratio"))
rows = []
for d in steps:
    n = d["pinning"]["natrix_shards"]
    for sc in d["scenarios"]:
        s = sc["summary"]["delivered_msgs_per_s"]
        rows.append({"shards": n, "scenario": sc["label"], "id": sc["id"],
                     "nats_server": s["a_median"], "b": s["b_median"],
                     "ratio": s["ratio_median"]})
        fmt = lambda v: "-" if v is None else "%.0f" % v
        print("%-7d %-40s %14s %14s %7s" % (n, sc["label"], fmt(s["a_median"]), fmt(s["b_median"]),
                                            "-" if s["ratio_median"] is None else "%.2f" % s["ratio_median"]))
summary = {"tool": "bench/device_scaling.sh", "machine": steps[0]["machine"],
           "servers": steps[0]["servers"], "natrix_skipped": steps[0]["natrix_skipped"],
           "rounds": steps[0]["rounds"], "duration_s": steps[0]["duration_s"],
           "rows": rows, "steps": [os.path.relpath(p, os.path.dirname(out)) for p in
                                   sorted(glob.glob(os.path.join(run_dir, "compare-scaling-*.json")))]}
with open(out, "w") as f:
    json.dump(summary, f, indent=1)
    f.write("\n")
print("wrote " + out)
PY
