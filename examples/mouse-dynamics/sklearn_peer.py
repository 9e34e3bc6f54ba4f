#!/usr/bin/env python3
"""The per-account random forest method with scikit-learn instead of
riskscore, on riskscore's own gesture features — a peer for the session AUC
of `run.sh`, to separate "the features and method" from "riskscore's forest".

    siem-adapter mouse gestures --input out/mouse/train_events.csv.gz --output out/mouse/train_gestures.csv
    siem-adapter mouse gestures --input out/mouse/test_events.csv.gz  --output out/mouse/test_gestures.csv
    examples/mouse-dynamics/sklearn_peer.py out/mouse        # ~4 min on 2 cores

Per account: the owner's gestures (0) against as many gestures of the other
accounts (1), drawn evenly from each; RandomForestClassifier with 100 trees,
depth 12 and max(√d, d/3) features per split (riskscore's settings); the
session score is the mean gesture probability. The impostor draw uses
numpy's generator, not riskscore's, so the training sets differ in which
gestures were drawn, not in how many.
"""
import csv
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score


def load(path):
    with open(path) as f:
        r = csv.reader(f)
        next(r)
        rows = list(r)
    users = np.array([x[0] for x in rows])
    sessions = np.array([x[1] for x in rows])
    X = np.array([[float(v) for v in x[3:]] for x in rows])
    return users, sessions, X


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "out/mouse"
    tu, _, TX = load(f"{out}/train_gestures.csv")
    eu, es, EX = load(f"{out}/test_gestures.csv")
    with open(f"{out}/dev_labels.csv") as f:
        labels = {r["filename"]: int(r["is_illegal"]) for r in csv.DictReader(f)}
    d = TX.shape[1]
    rng = np.random.default_rng(0)
    scores, y = [], []
    for u in sorted(set(tu)):
        own = TX[tu == u]
        others = sorted(o for o in set(tu) if o != u)
        quota = int(np.ceil(len(own) / len(others)))
        imp = np.vstack([TX[tu == o][rng.permutation((tu == o).sum())[:quota]] for o in others])
        X = np.vstack([own, imp])
        t = np.r_[np.zeros(len(own)), np.ones(len(imp))]
        rf = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0,
                                    max_features=max(int(np.sqrt(d)), d // 3)).fit(X, t)
        m = eu == u
        p = rf.predict_proba(EX[m])[:, 1]
        for s in sorted(set(es[m])):
            if s in labels:
                scores.append(p[es[m] == s].mean())
                y.append(labels[s])
    print(f"scikit-learn peer: {len(y)} labelled sessions, global session ROC AUC {roc_auc_score(y, scores):.4f}")


if __name__ == "__main__":
    main()
