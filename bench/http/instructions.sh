#!/usr/bin/env bash
# Instructions per request of one server configuration, counted by valgrind
# (callgrind), for attributing cost where the wall-clock benchmark cannot
# resolve it (a shared virtual machine drifts ±20 % between runs).
#
#   bash bench/http/instructions.sh <fastify|express> <configuration> [requests]
#   OUT=/tmp/full bash bench/http/instructions.sh fastify stacklight
#   node --import tsx bench/http/functions.ts /tmp/full [/tmp/other]
#
# The server (bench/http/servers.ts, the configurations of `npm run bench`)
# runs under callgrind with instrumentation off; after a warm-up of
# WARM requests (default 6000) instrumentation is switched on for `requests`
# more (default 3000), then the count is read. One connection, and V8 on one
# thread (--single-threaded), keep the count repeatable: two runs of the same
# configuration in one session agree to 0.1-4 %. JIT tiering can still shift a
# configuration by up to ~10 % (bare Fastify lands in one of two states):
# compare configurations run together, and repeat.
# User-space instructions only (no kernel time); TurboFan compiling late
# still adds to the count, which is why the warm-up is long.
#
# With OUT set, the counts are kept per instruction in that directory, with
# V8's map of the code it generated (node --perf-basic-prof), for
# bench/http/functions.ts to name them by function (a WARM of 15000 keeps
# the compiler out of the picture).
#
# Needs valgrind (apt-get install valgrind) and takes ~40 s per configuration
# (a few minutes with OUT). Run with another Node first on PATH to count that
# version.
set -euo pipefail
cd "$(dirname "$0")/../.."
FW=${1:?framework}
CFG=${2:?configuration}
N=${3:-3000}
WARM=${WARM:-6000}
PORT=${PORT:-3995}
SINK_PORT=${SINK_PORT:-4319}
OUT=${OUT:-}
DIR=$(mktemp -d)
VG_OPTS=()
NODE_OPTS=()
if [ -n "$OUT" ]; then
  VG_OPTS=(--dump-instr=yes --compress-pos=no --compress-strings=no)
  NODE_OPTS=(--perf-basic-prof)
fi

node -e "require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end())}).listen(${SINK_PORT},'127.0.0.1')" &
SINK=$!
valgrind --tool=callgrind --smc-check=all-non-file --instr-atstart=no "${VG_OPTS[@]}" \
  --callgrind-out-file="$DIR/cg.out" \
  node --single-threaded "${NODE_OPTS[@]}" --import tsx bench/http/servers.ts "$FW" "$CFG" "$PORT" \
  "http://127.0.0.1:${SINK_PORT}/v1/traces" >"$DIR/server.log" 2>"$DIR/valgrind.log" &
SERVER=$!
cleanup() {
  kill "$SERVER" "$SINK" 2>/dev/null || true
  rm -f "/tmp/perf-${SERVER}.map"
  rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 600); do
  grep -q ready "$DIR/server.log" && break
  sleep 0.5
done
load() { npx autocannon -c 1 -a "$1" "http://127.0.0.1:${PORT}/users/42" >/dev/null 2>&1; }
load "$WARM"
callgrind_control -i on "$SERVER" >/dev/null 2>&1
load "$N"
callgrind_control -d "$SERVER" >/dev/null 2>&1
for _ in $(seq 240); do
  grep -qs '^totals:' "$DIR/cg.out.1" && break
  sleep 0.5
done
TOTAL=$(grep -m1 '^totals:' "$DIR/cg.out.1" | awk '{print $2}')
if [ -n "$OUT" ]; then
  # valgrind runs node in its own process: node's JIT map is /tmp/perf-<that pid>.map.
  rm -rf "$OUT"
  mkdir -p "$OUT"
  cp "$DIR/cg.out.1" "$OUT/cg.out.1"
  cp "/tmp/perf-${SERVER}.map" "$OUT/perf.map"
  echo "$N" >"$OUT/requests"
fi
echo "$FW $CFG $((TOTAL / N)) instructions/request"
