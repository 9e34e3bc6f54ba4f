#!/usr/bin/env python3
"""Choose the random-forest method's settings on the training sessions only.

The session AUC of `run.sh` is measured on the labelled test sessions; a
setting chosen by looking at that figure would be tuned on the test set. This
script measures candidate settings by cross-validation over the *training*
sessions (all of them the owners' own), so a choice can be made without the
test labels:

* fold k holds out the k-th training session of every account;
* per account, a forest is trained as `mouse train` does (the owner's other
  sessions' gestures against as many gestures of the other accounts' other
  sessions, drawn evenly), with scikit-learn's forest as a fast stand-in for
  riskscore's (`sklearn_peer.py` shows the two give the same session AUC
  within 0.002 on the test sessions);
* the held-out sessions are cut into pseudo-sessions of --chunk gestures (the
  KS threshold's LOSO uses 40): the owner's are genuine, the other accounts'
  held-out sessions, scored by this account's model, are impostors (at most
  --per-impostor pseudo-sessions each);
* all pseudo-sessions of all accounts and folds are ranked together (global
  ROC AUC, as the challenge scores the test sessions).

Candidates: trees (the first 100 of a 300-tree forest, and all 300) and the
session aggregation of gesture probabilities (mean, as shipped; median; mean
log-odds; share above 0.5; the mean over clicks and drags only; the mean of
the per-kind means), and the mean put on one scale across accounts by a
per-account mapping fitted on the other folds (the owner's CDF; Platt).
Segmentations (`mouse gestures --pause-s/--min-points`)
are compared by running this once per gesture table (--gestures); with
--window the pseudo-sessions are cut by elapsed time instead of by gesture
count, so that every segmentation is judged on the same stretches of mouse
activity (a segmentation making more, shorter gestures would otherwise get
shorter pseudo-sessions).

    siem-adapter mouse gestures --input out/mouse/train_events.csv.gz --output out/mouse/train_gestures.csv
    examples/mouse-dynamics/select_on_training.py out/mouse [--folds 3] [--gestures TABLE --window 180]
"""
import argparse

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sklearn_peer import load  # the gesture table reader (this script's folder)


def per_kind_mean(p, kind):
    """The mean of each gesture kind's mean probability (kinds present only)."""
    return float(np.mean([p[kind == k].mean() for k in np.unique(kind)]))


def clicks_and_drags(p, kind):
    """The mean over point-and-click and drag gestures (all, when there are none)."""
    m = kind != 0
    return float(p[m].mean()) if m.any() else float(p.mean())


# Each takes the gestures' probabilities and kinds (0 move, 1 click, 2 drag).
AGGREGATIONS = {
    "mean": lambda p, kind: p.mean(),
    "median": lambda p, kind: float(np.median(p)),
    "mean_logit": lambda p, kind: float(np.mean(np.log(np.clip(p, 1e-3, 1 - 1e-3) / np.clip(1 - p, 1e-3, 1)))),
    "share_above_half": lambda p, kind: float((p > 0.5).mean()),
    "clicks_and_drags": clicks_and_drags,
    "per_kind_mean": per_kind_mean,
}

# A pause longer than this counts this long towards elapsed time.
PAUSE_CAP_S = 60.0


