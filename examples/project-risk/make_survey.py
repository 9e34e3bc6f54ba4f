#!/usr/bin/env python3
"""Synthetic project-security survey answers with incidents (issue [7/8], case 2).

THE DATA IS SYNTHETIC. No public data set pairs a project-intake security
survey with the incidents those projects later had: such surveys are internal
to the organisations that run them, and incident records are confidential.
This generator stands in for one, so that the three models a security team
tried (logistic regression, a k-means cluster classifier, a threshold on the
first principal component) can be trained, compared and shipped end to end.
Its figures say how the models behave on *this* generative story, not how
well any model rates real projects. Every choice below is written down so the
story can be argued with and changed.

Generative story, one row per project (numpy ``default_rng(seed)``; rows are
independent):

1. ``production_data`` (yes/no): yes with probability 0.45.
2. ``data_classification`` (public / internal / confidential / restricted),
   depending on 1:
   with production data   0.05 / 0.30 / 0.40 / 0.25;
   without                0.30 / 0.45 / 0.20 / 0.05.
3. Activities (yes/no each), independent given 1:
   ``analytics``               0.55 with production data, 0.30 without;
   ``software_development``    0.60;
   ``infrastructure_design``   0.25;
   ``production_operations``   0.55 with production data, 0.10 without.
   A project with no activity gets ``software_development`` = yes.
4. ``infra_operator`` (in_house / cloud_managed / vendor / none):
   a project that operates production or designs infrastructure has some
   infrastructure: 0.40 / 0.40 / 0.20 / 0; any other: 0.20 / 0.30 / 0.15 / 0.35.
5. ``team_size`` (int, 1..200): round(exp(N(log 6, 0.7²))), times 1.6 when
   the project operates production, at least 1.

Incident model. ``incident`` (1/0) is whether the project had a security
incident in its first year, drawn as Bernoulli(sigmoid(z)) with the latent
risk

    z = b0
      + 0.9·production_data
      + {public 0, internal 0.3, confidential 0.8, restricted 1.3}[data_classification]
      + 0.4·ln(team_size)
      + {in_house 0.5, cloud_managed 0, vendor 0.7, none −0.3}[infra_operator]
      + 0.2·analytics + 0.3·software_development + 0.4·infrastructure_design
      + 0.6·production_operations
      # interactions (what a linear model on the answers cannot see exactly):
      + 0.7·production_data·analytics          (analysts copying production data out)
      + 0.8·[data_classification = restricted]·[infra_operator = vendor]
      + 0.9·production_operations·[infra_operator = in_house]·[team_size ≤ 3]
                                               (a tiny team running its own production)
      − 0.5·[infra_operator = cloud_managed]·production_operations
                                               (managed platforms patch for you)
      + ε,  ε ~ N(0, 0.6²)                     (everything the survey does not ask)

with b0 = −4.6, which puts the incident rate near 20 % (printed on stderr;
15–25 % for any seed at these sizes). The noise ε and the Bernoulli draw keep the
best possible ROC AUC well below 1, as for real projects.

Output: CSV with a header, columns in the order of ``FIELDS`` plus
``incident``. ``--train N --test M`` writes N training and M test rows from
one seeded stream (train first), to ``--out-dir`` (``train.csv``,
``test.csv``). Re-running with the same arguments writes the same bytes.

Usage: examples/project-risk/make_survey.py [--seed 7] [--train 4000] [--test 2000]
                                            [--out-dir out/project-risk]
"""

import argparse
import csv
import math
import os
import sys

import numpy as np

FIELDS = [
    "production_data",
    "team_size",
    "infra_operator",
    "data_classification",
    "analytics",
    "software_development",
    "infrastructure_design",
    "production_operations",
]
CLASSES = ["public", "internal", "confidential", "restricted"]
OPERATORS = ["in_house", "cloud_managed", "vendor", "none"]

CLASS_P = {True: [0.05, 0.30, 0.40, 0.25], False: [0.30, 0.45, 0.20, 0.05]}
OPERATOR_P = {True: [0.40, 0.40, 0.20, 0.0], False: [0.20, 0.30, 0.15, 0.35]}
CLASS_W = {"public": 0.0, "internal": 0.3, "confidential": 0.8, "restricted": 1.3}
OPERATOR_W = {"in_house": 0.5, "cloud_managed": 0.0, "vendor": 0.7, "none": -0.3}
B0 = -4.6
NOISE_SD = 0.6


def yes(b):
    return "yes" if b else "no"


def latent_risk(p):
    """The incident model's z without the noise term (p: one project's answers, booleans as bool)."""
    z = B0
    z += 0.9 * p["production_data"]
    z += CLASS_W[p["data_classification"]]
    z += 0.4 * math.log(p["team_size"])
    z += OPERATOR_W[p["infra_operator"]]
    z += 0.2 * p["analytics"] + 0.3 * p["software_development"]
    z += 0.4 * p["infrastructure_design"] + 0.6 * p["production_operations"]
    z += 0.7 * (p["production_data"] and p["analytics"])
    z += 0.8 * (p["data_classification"] == "restricted" and p["infra_operator"] == "vendor")
    z += 0.9 * (p["production_operations"] and p["infra_operator"] == "in_house" and p["team_size"] <= 3)
    z -= 0.5 * (p["infra_operator"] == "cloud_managed" and p["production_operations"])
    return z


def project(rng):
    """One project's answers and its incident label."""
    prod = bool(rng.random() < 0.45)
    cls = CLASSES[rng.choice(4, p=CLASS_P[prod])]
    analytics = bool(rng.random() < (0.55 if prod else 0.30))
    dev = bool(rng.random() < 0.60)
    infra = bool(rng.random() < 0.25)
    ops = bool(rng.random() < (0.55 if prod else 0.10))
    if not (analytics or dev or infra or ops):
        dev = True
    has_infra = ops or infra
    op = OPERATORS[rng.choice(4, p=OPERATOR_P[has_infra])]
    size = math.exp(rng.normal(math.log(6), 0.7)) * (1.6 if ops else 1.0)
    size = int(min(200, max(1, round(size))))
    p = {
        "production_data": prod,
        "team_size": size,
        "infra_operator": op,
        "data_classification": cls,
        "analytics": analytics,
        "software_development": dev,
        "infrastructure_design": infra,
        "production_operations": ops,
    }
    z = latent_risk(p) + rng.normal(0.0, NOISE_SD)
    incident = int(rng.random() < 1.0 / (1.0 + math.exp(-z)))
    return p, incident


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS + ["incident"])
        for p, y in rows:
            w.writerow([yes(p[k]) if isinstance(p[k], bool) else p[k] for k in FIELDS] + [y])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--out-dir", default="out/project-risk")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rows = [project(rng) for _ in range(a.train + a.test)]
    os.makedirs(a.out_dir, exist_ok=True)
    write(os.path.join(a.out_dir, "train.csv"), rows[: a.train])
    write(os.path.join(a.out_dir, "test.csv"), rows[a.train:])
    for name, part in (("train", rows[: a.train]), ("test", rows[a.train:])):
        rate = sum(y for _, y in part) / max(1, len(part))
        print(f"make_survey: {name}: {len(part)} projects, incident rate {rate:.3f} (synthetic, seed {a.seed})",
              file=sys.stderr)


if __name__ == "__main__":
    main()
