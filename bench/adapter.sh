#!/usr/bin/env bash
# End-to-end adapter throughput (issue [3/8]): ~1 KB JSON alerts scored by the
# example threat_rf model (wasm engine, default settings) to a file, next to
# the floor: a bare serde_json parse-and-reserialize loop over the same file,
# measured in the same run. Usage: bench/adapter.sh [EVENTS]   (default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-300000}"
DIR=target/bench-adapter
mkdir -p "$DIR"
IN="$DIR/alerts_1kb.jsonl"
if [ ! -f "$IN" ] || [ "$(wc -l < "$IN")" -ne "$N" ]; then
  python3 bench/make_alerts_1kb.py "$N" "$IN"
fi
cargo build --release -q -p siem-adapter --bin siem-adapter --example json_floor
BIN=target/release/siem-adapter
echo "input: $N events, $(du -m "$IN" | cut -f1) MB, $(( $(wc -c < "$IN") / N )) bytes/event; $(nproc) cores"
# Warm the module cache and the page cache.
$BIN score --model examples/models/threat_rf.json --trusted-key examples/keys/dev-signing.pub \
  --input "$IN" --output "$DIR/warm.jsonl" >/dev/null 2>&1 || true
# Each timed run writes a new file: truncating the last run's 300 MB output,
# with its pages still dirty, and syncing it cost the next run up to 1 s of
# system time (session 15), so it is removed and flushed before the clock.
fresh() { rm -f "$@"; sync; }
for run in 1 2 3; do
  fresh "$DIR/floor.jsonl"
  target/release/examples/json_floor "$IN" "$DIR/floor.jsonl" | sed "s/^/floor (parse+reserialize, 1 thread) run $run: /"
  fresh "$DIR/scored.jsonl"
  s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$DIR/rss" $BIN score --model examples/models/threat_rf.json \
    --trusted-key examples/keys/dev-signing.pub --input "$IN" --output "$DIR/scored.jsonl" 2>"$DIR/err" || true
  e=$(date +%s.%N)
  python3 - "$s" "$e" "$N" "$DIR/rss" <<'PY'
import sys
s, e, n, rss = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), open(sys.argv[4]).read().split()[-1]
print(f"siem-adapter score (wasm, threat_rf) run: {n} events in {e - s:.3f} s: {n / (e - s):.0f} events/s, peak RSS {int(rss) // 1024} MB")
PY
  fresh "$DIR/scored-native.jsonl"
  /usr/bin/time -f "%e" -o "$DIR/t" $BIN score --engine native --model examples/models/threat_rf.json \
    --trusted-key examples/keys/dev-signing.pub --input "$IN" --output "$DIR/scored-native.jsonl" 2>/dev/null || true
  T=$(cat "$DIR/t"); echo "siem-adapter score (native engine, threat_rf) run: $N events in $T s: $(awk -v n="$N" -v t="$T" 'BEGIN { printf "%d", n / t }') events/s"
done
test "$(wc -l < "$DIR/scored.jsonl")" -eq "$N"
