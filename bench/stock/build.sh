#!/usr/bin/env bash
# Build natsgo-bench (bench/stock/natsgo_bench.go) offline against Debian's nats.go.
#
#   bench/stock/build.sh [OUTPUT]     default OUTPUT: build/bench/stock/natsgo-bench
#
# Needs golang-go and golang-github-nats-io-go-nats-dev (tools/dev setup installs them). Debian
# ships nats.go (1.22) and its dependencies (nkeys, nuid, x/crypto) as source under
# /usr/share/gocode/src, so this builds in GOPATH mode: GO111MODULE=off, GOPATH=/usr/share/gocode,
# nothing downloaded (GOPROXY=off; GOPATH-mode `go build` never fetches). GOFLAGS is emptied so a
# -mod=... from the caller's environment cannot switch anything on (GOPATH mode has no -mod), and
# GOENV=off ignores any `go env -w` settings. The build cache lives under build/ (GOCACHE), so a
# rebuild takes under a second; the first one compiles the standard library (~1 min on 2 cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/build/bench/stock/natsgo-bench}"
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
CACHE="${NATSGO_BENCH_GOCACHE:-$ROOT/build/bench/stock/gocache}"
GOSRC=/usr/share/gocode

command -v go >/dev/null || { echo "build.sh: go not found: apt-get install golang-go (tools/dev setup)" >&2; exit 2; }
[ -d "$GOSRC/src/github.com/nats-io/nats.go" ] || {
    echo "build.sh: $GOSRC/src/github.com/nats-io/nats.go missing: apt-get install golang-github-nats-io-go-nats-dev (tools/dev setup)" >&2
    exit 2
}
mkdir -p "$(dirname "$OUT")" "$CACHE"

cd "$ROOT/bench/stock"
env GO111MODULE=off GOPATH="$GOSRC" GOFLAGS= GOENV=off GOPROXY=off GOCACHE="$CACHE" \
    go build -p "${JOBS:-1}" -trimpath -o "$OUT" .
echo "$OUT"
