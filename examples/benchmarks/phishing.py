#!/usr/bin/env python3
"""Logistic regression and random forest on the UCI phishing websites data
(issue [7/8], case 3): riskscore (`siem-adapter train --cv-folds 10`) next to
scikit-learn with the same settings, 10-fold cross-validated ROC AUC (and
scikit-learn's accuracy), in the same run, over seeds. The folds differ
(each side shuffles its own), so the comparison is of CV means.

The data has 11,055 rows, about half of them exact duplicates of another
row: duplicates would sit on both sides of a fold and flatter both models, so
rows are deduplicated first (the count is printed). `Result` -1 = phishing is
the positive class. The 30 features take values in {-1, 0, 1} and are read as
numbers by both sides.

Settings: logistic regression without regularisation on standardised features
(riskscore infers `standardize` for numbers; sklearn: StandardScaler +
LogisticRegression(C=inf)); random forest of 100 trees, depth 12,
max(√d, d/3) features per split (riskscore's defaults; the same for sklearn).

Usage: examples/benchmarks/phishing.py [--seeds 3] [--bin target/release/siem-adapter]
"""
import argparse
import csv
import gzip
import json
import os
import subprocess
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets",
                    "uci-phishing", "phishing_websites.csv.gz")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--bin", default="target/release/siem-adapter")
    a = ap.parse_args()
    work = os.path.join("out", "benchmarks", "phishing")
    os.makedirs(work, exist_ok=True)
    with gzip.open(DATA, "rt") as f:
        r = csv.reader(f)
        header = next(r)
        rows = [tuple(x) for x in r]
    unique = list(dict.fromkeys(rows))
    print(f"{len(rows)} rows, {len(unique)} after removing {len(rows) - len(unique)} exact duplicates")
    label_i = header.index("Result")
    features = [h for h in header if h != "Result"]
    path = os.path.join(work, "phishing_dedup.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header[:label_i] + ["phishing"] + header[label_i + 1:])
        for x in unique:
            x = list(x)
            x[label_i] = "1" if x[label_i] == "-1" else "0"
            w.writerow(x)
    data = np.array([[float(v) for v in x] for x in unique])
    y = (data[:, label_i] == -1).astype(int)
    x = np.delete(data, label_i, axis=1)
    d = x.shape[1]
    print(f"{len(y)} rows, {y.sum()} phishing; {d} features; 10-fold CV; seeds 1..{a.seeds}")
    print("| model | riskscore AUC (mean of seeds) | scikit-learn AUC (mean of seeds) | riskscore − sklearn | scikit-learn accuracy |")
    print("|---|---:|---:|---:|---:|")
    for algo in ["logistic_regression", "random_forest"]:
        ours_auc, theirs_auc, theirs_acc = [], [], []
        for seed in range(1, a.seeds + 1):
            model = os.path.join(work, f"{algo}-{seed}.json")
            subprocess.run(
                [a.bin, "train", "--algorithm", algo, "--input", path, "--features", ",".join(features),
                 "--label", "phishing", "--cv-folds", "10", "--seed", str(seed), "--output", model,
                 "--n-trees", "100", "--max-depth", "12"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            art = json.load(open(model))
            cv = art["metadata"]["metrics"]["cross_validation"]
            ours_auc.append(cv["mean"]["roc_auc"])
            if algo == "logistic_regression":
                est = make_pipeline(StandardScaler(), LogisticRegression(C=np.inf, max_iter=5000))
            else:
                est = RandomForestClassifier(n_estimators=100, max_depth=12,
                                             max_features=max(int(np.sqrt(d)), d // 3), random_state=seed)
            cvs = cross_validate(est, x, y, cv=StratifiedKFold(10, shuffle=True, random_state=seed),
                                 scoring=["roc_auc", "accuracy"])
            theirs_auc.append(cvs["test_roc_auc"].mean())
            theirs_acc.append(cvs["test_accuracy"].mean())
        o, s = np.mean(ours_auc), np.mean(theirs_auc)
        print(f"| {algo} | {o:.4f} | {s:.4f} | {o - s:+.4f} | {np.mean(theirs_acc):.4f} |")


if __name__ == "__main__":
    main()
