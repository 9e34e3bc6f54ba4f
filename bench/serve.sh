#!/usr/bin/env bash
# Loopback load test of `siem-adapter serve` (issue [6/8]): the service with
# the example threat_rf model (wasm engine, default settings: one engine per
# core), CLIENTS keep-alive client threads (siem-adapter/examples/serve_load.rs)
# POSTing 1-event objects for SECONDS, then 100-event arrays for SECONDS; then
# the peer, measured in the same run: `siem-adapter score` (same engine) on a
# file of the 100-event phase's events. Traffic stays on 127.0.0.1; the server
# is stopped at the end (and on any exit).
# Usage: bench/serve.sh [CLIENTS] [SECONDS]   (default 4 10)
set -euo pipefail
cd "$(dirname "$0")/.."
C="${1:-4}"
D="${2:-10}"
DIR=target/bench-serve
mkdir -p "$DIR"
cargo build --release -q -p siem-adapter --bin siem-adapter --example serve_load
BIN=target/release/siem-adapter
MODEL=examples/models/threat_rf.json
KEY=examples/keys/dev-signing.pub
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -m); load average $(cut -d' ' -f1-3 /proc/loadavg)"

$BIN serve --model "$MODEL" --trusted-key "$KEY" --listen 127.0.0.1:0 2>"$DIR/serve.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q 'listening on' "$DIR/serve.log" && break; sleep 0.1; done
ADDR=$(grep -o 'listening on [^ ]*' "$DIR/serve.log" | cut -d' ' -f3)
test -n "$ADDR" || { cat "$DIR/serve.log"; exit 1; }
grep 'listening on' "$DIR/serve.log"
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$PID/stat"; }
C0=$(cpu); W0=$(date +%s.%N)
timeout $(( 2 * D + 60 )) target/release/examples/serve_load --url "http://$ADDR" \
  --events examples/data/alerts_new.jsonl --clients "$C" --seconds "$D" --batches 1,100 \
  --peer-events "$DIR/peer.jsonl" | tee "$DIR/load.txt"
C1=$(cpu); W1=$(date +%s.%N)
awk -v c="$(echo "$C1 - $C0" | bc)" -v w="$(echo "$W1 - $W0" | bc)" 'BEGIN {
  printf "server CPU during the load: %.1f s in %.1f s wall = %.2f of %d cores (the load generator has the rest)\n", c, w, c / w, '"$(nproc)"' }'
kill -TERM "$PID"
wait "$PID" || true
trap - EXIT

N=$(wc -l < "$DIR/peer.jsonl")
S=$(date +%s.%N)
$BIN score --model "$MODEL" --trusted-key "$KEY" --input "$DIR/peer.jsonl" --output "$DIR/peer-out.jsonl" 2>"$DIR/peer.log"
E=$(date +%s.%N)
SERVICE=$(sed -n 's/^RESULT batch=100 events_per_s=\([0-9]*\).*/\1/p' "$DIR/load.txt")
awk -v n="$N" -v s="$S" -v e="$E" -v svc="$SERVICE" 'BEGIN {
  cli = n / (e - s)
  printf "peer: siem-adapter score (wasm, threat_rf), %d events of the 100-event bodies, file to file: %.3f s, %.0f events/s (process start to exit)\n", n, e - s, cli
  printf "ratio: service (100-event requests) %.0f events/s / CLI %.0f events/s = %.2f\n", svc, cli, svc / cli
}'
