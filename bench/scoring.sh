#!/usr/bin/env bash
# Scoring throughput: riskscore (criterion) vs scikit-learn (bench/sklearn_peer.py),
# same models, same rows, same machine, one run. Prints a table of rows/s and ratios.
# Usage: bench/scoring.sh [ROWS]   (needs python3 with scikit-learn: pip install scikit-learn)
#        DATA=nslkdd bench/scoring.sh [ROWS]   the same on a public data set's own models and
#        rows ([7/8]; DATA=phishing, odds:http, odds:shuttle, ...: bench/real_data.py); ROWS caps its rows.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-synthetic}
if [ "$data" = synthetic ]; then
  out=target/bench-peer
  rows_arg=(--rows "${1:-20000}")
else
  out="target/bench-peer-${data/:/-}"
  rows_arg=()
  [ -n "${1:-}" ] && rows_arg=(--rows "$1")
fi
mkdir -p "$out"
python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn numpy threadpoolctl
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== scikit-learn peer (trains the models, exports them, times them)"
python3 bench/sklearn_peer.py --out "$out" --data "$data" "${rows_arg[@]}" --repeat 5
echo "== riskscore (criterion, single thread)"
RISKSCORE_BENCH_DIR="$PWD/$out" cargo bench -p scorer-core --bench scoring -- --noplot
python3 bench/report_scoring.py "$out"
