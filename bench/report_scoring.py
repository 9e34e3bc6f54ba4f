#!/usr/bin/env python3
"""Print riskscore vs scikit-learn scoring throughput from one bench/scoring.sh run.

Reads criterion's samples (target/criterion/<group>/<model>/<rows>/new/sample.json;
one iteration = the whole batch) and the peer's sklearn_peer.json written in the
same run. Like for like: riskscore's best sample against scikit-learn's best run,
and riskscore's mean against scikit-learn's mean (this VM is noisy; the two
ratios bracket the truth).
"""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-peer")
peer = json.loads((out / "sklearn_peer.json").read_text())
rows = peer["rows"]
crit = pathlib.Path("target/criterion")
print(f"\nrows per batch: {rows}; scikit-learn {peer['sklearn_version']}, numpy {peer['numpy_version']}")
print(f"{'model':<6} {'riskscore best':>15} {'sklearn best':>13} {'ratio':>6}   "
      f"{'riskscore mean':>15} {'sklearn mean':>13} {'ratio':>6}   {'+featurize mean':>16}")


def rates(group, name):
    """(best, mean) rows/s of a criterion benchmark: per-iteration time of each sample."""
    d = json.loads((crit / group / name / str(rows) / "new" / "sample.json").read_text())
    per_iter = [t / n for n, t in zip(d["iters"], d["times"])]
    return rows / (min(per_iter) / 1e9), rows / (sum(per_iter) / len(per_iter) / 1e9)


for name in ["lr", "rf", "if", "linreg", "km", "pca"]:
    best, mean = rates("score_matrix", name)
    _, full = rates("featurize_and_score", name)
    r = peer["results"][name]
    their_best, their_mean = r["rows_per_s"], r.get("mean_rows_per_s", r["rows_per_s"])
    print(f"{name:<6} {best:>15,.0f} {their_best:>13,.0f} {best / their_best:>5.1f}x   "
          f"{mean:>15,.0f} {their_mean:>13,.0f} {mean / their_mean:>5.1f}x   {full:>16,.0f}")
