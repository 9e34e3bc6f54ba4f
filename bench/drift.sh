#!/usr/bin/env bash
# What watching drift costs `siem-adapter score` (issue [6/8]): the same ~1 KB
# alerts scored by threat_rf (wasm engine) with drift measured (the default:
# the artifact has a baseline) and with `--drift off`, alternated in the same
# run; and a run under `--drift flag` with thresholds that put every window in
# drift (--drift-psi 0.0001 --drift-ks 0), so every event is marked.
# Usage: bench/drift.sh [EVENTS]   (default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-300000}"
DIR=target/bench-adapter
mkdir -p "$DIR"
IN="$DIR/alerts_1kb.jsonl"
if [ ! -f "$IN" ] || [ "$(wc -l < "$IN")" -ne "$N" ]; then
  python3 bench/make_alerts_1kb.py "$N" "$IN"
fi
cargo build --release -q -p siem-adapter --bin siem-adapter
BIN=target/release/siem-adapter
ARGS=(score --model examples/models/threat_rf.json --trusted-key examples/keys/dev-signing.pub --input "$IN")
echo "input: $N events, $(du -m "$IN" | cut -f1) MB; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
$BIN "${ARGS[@]}" --output "$DIR/warm.jsonl" >/dev/null 2>&1 || true
rate() { # label, extra args...
  local label="$1"; shift
  local s e
  s=$(date +%s.%N)
  $BIN "${ARGS[@]}" --output "$DIR/drift-out.jsonl" "$@" 2>"$DIR/drift-err" || true
  e=$(date +%s.%N)
  awk -v n="$N" -v s="$s" -v e="$e" -v l="$label" 'BEGIN { printf "%s: %.3f s, %d events/s\n", l, e - s, n / (e - s) }'
}
for run in 1 2 3; do
  rate "run $run drift measured (default)"
  rate "run $run --drift off" --drift off
  rate "run $run --drift flag, every event marked" --drift flag --drift-psi 0.0001 --drift-ks 0
done
grep -c '"model_drift":1' "$DIR/drift-out.jsonl" | sed 's/^/events marked in the last flag run: /'
