#!/usr/bin/env python3
"""scikit-learn peer for riskscore's scoring benchmark.

What it measures
----------------
How fast scikit-learn itself scores a batch of rows, single-threaded, with the
very same models that riskscore is benchmarked on:

* LogisticRegression on 32 features            -> predict_proba
* RandomForestClassifier(100 trees, depth 12)   -> predict_proba
* IsolationForest(100 trees, max_samples=256)   -> score_samples
* LinearRegression on the label                 -> predict, rescaled to [0, 1]
* KMeans(8 clusters), risk = positive share     -> predict, risk of the cluster
* PCA, first component                          -> transform, logistic of z / sd

Each timing is the best (and, beside it, the mean) of --repeat runs, each run scoring the whole batch of
--rows rows in one call (sklearn's fastest, fully vectorised path; its input
validation and float64 -> float32 cast for the trees are included, as they are
part of every real predict call). All thread pools are pinned to one thread
(OMP/OpenBLAS/MKL environment variables before numpy is imported, plus
threadpoolctl when available, plus n_jobs=1), so the numbers compare with one
riskscore core.

Why
---
This is the peer that riskscore's throughput is compared against in
BENCHMARKS.md. To make the comparison about the same work, the script also
exports the trained models as riskscore artifacts and writes the scoring rows
and sklearn's expected scores, so the Rust benchmark scores identical models on
identical rows and can check that it got the same answers.

Outputs (in --out DIR)
----------------------
bench_{lr,rf,if,linreg,km,pca}.json          riskscore artifacts (unsigned)
bench_rows.csv                                scoring rows, header f0..f31
expected_{lr,rf,if,linreg,km,pca}.txt         one sklearn score per row (repr floats):
                                              predict_proba[:,1], predict_proba[:,1],
                                              -score_samples, and the three mappings
                                              above (the artifact's `output.score`)
sklearn_peer.json                             versions, timings, model sizes

Data: seed 7; 50,000 training rows; every feature value is float32-exact
(multiples of 1/1024 within +-64, or small integers), so sklearn's float32 cast
in the trees loses nothing and riskscore's f64 comparisons give the same path.

With --data nslkdd or --data odds:NAME (bench/real_data.py) the models are
trained on that public data set instead and score its rows (NSL-KDD:
KDDTest+; ODDS and phishing: every row): issue [7/8]'s throughput on real data.

Usage:  python3 bench/sklearn_peer.py --out DIR [--rows 20000] [--repeat 5] [--data nslkdd|odds:NAME]
"""

import os

# Pin every native thread pool to one thread before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import IsolationForest, RandomForestClassifier  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

SEED = 7
N_FEATURES = 32
N_TRAIN = 50_000
EULER_GAMMA = 0.5772156649015329


# ---------------------------------------------------------------------------
# data


