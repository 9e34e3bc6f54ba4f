#!/usr/bin/env bash
# Scoring throughput: riskscore (criterion) vs scikit-learn (bench/sklearn_peer.py),
# same models, same rows, same machine, one run. Prints a table of rows/s and ratios.
# Usage: bench/scoring.sh [ROWS]   (needs python3 with scikit-learn: pip install scikit-learn)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
out=target/bench-peer
mkdir -p "$out"
python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn numpy threadpoolctl
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== scikit-learn peer (trains the models, exports them, times them)"
python3 bench/sklearn_peer.py --out "$out" --rows "$rows" --repeat 5
echo "== riskscore (criterion, single thread)"
RISKSCORE_BENCH_DIR="$PWD/$out" cargo bench -p scorer-core --bench scoring -- --noplot
python3 bench/report_scoring.py "$out"
