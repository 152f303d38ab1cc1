#!/usr/bin/env bash
# Runs sublist_natrix_bench_test.go inside Debian's nats-server 2.9.10 sources
# (golang-github-nats-io-nats-server-dev), offline, in GOPATH mode.
# Usage: bench/subjects/go/run.sh [extra `go test` flags, e.g. -benchtime=2s]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC=/usr/share/gocode/src/github.com/nats-io/nats-server
[ -d "$SRC/server" ] || { echo "need: apt-get install golang-go golang-github-nats-io-nats-server-dev" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The sources import .../nats-server/v2/...; lay out that path as links to
# Debian's tree, with a real server/ folder so our test file can join the package.
ROOT="$WORK/src/github.com/nats-io/nats-server/v2"
mkdir -p "$ROOT/server"
for e in "$SRC"/*; do [ "$(basename "$e")" = server ] || ln -s "$e" "$ROOT/"; done
for e in "$SRC"/server/*; do
    case "$e" in *_test.go) continue ;; esac
    ln -s "$e" "$ROOT/server/"
done
cp "$HERE/sublist_natrix_bench_test.go" "$ROOT/server/"
cd "$ROOT/server"
GOPATH="$WORK:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="${GOCACHE:-$WORK/cache}" \
    go test -run '^$' -bench 'Natrix' -benchmem "$@" .
