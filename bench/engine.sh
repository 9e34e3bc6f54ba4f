#!/usr/bin/env bash
# Engine benchmarks of issue [2/8]: wasm (wasmtime) vs native batch scoring per
# model, and start-up (runtime + instantiate + load) with a warm and a cold
# module cache. Same machine, same run. Prints the ratios.
# Usage: bench/engine.sh   (makes target/bench-peer with bench/sklearn_peer.py if missing or older
#        than the six-estimator peer)
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-peer
if [ ! -f "$out/bench_pca.json" ]; then
  python3 -c "import sklearn" 2>/dev/null || pip install -q scikit-learn numpy threadpoolctl
  python3 bench/sklearn_peer.py --out "$out" --rows 20000 --repeat 1
fi
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
RISKSCORE_BENCH_DIR="$PWD/$out" cargo bench -p siem-adapter --bench engine -- --noplot
python3 - <<'PY'
import json, pathlib
crit = pathlib.Path("target/criterion")
def mean(*parts):
    return json.loads((crit.joinpath(*parts) / "new" / "estimates.json").read_text())["mean"]["point_estimate"]
print(f"\n{'model':<10} {'native ev/s':>14} {'wasm ev/s':>14} {'wasm/native':>12}")
for m in ["bench_lr", "bench_rf", "bench_if", "bench_linreg", "bench_km", "bench_pca", "threat_rf"]:
    n, w = 4096 / (mean("engine", m, "native") / 1e9), 4096 / (mean("engine", m, "wasm") / 1e9)
    print(f"{m:<10} {n:>14,.0f} {w:>14,.0f} {w / n:>11.2f}x")
for s in ["warm_cache", "cold_cache", "native_load", "runtime_warm_cache", "instantiate_and_load_lr"]:
    print(f"start/{s:<24} {mean('start', s) / 1e6:8.2f} ms")
PY
