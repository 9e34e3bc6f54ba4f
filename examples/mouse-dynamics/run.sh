#!/usr/bin/env bash
# Session anomaly scoring from mouse dynamics on the Balabit Mouse Dynamics
# Challenge data (issue [7/8], case 1): per-account session models trained
# by `siem-adapter mouse train`, the test sessions scored by
# `siem-adapter mouse score` (the wasm engine), global session ROC AUC over
# the labelled test sessions for both methods.
#
#   examples/mouse-dynamics/run.sh [OUT_DIR]     # default out/mouse; ~20-40 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-out/mouse}
DATA=../shared/datasets/balabit-mouse-dynamics.tar.xz
BIN=target/release/siem-adapter
[ -x "$BIN" ] || cargo build --release -p siem-adapter
mkdir -p "$OUT"

echo "== events: the archive as two CSV streams (user, session, mouse fields)"
[ -f "$OUT/test_events.csv.gz" ] || python3 examples/mouse-dynamics/balabit_events.py "$DATA" "$OUT"

echo "== train: one artifact per account (random forest vs other accounts' gestures + KS profile)"
time "$BIN" mouse train --input "$OUT/train_events.csv.gz" --out-dir "$OUT/models" \
  --max-depth 12 --n-trees 100 --seed 42 --approval approved \
  --key examples/keys/dev-signing.key

for method in gesture-mean ks; do
  echo "== score: test sessions, method $method (wasm engine)"
  time "$BIN" mouse score --models "$OUT/models" --trusted-key examples/keys/dev-signing.pub \
    --method "$method" --input "$OUT/test_events.csv.gz" --output "$OUT/sessions-$method.jsonl"
  python3 examples/mouse-dynamics/session_auc.py "$OUT/sessions-$method.jsonl" "$OUT/dev_labels.csv" \
    --json "$OUT/auc-$method.json"
done
