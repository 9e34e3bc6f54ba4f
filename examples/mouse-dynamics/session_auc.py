#!/usr/bin/env python3
"""Global session ROC AUC of scored sessions against the challenge's labels.

    examples/mouse-dynamics/session_auc.py SESSIONS.jsonl dev_labels.csv [--json OUT]

SESSIONS.jsonl is the output of `siem-adapter mouse score`; only the
sessions labelled in dev_labels.csv (`is_illegal` 1 = not the owner) count.
The AUC is global (all sessions' scores ranked together, as the challenge
scored it) and computed as the Mann-Whitney statistic with ties counted
half; per-account AUCs and the flag's confusion counts are printed too.
No third-party packages.
"""
import csv
import json
import sys
from collections import defaultdict


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    n_pos = sum(labels)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie group
        rank_sum += mid * sum(l for _, l in pairs[i:j])
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def main():
    sessions_path, labels_path = sys.argv[1], sys.argv[2]
    out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    with open(labels_path) as f:
        labels = {r["filename"]: int(r["is_illegal"]) for r in csv.DictReader(f)}
    rows, missing, errors = [], set(labels), 0
    with open(sessions_path) as f:
        for line in f:
            e = json.loads(line)
            if e["session"] not in labels:
                continue
            missing.discard(e["session"])
            if "model_output_risk_score" not in e:
                errors += 1
                continue
            rows.append((e["user"], e["model_output_risk_score"], e["anomaly_flag"], labels[e["session"]]))
    if missing:
        print(f"warning: {len(missing)} labelled sessions absent from {sessions_path}")
    s = [r[1] for r in rows]
    y = [r[3] for r in rows]
    tp = sum(1 for r in rows if r[2] == 1 and r[3] == 1)
    fp = sum(1 for r in rows if r[2] == 1 and r[3] == 0)
    result = {
        "sessions": len(rows),
        "illegal": sum(y),
        "unscored": errors,
        "auc": auc(s, y),
        "tpr": tp / max(sum(y), 1),
        "fpr": fp / max(len(y) - sum(y), 1),
        "per_user": {},
    }
    by_user = defaultdict(list)
    for r in rows:
        by_user[r[0]].append(r)
    for u in sorted(by_user, key=lambda u: int(u[4:]) if u[4:].isdigit() else u):
        rs = by_user[u]
        result["per_user"][u] = auc([r[1] for r in rs], [r[3] for r in rs])
    print(f"{result['sessions']} labelled sessions ({result['illegal']} illegal, {errors} unscored): "
          f"global ROC AUC {result['auc']:.4f}; flag TPR {result['tpr']:.3f} at FPR {result['fpr']:.3f}")
    print("  per account: " + ", ".join(f"{u} {a:.3f}" for u, a in result["per_user"].items()))
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