def quantize(x, step=1.0 / 1024.0, limit=64.0):
    """Round to a multiple of `step` and clip: float32-exact values."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / step) * step, -limit, limit)


def make_features(rng, n):
    """32 columns of mixed kinds, like alert features after a schema."""
    cols = []
    for _ in range(12):  # standardized numeric measurements
        cols.append(quantize(rng.normal(0.0, 1.0, n)))
    for _ in range(6):  # skewed magnitudes, e.g. log bytes
        cols.append(quantize(np.log1p(rng.lognormal(2.0, 1.2, n))))
    for _ in range(6):  # bounded ratios
        cols.append(quantize(rng.uniform(0.0, 1.0, n)))
    for _ in range(4):  # small counts
        cols.append(rng.poisson(3.0, n).astype(np.float64))
    for p in (0.1, 0.3, 0.5, 0.05):  # flags
        cols.append((rng.uniform(0.0, 1.0, n) < p).astype(np.float64))
    X = np.column_stack(cols)
    assert X.shape == (n, N_FEATURES)
    return X


def make_label(rng, X):
    """A non-linear rule (interactions, thresholds, a periodic term) plus logistic noise."""
    z = (
        1.2 * X[:, 0]
        - 0.8 * X[:, 1]
        + 0.7 * X[:, 2] * X[:, 3]
        + 1.5 * (X[:, 12] > 3.0)
        - 1.0 * ((X[:, 4] < -0.5) & (X[:, 18] > 0.5))
        + 0.6 * np.sin(2.0 * X[:, 5])
        + 0.4 * X[:, 24]
        + 2.0 * X[:, 31] * (X[:, 19] > 0.7)
        - 0.3 * X[:, 6] ** 2
        - 1.8
    )
    return (z + rng.logistic(0.0, 1.0, len(z)) > 0).astype(np.int64)


def make_data(n_score):
    rng = np.random.default_rng(SEED)
    X_train = make_features(rng, N_TRAIN)
    y_train = make_label(rng, X_train)
    X_score = make_features(rng, n_score)
    for X in (X_train, X_score):
        assert np.array_equal(X.astype(np.float32).astype(np.float64), X)
    return X_train, y_train, X_score


# ---------------------------------------------------------------------------
# export to riskscore artifacts


def export_tree(est, kind):
    t = est.tree_
    tree = {
        "feature": [int(v) for v in t.feature],
        "threshold": [float(v) for v in t.threshold],
        "left": [int(v) for v in t.children_left],
        "right": [int(v) for v in t.children_right],
    }
    for i, (l, r) in enumerate(zip(tree["left"], tree["right"])):
        assert (l == r == -1 and tree["feature"][i] == -2) or (l > i and r > i), (kind, i)
    if kind == "random_forest":
        v = t.value[:, 0, :]
        tree["value"] = [float(x) for x in v[:, 1] / v.sum(axis=1)]
    else:
        tree["n_samples"] = [int(x) for x in t.n_node_samples]
    return tree


def artifact(name, description, estimator, score, width=N_FEATURES, data=None):
    return {
        "format": "riskscore-model",
        "format_version": 1,
        "metadata": {
            "name": name,
            "version": "1.0.0",
            "description": description,
            "author": "bench/sklearn_peer.py",
            "created": "2026-01-01T00:00:00Z",
            "training_data": data or f"synthetic (bench/sklearn_peer.py, seed {SEED})",
            "approval": "draft",
            "tags": ["benchmark"],
        },
        "schema": {
            "features": [
                {"field": f"f{i}", "transform": {"kind": "number"}} for i in range(width)
            ]
        },
        "estimator": estimator,
        "output": {"score": score, "threshold": 0.5},
    }


def export_lr(lr):
    return {
        "type": "logistic_regression",
        "weights": [float(w) for w in lr.coef_[0]],
        "intercept": float(lr.intercept_[0]),
    }


def export_linreg(lin):
    return {
        "type": "linear_regression",
        "weights": [float(w) for w in lin.coef_],
        "intercept": float(lin.intercept_),
    }


def export_km(km, risk):
    return {
        "type": "kmeans",
        "centroids": [[float(v) for v in c] for c in km.cluster_centers_],
        "cluster_risk": [float(r) for r in risk],
    }


def export_pca(pca):
    return {
        "type": "pca",
        "mean": [float(v) for v in pca.mean_],
        "components": [[float(v) for v in c] for c in pca.components_],
        "explained_variance": [float(v) for v in pca.explained_variance_],
    }


def export_rf(rf):
    assert list(rf.classes_) == [0, 1]
    return {"type": "random_forest", "trees": [export_tree(e, "random_forest") for e in rf.estimators_]}


def export_if(iso):
    for feats in iso.estimators_features_:
        assert np.array_equal(feats, np.arange(iso.n_features_in_))
    assert iso.max_samples_ == iso._max_samples
    return {
        "type": "isolation_forest",
        "sample_size": int(iso.max_samples_),
        "trees": [export_tree(e, "isolation_forest") for e in iso.estimators_],
    }


# ---------------------------------------------------------------------------
# check: score the exported artifacts with numpy and compare with sklearn


def apply_tree(tree, X):
    """Leaf index and depth for every row, following the artifact's convention."""
    feature = np.asarray(tree["feature"])
    threshold = np.asarray(tree["threshold"])
    left = np.asarray(tree["left"])
    right = np.asarray(tree["right"])
    node = np.zeros(len(X), dtype=np.int64)
    depth = np.zeros(len(X), dtype=np.int64)
    rows = np.arange(len(X))
    active = left[node] != -1
    while active.any():
        n = node[active]
        go_left = X[rows[active], feature[n]] <= threshold[n]
        node[active] = np.where(go_left, left[n], right[n])
        depth[active] += 1
        active = left[node] != -1
    return node, depth


