"""Real data sets for the scoring benchmark (`bench/sklearn_peer.py --data ...`).

Issue [7/8] asks for [1/8]'s throughput ratio on the public benchmarks
themselves, not only on [1/8]'s synthetic rows. Each loader returns the
numeric matrix both sides score (training rows, labels, scoring rows) and
what it is:

* `nslkdd`: NSL-KDD (`../shared/datasets/nsl-kdd/`), trained on KDDTrain+
  (125,973 rows), scored on KDDTest+ (22,544 rows). The 38 numeric columns
  as log1p(x) (they are counts, rates and byte totals, all >= 0) and the
  three categoricals (`protocol_type`, `service`, `flag`) one-hot over the
  training values (an unseen value: all zeros), as `examples/benchmarks/
  nslkdd.py` encodes them: 122 columns. Label: `attack` != `normal`.
* `odds:NAME` (NAME one of http, smtp, shuttle, mammography, annthyroid,
  satellite, pima, breastw): an ODDS set (`../shared/datasets/odds/`), every
  row trained on and scored, as `examples/benchmarks/odds.py` does. Label:
  `label` (1 = anomaly).
* `phishing`: the UCI phishing websites data (`../shared/datasets/
  uci-phishing/`): trained on its rows without exact duplicates (5,849 of
  11,055, as `examples/benchmarks/phishing.py` deduplicates them), scored on
  every row as shipped (duplicates included: traffic repeats itself). 30
  columns in {-1, 0, 1}. Label: `Result` = -1 (phishing).

Every value is rounded to float32 once, here, so scikit-learn's float32
cast in its trees changes nothing and both sides walk the same paths on the
same matrix.
"""
import csv
import gzip
import os

import numpy as np

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets")
ODDS = {
    "http": "16_http.csv.gz",
    "smtp": "34_smtp.csv.gz",
    "shuttle": "32_shuttle.csv.gz",
    "mammography": "23_mammography.csv.gz",
    "annthyroid": "2_annthyroid.csv.gz",
    "satellite": "30_satellite.csv.gz",
    "pima": "29_Pima.csv.gz",
    "breastw": "4_breastw.csv.gz",
}
NSLKDD_CATEGORICAL = ["protocol_type", "service", "flag"]


def f32(x):
    """Rounded to float32 and back: exact in both sides' comparisons."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def _kdd(name):
    with gzip.open(os.path.join(SHARED, "nsl-kdd", name + ".csv.gz"), "rt") as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    return header, rows


def nslkdd():
    header, train = _kdd("KDDTrain+")
    _, test = _kdd("KDDTest+")
    skip = {"attack", "difficulty", *NSLKDD_CATEGORICAL}
    num = [i for i, h in enumerate(header) if h not in skip]
    cat = [header.index(c) for c in NSLKDD_CATEGORICAL]
    values = [sorted({r[i] for r in train}) for i in cat]
    attack = header.index("attack")

    def matrix(rows):
        x = np.log1p(np.array([[float(r[i]) for i in num] for r in rows]))
        hot = []
        for i, vals in zip(cat, values):
            col = {v: k for k, v in enumerate(vals)}
            m = np.zeros((len(rows), len(vals)))
            for j, r in enumerate(rows):
                k = col.get(r[i])
                if k is not None:
                    m[j, k] = 1.0
            hot.append(m)
        return f32(np.hstack([x] + hot))

    y = np.array([r[attack] != "normal" for r in train], dtype=np.int64)
    desc = (f"NSL-KDD: KDDTrain+ ({len(train)} rows) -> KDDTest+ ({len(test)} rows); "
            f"{len(num)} numeric columns as log1p, {', '.join(NSLKDD_CATEGORICAL)} one-hot")
    return matrix(train), y, matrix(test), desc


def odds(name):
    path = os.path.join(SHARED, "odds", ODDS[name])
    with gzip.open(path, "rt") as f:
        header = f.readline().strip().split(",")
        rows = np.loadtxt(f, delimiter=",", ndmin=2)
    label = header.index("label")
    X = f32(np.delete(rows, label, axis=1))
    y = rows[:, label].astype(np.int64)
    return X, y, X, f"ODDS {name}: {len(X)} rows, {X.shape[1]} columns, trained on and scoring every row"


def phishing():
    path = os.path.join(SHARED, "uci-phishing", "phishing_websites.csv.gz")
    with gzip.open(path, "rt") as f:
        r = csv.reader(f)
        header = next(r)
        rows = [tuple(x) for x in r]
    label = header.index("Result")
    unique = list(dict.fromkeys(rows))

    def matrix(rows):
        return f32(np.delete(np.array(rows, dtype=np.float64), label, axis=1))

    y = np.array([x[label] == "-1" for x in unique], dtype=np.int64)
    desc = (f"UCI phishing: trained on {len(unique)} rows (exact duplicates removed), "
            f"scoring all {len(rows)} rows; {len(header) - 1} columns")
    return matrix(unique), y, matrix(rows), desc


def load(spec):
    """(X_train, y_train, X_score, description) of `nslkdd`, `phishing` or `odds:NAME`."""
    if spec == "nslkdd":
        return nslkdd()
    if spec == "phishing":
        return phishing()
    if spec.startswith("odds:") and spec[5:] in ODDS:
        return odds(spec[5:])
    raise SystemExit(f"unknown data set {spec!r}: nslkdd, phishing or odds:{{{','.join(ODDS)}}}")
