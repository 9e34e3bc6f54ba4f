#!/usr/bin/env bash
# Remediation-time regression under drift (issue [7/8], case 4): a linear
# regression of remediation days trained on clients 1 and 2, measured on fresh
# data of each client (R², RMSE against the training metrics), and scored with
# the drift policy's `suppress` action — which fires on client 3 and not on
# clients 1 and 2. Data: synthetic and seeded (tests/src/synthetic.rs documents
# how it is made). Writes everything under out/remediation/ and prints a table.
# Usage: examples/remediation/run.sh [EVENTS_PER_CLIENT]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-2000}"
cargo build --release -q -p siem-adapter --bin siem-adapter
cargo build --release -q -p riskscore-tests --bin make-remediation
BIN=target/release/siem-adapter
GEN=target/release/make-remediation
OUT=out/remediation
mkdir -p "$OUT"

"$GEN" --client 1 --events "$N" --seed 1 > "$OUT/train.jsonl"
"$GEN" --client 2 --events "$N" --seed 2 >> "$OUT/train.jsonl"
"$BIN" train --algorithm linear_regression --label remediation_days \
  --features cvss,asset_criticality,internet_facing,os,open_findings \
  --input "$OUT/train.jsonl" --output "$OUT/remediation.json" --name remediation_days \
  --description "Days to remediate a finding; trained on clients 1 and 2 (synthetic)" >/dev/null

for c in 1 2 3; do
  "$GEN" --client "$c" --events "$N" --seed $((10 + c)) > "$OUT/client$c.jsonl"
  # A development artifact (unsigned, draft): --allow-unsigned.
  "$BIN" evaluate --allow-unsigned --model "$OUT/remediation.json" --input "$OUT/client$c.jsonl" \
    --label remediation_days --json > "$OUT/evaluate-client$c.json"
  "$BIN" score --allow-unsigned --model "$OUT/remediation.json" --input "$OUT/client$c.jsonl" \
    --output "$OUT/scored-client$c.jsonl" --drift suppress --drift-report "$OUT/drift-client$c.json" \
    2> "$OUT/score-client$c.log" || [ $? -eq 1 ]
done

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| client | events | R² | RMSE (days) | R² in training (hold-out) | dropped beyond margin | drift status | max PSI | first findings | events held (suppress) |")
print("|---|---:|---:|---:|---:|---|---|---:|---|---:|")
for c in (1, 2, 3):
    ev = json.load(open(f"{out}/evaluate-client{c}.json"))
    dr = json.load(open(f"{out}/drift-client{c}.json"))
    run = dr["reports"][-1]
    a = run["assessment"]
    cmp = ev.get("comparison") or {}
    train_r2 = next((m.get("training") for m in cmp.get("metrics", []) if m.get("metric") == "r2"), None)
    dropped = ", ".join(cmp.get("dropped", [])) or "none"
    lines = [json.loads(l) for l in open(f"{out}/scored-client{c}.jsonl")]
    held = sum(1 for l in lines if str(l.get("risk_error", "")).startswith("anomaly_flag suppressed"))
    finds = "; ".join(f'{f["column"]} {f["statistic"]} {f["value"]:.2f}' for f in a["findings"][:3]) or "–"
    tr = f"{train_r2:.3f}" if isinstance(train_r2, (int, float)) else "n/a"
    print(f'| {c} | {ev["counts"]["evaluated"]} | {ev["r2"]:.3f} | {ev["rmse"]:.2f} | {tr} | {dropped} | {a["status"]} | {a["max_psi"]:.3f} | {finds} | {held} |')
PY
