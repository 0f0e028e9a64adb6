#!/usr/bin/env bash
# Instructions per request of one server configuration, per function: like
# instructions.sh, but keeps callgrind's per-instruction counts and V8's map
# of JIT code (node --perf-basic-prof) in an output directory, so that
# bench/http/functions.ts can name JavaScript functions, builtins and native
# code and compare two configurations.
#
#   bash bench/http/functions.sh <fastify|express> <configuration> <outdir> [requests]
#   node --import tsx bench/http/functions.ts <outdir> [other-outdir]
#
# Needs valgrind; takes a few minutes per configuration (WARM, default
# 15000, requests before counting starts). Run with another Node on PATH
# to count that version.
set -euo pipefail
cd "$(dirname "$0")/../.."
FW=${1:?framework}
CFG=${2:?configuration}
OUT=${3:?output directory}
N=${4:-4000}
WARM=${WARM:-15000}
PORT=${PORT:-3996}
SINK_PORT=${SINK_PORT:-4320}
rm -rf "$OUT"
mkdir -p "$OUT"

node -e "require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end())}).listen(${SINK_PORT},'127.0.0.1')" &
SINK=$!
valgrind --tool=callgrind --smc-check=all-non-file --instr-atstart=no \
  --dump-instr=yes --compress-pos=no --compress-strings=no \
  --callgrind-out-file="$OUT/cg.out" \
  node --single-threaded --perf-basic-prof --import tsx bench/http/servers.ts "$FW" "$CFG" "$PORT" \
  "http://127.0.0.1:${SINK_PORT}/v1/traces" >"$OUT/server.log" 2>"$OUT/valgrind.log" &
SERVER=$!
cleanup() { kill "$SERVER" "$SINK" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 600); do
  grep -q ready "$OUT/server.log" && break
  sleep 0.5
done
load() { npx autocannon -c 1 -a "$1" "http://127.0.0.1:${PORT}/users/42" >/dev/null 2>&1; }
load "$WARM"
callgrind_control -i on "$SERVER" >/dev/null 2>&1
load "$N"
callgrind_control -d "$SERVER" >/dev/null 2>&1
for _ in $(seq 240); do
  grep -qs '^totals:' "$OUT/cg.out.1" && break
  sleep 0.5
done
# valgrind's pid is the node process's: its JIT map is /tmp/perf-<pid>.map.
cp "/tmp/perf-${SERVER}.map" "$OUT/perf.map"
rm -f "/tmp/perf-${SERVER}.map"
echo "$N" >"$OUT/requests"
TOTAL=$(grep -m1 '^totals:' "$OUT/cg.out.1" | awk '{print $2}')
echo "$FW $CFG $((TOTAL / N)) instructions/request (per function: node --import tsx bench/http/functions.ts $OUT)"
