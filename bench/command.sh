#!/usr/bin/env bash
# The Splunk command (issue [4/8]) against its splunklib peer, same machine,
# same run: records/s of the release `riskscore` and of tests/peer/riskscore_peer.py
# (splunk-sdk StreamingCommand) on one 50,000-record, ~16 MB execute chunk of
# realistic alerts (median of REPS runs each, and the ratio; the command with its
# default threads=2 and with threads=1, the peer on its one thread); start-up of the
# command (spawn until getinfo is answered) with a warm module cache (median of
# START_RUNS) and with a fresh, empty one (median of COLD_RUNS); peak RSS on the
# 16 MB chunk. The app folder (threat_rf + the development key) is made in a
# temp dir. Targets: >= 20x the peer's records/s, start <= 50 ms, RSS < 64 MB.
# Usage: bench/command.sh   (env: BIN=target/release/riskscore REPS=5 START_RUNS=20 COLD_RUNS=5 RECORDS=50000 BODY_MB=16)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/riskscore}
if [ ! -x "$BIN" ]; then
  while pgrep -x cargo >/dev/null; do
    echo "$BIN is missing; waiting for the cargo already running to finish before building it"
    sleep 30
  done
  cargo build --release -p riskscore-command
fi
python3 -c "import splunklib.searchcommands, numpy" 2>/dev/null || pip install -q splunk-sdk numpy
[ -x /usr/bin/time ] || { echo "bench/command.sh needs /usr/bin/time (Debian package time) for peak RSS"; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/app/models" "$WORK/app/keys" "$WORK/dispatch"
cp examples/models/threat_rf.json "$WORK/app/models/"
cp examples/keys/dev-signing.pub "$WORK/app/keys/"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== riskscore: $BIN ($(date -r "$BIN" '+%F %T')); peer: python $(python3 -c 'import sys; print(sys.version.split()[0])'), splunk-sdk $(python3 -c 'import splunklib; print(splunklib.__version__)')"
if pgrep -x cargo >/dev/null || pgrep -x rustc >/dev/null; then
  echo "== warning: a cargo/rustc build is running on this machine: the figures below are noisy"
fi
python3 bench/make_chunk.py "$WORK/input.bin" --records "${RECORDS:-50000}" --body-mb "${BODY_MB:-16}" \
  --dispatch-dir "$WORK/dispatch"
python3 bench/command_bench.py --rust "$BIN" --peer tests/peer/riskscore_peer.py --app "$WORK/app" \
  --input "$WORK/input.bin" --work "$WORK" --reps "${REPS:-5}" --start-runs "${START_RUNS:-20}" \
  --cold-runs "${COLD_RUNS:-5}"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