def chunks(idx, size, limit, elapsed=None):
    """Consecutive pseudo-sessions (the last partial one dropped): of `size`
    gestures, or, given each gesture's `elapsed` time in its session, of
    `size` seconds."""
    if elapsed is None:
        out = [idx[i:i + size] for i in range(0, len(idx) - size + 1, size)]
    else:
        t = elapsed[idx]
        window = np.floor((t - t[0]) / size).astype(int)
        last = window[-1]  # the partial one
        out = [idx[window == w] for w in range(last) if (window == w).any()]
    return out[:limit] if limit else out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default="out/mouse")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--gestures", help="gesture table (default OUT/train_gestures.csv)")
    ap.add_argument("--chunk", type=int, default=40, help="gestures per pseudo-session")
    ap.add_argument("--window", type=float, help="seconds per pseudo-session (instead of --chunk)")
    ap.add_argument("--per-impostor", type=int, default=3)
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0, help="impostor draws and forests")
    a = ap.parse_args()
    table = a.gestures or f"{a.out}/train_gestures.csv"
    users, sessions, X = load(table)
    with open(table) as f:
        names = f.readline().strip().split(",")[3:]  # X's columns
    col = {n: names.index(n) for n in ("is_click", "is_drag", "duration", "pause_before")}
    d = X.shape[1]
    kind = X[:, col["is_click"]] + 2 * X[:, col["is_drag"]]
    elapsed = None
    if a.window:
        # Rows are in session order: elapsed time since the session's first gesture.
        step = X[:, col["duration"]] + np.minimum(X[:, col["pause_before"]], PAUSE_CAP_S)
        elapsed = np.zeros(len(X))
        for s in np.unique(sessions):
            m = np.flatnonzero(sessions == s)
            elapsed[m] = np.cumsum(step[m])
    size = a.window or a.chunk
    accounts = sorted(set(users))
    order = {u: sorted(set(sessions[users == u])) for u in accounts}
    folds = min(a.folds, min(len(s) for s in order.values()))
    tree_counts = sorted({100, a.trees})
    scores = {(t, g): [] for t in tree_counts for g in AGGREGATIONS}
    labels, owners, fold_of = [], [], []
    rng = np.random.default_rng(a.seed)
    for k in range(folds):
        held = {u: order[u][k] for u in accounts}
        out = sessions == np.array([held[u] for u in users])
        for u in accounts:
            own = X[(users == u) & ~out]
            others = [o for o in accounts if o != u]
            quota = int(np.ceil(len(own) / len(others)))
            imp = np.vstack([X[(users == o) & ~out][rng.permutation(((users == o) & ~out).sum())[:quota]]
                             for o in others])
            rf = RandomForestClassifier(n_estimators=a.trees, max_depth=12, random_state=a.seed * 1000 + k,
                                        max_features=max(int(np.sqrt(d)), d // 3), n_jobs=a.jobs)
            rf.fit(np.vstack([own, imp]), np.r_[np.zeros(len(own)), np.ones(len(imp))])
            for v in accounts:
                idx = np.flatnonzero((users == v) & (sessions == held[v]))
                parts = chunks(idx, size, 0 if v == u else a.per_impostor, elapsed)
                if not parts:
                    continue
                rows = X[np.concatenate(parts)]
                per_tree = np.stack([t.predict_proba(rows)[:, 1] for t in rf.estimators_])
                for t in tree_counts:
                    p_all = per_tree[:t].mean(axis=0)
                    at = 0
                    for part in parts:
                        p = p_all[at:at + len(part)]
                        at += len(part)
                        for g, f in AGGREGATIONS.items():
                            scores[(t, g)].append(f(p, kind[part]))
                labels.extend([int(v != u)] * len(parts))
                owners.extend([u] * len(parts))
                fold_of.extend([k] * len(parts))
            print(f"fold {k}, {u}: trained on {len(own)} + {len(imp)} gestures", flush=True)
    y = np.array(labels)
    unit = f"{a.window:g} s" if a.window else f"{a.chunk} gestures"
    print(f"\n{len(y)} pseudo-sessions of {unit} ({(y == 0).sum()} genuine, "
          f"{(y == 1).sum()} impostor), {folds} folds over the training sessions")
    print(f"{'trees':>6} {'aggregation':<18} {'global ROC AUC':>14}")
    for (t, g), s in scores.items():
        print(f"{t:>6} {g:<18} {roc_auc_score(y, s):>14.4f}")
    owner, fold = np.array(owners), np.array(fold_of)
    for t in tree_counts:
        for name, s in calibrated(np.array(scores[(t, "mean")]), y, owner, fold).items():
            print(f"{t:>6} {name:<18} {roc_auc_score(y, s):>14.4f}")


def calibrated(raw, y, owner, fold):
    """The mean gesture probability put on one scale across accounts, each
    fold's pseudo-sessions mapped with what the account's other folds gave
    (no pseudo-session calibrates itself):

    * `mean, owner CDF`: the share of the owner's own held-out pseudo-sessions
      (other folds) scoring below it, ties counted half: how unusual the
      session is for this owner. Needs only the owner's sessions.
    * `mean, Platt`: a logistic fit of owner (0) against other accounts (1)
      over the other folds' pseudo-sessions of this account's model.
    """
    cdf, platt = np.empty_like(raw), np.empty_like(raw)
    for u in np.unique(owner):
        for k in np.unique(fold[owner == u]):
            this, ref = (owner == u) & (fold == k), (owner == u) & (fold != k)
            own = np.sort(raw[ref & (y == 0)])
            lo = np.searchsorted(own, raw[this], "left")
            hi = np.searchsorted(own, raw[this], "right")
            cdf[this] = (lo + hi) / (2 * len(own))
            lr = LogisticRegression(C=1e6).fit(raw[ref, None], y[ref])
            platt[this] = lr.predict_proba(raw[this, None])[:, 1]
    return {"mean, owner CDF": cdf, "mean, Platt": platt}


if __name__ == "__main__":
    main()