def c_path(n):
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def artifact_scores(est, X):
    """Raw outputs (the isolation forest's: its score), before `output.score`."""
    if est["type"] in ("logistic_regression", "linear_regression"):
        return X @ np.asarray(est["weights"]) + est["intercept"]
    if est["type"] == "kmeans":
        c = np.asarray(est["centroids"])
        d = ((X[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(est["cluster_risk"])[d.argmin(axis=1)]
    if est["type"] == "pca":
        return (X - np.asarray(est["mean"])) @ np.asarray(est["components"][0])
    if est["type"] == "random_forest":
        total = np.zeros(len(X))
        for tree in est["trees"]:
            total += np.asarray(tree["value"])[apply_tree(tree, X)[0]]
        return total / len(est["trees"])
    if est["type"] == "isolation_forest":
        h = np.zeros(len(X))
        for tree in est["trees"]:
            leaf, depth = apply_tree(tree, X)
            h += depth + c_path(np.asarray(tree["n_samples"])[leaf])
        return 2.0 ** (-(h / len(est["trees"])) / c_path([est["sample_size"]])[0])
    raise ValueError(est["type"])


def apply_mapping(score, raw):
    """An artifact's `output.score` on raw outputs (scorer-core's output.rs)."""
    kind = score["kind"]
    if kind == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-raw))
    elif kind == "identity":
        s = raw
    elif kind == "logistic":
        s = 1.0 / (1.0 + np.exp(-(raw - score["center"]) / score["scale"]))
    elif kind == "min_max":
        s = (raw - score["min"]) / (score["max"] - score["min"])
    else:  # isolation: artifact_scores returns the score itself
        return raw
    return np.clip(s, 0.0, 1.0)


def check(name, est, score, X, expected):
    got = apply_mapping(score, artifact_scores(est, X))
    err = np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected)))
    assert err <= 1e-12, f"{name}: exported artifact disagrees with sklearn (max rel. err {err})"
    return err


# ---------------------------------------------------------------------------
# timing


