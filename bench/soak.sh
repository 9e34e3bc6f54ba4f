#!/usr/bin/env bash
# Soak of the Splunk HEC write-back (issue [8/8]): `siem-adapter score --hec-url`
# against the HEC *test server* (not Splunk) on 127.0.0.1, with faults (503
# bursts, 429s, resets mid-body, dropped responses, stalls, lost acks, server
# restarts) and SIGKILLs of the adapter, resumed from its checkpoint each time.
# Counts events sent, stored, duplicated and lost; fails if any is lost or the
# deadline passes. Reports go to out/soak-acks.json and out/soak-no-acks.json.
#
# Usage: bench/soak.sh [EVENTS]            (default 1000000)
# Environment: SOAK_SEED (1), SOAK_KILLS (10), SOAK_MAX_SECONDS (1800, per run),
#   SOAK_NO_ACKS=0 skips the second run (without acks), SOAK_KEEP=1 keeps the
#   work folders (input, checkpoint, adapter log), SOAK_BUILD_ADAPTER=0 uses
#   target/release/siem-adapter as it is instead of building it.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
SEED="${SOAK_SEED:-1}"
KILLS="${SOAK_KILLS:-10}"
MAX="${SOAK_MAX_SECONDS:-1800}"
if [ "${SOAK_BUILD_ADAPTER:-1}" = 1 ]; then
  cargo build --release -q -p siem-adapter --bin siem-adapter
fi
cargo build --release -q -p riskscore-tests --bin hec-soak
test -x target/release/siem-adapter || { echo "no target/release/siem-adapter" >&2; exit 2; }
mkdir -p out
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -sr)"
echo "adapter: target/release/siem-adapter ($(date -u -r target/release/siem-adapter +%FT%TZ))"
status=0
soak() {
  local name=$1; shift
  local cmd=(target/release/hec-soak --events "$N" --seed "$SEED" --kills "$KILLS"
    --max-seconds "$MAX" --adapter target/release/siem-adapter --report "out/soak-$name.json" "$@")
  [ "${SOAK_KEEP:-0}" = 1 ] && cmd+=(--keep)
  echo "+ ${cmd[*]}"
  local s e
  s=$(date +%s.%N)
  "${cmd[@]}" >/dev/null || status=1
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { printf "  (%.1f s including writing the input)\n", e - s }'
}
soak acks --acks
if [ "${SOAK_NO_ACKS:-1}" = 1 ]; then
  soak no-acks
fi
exit $status
