#!/usr/bin/env python3
"""Print riskscore vs scikit-learn scoring throughput from one bench/scoring.sh run.

Reads criterion's estimates (target/criterion/score_matrix/<model>/<rows>/new/estimates.json,
mean time per iteration, one iteration = the whole batch) and the peer's
sklearn_peer.json written in the same run.
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-peer")
peer = json.loads((out / "sklearn_peer.json").read_text())
rows = peer["rows"]
crit = pathlib.Path("target/criterion")
print(f"\nrows per batch: {rows}; scikit-learn {peer['sklearn_version']}, numpy {peer['numpy_version']}")
print(f"{'model':<6} {'riskscore rows/s':>18} {'+featurize rows/s':>18} {'sklearn rows/s':>16} {'ratio':>8}")
for name in ["lr", "rf", "if"]:
    def rate(group):
        est = json.loads((crit / group / name / str(rows) / "new" / "estimates.json").read_text())
        return rows / (est["mean"]["point_estimate"] / 1e9)
    ours, full = rate("score_matrix"), rate("featurize_and_score")
    theirs = peer["results"][name]["rows_per_s"]
    print(f"{name:<6} {ours:>18,.0f} {full:>18,.0f} {theirs:>16,.0f} {ours / theirs:>7.1f}x")