def timings(fn, X, repeat):
    """Best and mean seconds of `repeat` timed runs, after one warm-up."""
    fn(X)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(X)
        times.append(time.perf_counter() - t0)
    return min(times), sum(times) / len(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--rows", type=int, default=None,
                    help="scoring rows (default 20000; with --data: every scoring row of the set)")
    ap.add_argument("--data", default="synthetic",
                    help="synthetic (default), nslkdd, phishing or odds:NAME (bench/real_data.py)")
    ap.add_argument("--repeat", type=int, default=20, help="timed runs; best and mean kept (default 20)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    limiter = threadpool_limits(limits=1) if threadpool_limits else None

    if args.data == "synthetic":
        args.rows = args.rows or 20_000
        X_train, y_train, X_score = make_data(args.rows)
        data = None
    else:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        import real_data

        # Unscaled real columns: lbfgs may stop at max_iter; the weights still
        # make a valid model to time, which is all the LR is here.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        X_train, y_train, X_score, data = real_data.load(args.data)
        X_score = X_score[: args.rows] if args.rows else X_score
        args.rows = len(X_score)
    # NSL-KDD and phishing: the forests of EVALUATION.md (NSL-KDD depth 11,
    # 41 columns a split; phishing depth 12, max(sqrt(d), d/3) = 10 columns).
    shape = {"nslkdd": dict(max_depth=11, max_features=41),
             "phishing": dict(max_depth=12, max_features=10)}.get(args.data, dict(max_depth=12))
    rf = RandomForestClassifier(n_estimators=100, random_state=SEED, n_jobs=1, **shape)
    width = X_train.shape[1]
    print(f"data: {data or 'synthetic'}; {len(X_train)} training rows, {args.rows} scoring rows, "
          f"{width} features", file=sys.stderr)
    print(f"positive rate {y_train.mean():.3f}", file=sys.stderr)

    print("training ...", file=sys.stderr)
    lr = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    rf.fit(X_train, y_train)
    iso = IsolationForest(n_estimators=100, max_samples=256, random_state=SEED, n_jobs=1)
    iso.fit(X_train)
    lin = LinearRegression().fit(X_train, y_train)
    fitted = lin.predict(X_train)
    lin_score = {"kind": "min_max", "min": float(fitted.min()), "max": float(fitted.max())}
    lin_lo, lin_span = lin_score["min"], lin_score["max"] - lin_score["min"]
    km = KMeans(n_clusters=8, n_init=1, random_state=SEED).fit(X_train)
    km_risk = np.array([y_train[km.labels_ == c].mean() for c in range(8)])
    pca = PCA(n_components=2, random_state=SEED).fit(X_train)
    pca_sd = float(np.sqrt(pca.explained_variance_[0]))
    pca_score = {"kind": "logistic", "center": 0.0, "scale": pca_sd}

    # Each model: (sklearn's scores as riskscore's output, artifact estimator,
    # artifact output.score, description). The last three map sklearn's output
    # as the artifact does, in numpy, inside the timed call.
    models = {
        "lr": (lambda X: lr.predict_proba(X)[:, 1], export_lr(lr), {"kind": "sigmoid"},
               f"logistic regression, {width} features"),
        "rf": (lambda X: rf.predict_proba(X)[:, 1], export_rf(rf), {"kind": "identity"},
               f"random forest, 100 trees, max_depth {rf.max_depth}"),
        "if": (lambda X: -iso.score_samples(X), export_if(iso), {"kind": "isolation"},
               "isolation forest, 100 trees, max_samples 256"),
        "linreg": (lambda X: np.clip((lin.predict(X) - lin_lo) / lin_span, 0.0, 1.0),
                   export_linreg(lin), lin_score, f"linear regression, {width} features"),
        "km": (lambda X: km_risk[km.predict(X)], export_km(km, km_risk), {"kind": "identity"},
               "k-means, 8 clusters, risk = positive share of the cluster"),
        "pca": (lambda X: 1.0 / (1.0 + np.exp(-pca.transform(X)[:, 0] / pca_sd)),
                export_pca(pca), pca_score, "PCA, logistic of the first component"),
    }

    # artifacts, rows, expected scores
    with open(os.path.join(args.out, "bench_rows.csv"), "w") as f:
        f.write(",".join(f"f{i}" for i in range(width)) + "\n")
        for row in X_score:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    for key, (score, est, mapping, desc) in models.items():
        expected = score(X_score)
        err = check(key, est, mapping, X_score, expected)
        with open(os.path.join(args.out, f"bench_{key}.json"), "w") as f:
            json.dump(artifact(f"bench_{key}", desc, est, mapping, width, data), f, allow_nan=False,
                      separators=(",", ":"))
            f.write("\n")
        with open(os.path.join(args.out, f"expected_{key}.txt"), "w") as f:
            f.writelines(repr(float(v)) + "\n" for v in expected)
        print(f"exported bench_{key}.json (artifact matches sklearn, max rel. err {err:.2g})",
              file=sys.stderr)

    # timing
    results = {}
    for key, (score, _, _, _) in models.items():
        best, mean = timings(score, X_score, args.repeat)
        results[key] = {"seconds": best, "rows_per_s": args.rows / best,
                        "mean_seconds": mean, "mean_rows_per_s": args.rows / mean}

    if limiter is not None:
        limiter.restore_original_limits()

    report = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "rows": args.rows,
        "data": data or "synthetic",
        "width": width,
        "results": results,
        "rf_nodes_total": int(sum(e.tree_.node_count for e in rf.estimators_)),
        "rf_max_depth": int(max(e.tree_.max_depth for e in rf.estimators_)),
        "if_nodes_total": int(sum(e.tree_.node_count for e in iso.estimators_)),
    }
    with open(os.path.join(args.out, "sklearn_peer.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
