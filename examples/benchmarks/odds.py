#!/usr/bin/env python3
"""Isolation forest on the ODDS anomaly benchmarks (issue [7/8], case 3):
riskscore (`siem-adapter train` + `siem-adapter evaluate`, the wasm engine)
next to scikit-learn's IsolationForest with the same settings, in the same
run, over several seeds, and the Isolation Forest paper's figures.

Settings, as in Liu, Ting & Zhou (ICDM 2008) and sklearn's defaults:
100 trees, sub-sample size 256, trained on the whole data set without labels
and scored on it; ROC AUC of the anomaly score against `label` (1 = anomaly).

Usage: examples/benchmarks/odds.py [--seeds 5] [--sets http,smtp,...]
       [--bin target/release/siem-adapter]   (writes under out/benchmarks/odds/)
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets", "odds")
# (file, name, the paper's ROC AUC)
SETS = [
    ("16_http.csv.gz", "http", 1.00),
    ("34_smtp.csv.gz", "smtp", 0.88),
    ("32_shuttle.csv.gz", "shuttle", 1.00),
    ("23_mammography.csv.gz", "mammography", 0.86),
    ("2_annthyroid.csv.gz", "annthyroid", 0.82),
    ("30_satellite.csv.gz", "satellite", 0.71),
    ("29_Pima.csv.gz", "pima", 0.67),
    ("4_breastw.csv.gz", "breastw", 0.99),
]


def load(path):
    with gzip.open(path, "rt") as f:
        header = f.readline().strip().split(",")
        rows = np.loadtxt(f, delimiter=",", ndmin=2)
    return header, rows


def riskscore_auc(binary, path, features, seed, work):
    model = os.path.join(work, f"model-{seed}.json")
    subprocess.run(
        [binary, "train", "--algorithm", "isolation_forest", "--input", path,
         "--features", ",".join(features), "--label", "label", "--cv-folds", "0",
         "--n-trees", "100", "--sample-size", "256", "--seed", str(seed),
         "--output", model],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    out = subprocess.run(
        [binary, "evaluate", "--allow-unsigned", "--model", model, "--input", path,
         "--label", "label", "--json"],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["roc_auc"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sets", default=",".join(s[1] for s in SETS))
    ap.add_argument("--bin", default="target/release/siem-adapter")
    a = ap.parse_args()
    wanted = a.sets.split(",")
    work = os.path.join("out", "benchmarks", "odds")
    os.makedirs(work, exist_ok=True)
    print(f"seeds 1..{a.seeds}; 100 trees, sub-sample 256; scikit-learn {__import__('sklearn').__version__}")
    print("| data set | rows | features | anomalies | riskscore AUC (mean ± sd) | scikit-learn AUC (mean ± sd) | riskscore − sklearn | paper | riskscore s/seed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for file, name, paper in SETS:
        if name not in wanted:
            continue
        path = os.path.join(DATA, file)
        header, rows = load(path)
        features = [h for h in header if h != "label"]
        x, y = rows[:, :-1], rows[:, -1].astype(int)
        ours, theirs, secs = [], [], []
        for seed in range(1, a.seeds + 1):
            t = time.time()
            ours.append(riskscore_auc(a.bin, path, features, seed, work))
            secs.append(time.time() - t)
            f = IsolationForest(n_estimators=100, max_samples=256, random_state=seed).fit(x)
            theirs.append(roc_auc_score(y, -f.score_samples(x)))
        o, s = np.array(ours), np.array(theirs)
        print(f"| {name} | {len(y)} | {x.shape[1]} | {y.sum()} | {o.mean():.3f} ± {o.std():.3f} | "
              f"{s.mean():.3f} ± {s.std():.3f} | {o.mean() - s.mean():+.3f} | {paper:.2f} | {np.mean(secs):.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
