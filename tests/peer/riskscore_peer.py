#!/usr/bin/env python3
"""riskscore_peer.py: the splunklib peer of the Rust `riskscore` command.

A minimal Splunk streaming search command (splunklib ``StreamingCommand``,
chunked protocol v2) that scores records with a riskscore random-forest
artifact the way scorer-core does, written the way a Python Splunk app would
be. The Rust command is compared with it for correctness
(splunk-app/command/tests/peer.rs) and for speed (bench/command.sh).

    | riskscore model=<name or path>

``model=`` is either a path to an artifact JSON file, or, like the Rust
command, a model name resolved as ``$RISKSCORE_APP_DIR/models/<name>.json``,
so that both commands can be given the very same getinfo bytes. The artifact
is read as is: its SHA-256 digest and Ed25519 signature are NOT checked (the
Rust command checks both).

Each record gets ``model_output_risk_score``, ``anomaly_flag``, ``risk_model``
and ``risk_missing_fields``, as the Rust command writes them. Supported: the
``random_forest`` estimator with the ``identity`` score mapping and every
feature transform of scorer-core's schema; anything else is refused at load.

Featurization follows scorer-core/src/schema and scorer-core/src/event.rs:

* A field's value is its first value and its number of values. An empty
  string is a missing field; a list (splunklib's decoding of a ``__mv_``
  column) is a multivalue field; a string with newlines is newline-separated
  values (as a CSV chunk without a ``__mv_`` column for that field is read).
* Numbers are read with Rust's ``f64`` grammar after Rust's ``trim()``
  (no ``1_000``, no non-ASCII digits, unlike Python's ``float``), and NaN/inf
  count as missing.
* Trees go left when ``x <= threshold``; the forest's score is the sum of the
  trees' leaf values in tree order, times ``1 / n_trees``, clipped to [0, 1];
  ``anomaly_flag`` is ``score >= threshold``.

The forest is evaluated with numpy, a chunk at a time (splunklib hands the
command one execute chunk of up to 50,000 records and buffers its output
anyway): all rows descend a tree together, with leaves looping to themselves.
"""

import ipaddress
import json
import math
import os
import re
import sys

import numpy as np
from splunklib.searchcommands import Configuration, Option, StreamingCommand, dispatch

# Rust's `str::trim()`: the Unicode White_Space characters (Python's own
# `strip()` also strips U+001C..U+001F).
WS = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"

# Rust's `f64::from_str` grammar (ASCII digits, case-insensitive inf/nan/e).
RUST_F64 = re.compile(r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)", re.I | re.A)

TRUE = {"true", "t", "yes", "y", "1", "on"}
FALSE = {"false", "f", "no", "n", "0", "off"}


# ---- reading values (scorer-core/src/event.rs, schema/numeric.rs) ----------

def field(value):
    """(first value or None, number of values) of a splunklib record value."""
    if isinstance(value, list):
        return (value[0], len(value)) if value else (None, 0)
    if not value:
        return None, 0
    first, nl, _ = value.partition("\n")
    return first, (value.count("\n") + 1 if nl else 1)


def parse_number(text):
    """scorer-core's `parse_number`: trimmed, Rust grammar; NaN and inf included."""
    s = text.strip(WS)
    return float(s) if RUST_F64.fullmatch(s) else None


def read_number(text):
    """A finite number, or None (missing, unreadable, NaN, inf)."""
    x = None if text is None else parse_number(text)
    return x if x is not None and math.isfinite(x) else None


def signed_log1p(x):
    return -math.log1p(-x) if x < 0.0 else math.log1p(x)


def clipped(x, clip):
    return x if clip is None else min(max(x, clip[0]), clip[1])


def read_bool(text):
    """True/False, or None when missing or not a truth word (ASCII case-insensitive)."""
    if text is None:
        return None
    s = text.strip(WS)
    if s.isascii():
        s = s.lower()
        if s in TRUE:
            return True
        if s in FALSE:
            return False
    return None


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- ip_class (schema/network.rs): private, loopback, link_local, public ----

def ip_class(text):
    """Column index of the address's class, or None when it is not an address."""
    s = text.strip(WS)
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
    s = s.split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    o = ip.packed
    if ip.version == 4:
        if o[0] == 127:
            return 1
        if o[0] == 169 and o[1] == 254:
            return 2
        if o[0] == 10 or (o[0] == 172 and o[1] & 0xF0 == 16) or (o[0] == 192 and o[1] == 168) \
                or (o[0] == 100 and o[1] & 0xC0 == 64):
            return 0
        return 3
    s0 = o[0] << 8 | o[1]
    if int(ip) == 1:
        return 1
    if s0 & 0xFFC0 == 0xFE80:
        return 2
    if s0 & 0xFE00 == 0xFC00:
        return 0
    return 3


# ---- time (schema/time.rs) --------------------------------------------------

def days_from_civil(y, m, d):
    y = y - 1 if m <= 2 else y
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def digits(b):
    return int(b) if b and b.isdigit() else None  # bytes.isdigit(): ASCII only


def parse_iso8601(s):
    """`YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|+-HH[:]MM]` as epoch seconds, or None."""
    b = s.encode()
    if len(b) < 10 or b[4:5] != b"-" or b[7:8] != b"-":
        return None
    y, m, d = digits(b[0:4]), digits(b[5:7]), digits(b[8:10])
    if y is None or m is None or d is None or not 1 <= m <= 12 or not 1 <= d <= 31:
        return None
    secs = days_from_civil(y, m, d) * 86_400
    rest = b[10:]
    if not rest:
        return secs
    if rest[:1] not in (b"T", b"t", b" "):
        return None
    rest = rest[1:]
    if len(rest) < 5 or rest[2:3] != b":":
        return None
    hh, mm, ss = digits(rest[0:2]), digits(rest[3:5]), 0
    if hh is None or mm is None:
        return None
    rest = rest[5:]
    if rest[:1] == b":":
        if len(rest) < 3 or (ss := digits(rest[1:3])) is None:
            return None
        rest = rest[3:]
        if rest[:1] in (b".", b","):
            n = len(rest[1:]) - len(rest[1:].lstrip(b"0123456789"))
            rest = rest[1 + n:]
    if hh > 23 or mm > 59 or ss > 60:
        return None
    secs += hh * 3600 + mm * 60 + ss
    if rest in (b"", b"Z", b"z"):
        return secs
    if rest[:1] in (b"+", b"-"):
        tz = rest[1:]
        if len(tz) == 2:
            oh, om = digits(tz), 0
        elif len(tz) == 5 and tz[2:3] == b":" or len(tz) == 4:
            oh, om = digits(tz[0:2]), digits(tz[-2:])
        else:
            return None
        if oh is None or om is None:
            return None
        off = oh * 3600 + om * 60
        return secs - off if rest[:1] == b"+" else secs + off
    return None


def epoch_seconds(text):
    """Whole epoch seconds of epoch-number or ISO-8601 text, or None."""
    x = parse_number(text)
    if x is not None:
        return math.floor(x) if math.isfinite(x) and abs(x) < 1e13 else None
    return parse_iso8601(text.strip(WS))


def calendar(pos, period, cyclic):
    if cyclic:
        a = math.tau * pos / period
        return [math.sin(a), math.cos(a)]
    return [float(pos)]


# ---- transforms (schema/mod.rs): (first, count) -> (columns, readable) ------

def compile_transform(t):
    """A function of (first value, count) giving (list of columns, readable)."""
    kind = t["kind"]
    if kind == "number":
        missing, clip = float(t.get("missing", 0.0)), t.get("clip")

        def number(first, count):
            x = read_number(first)
            # The missing value is the user's choice: it is not clipped.
            return ([missing], False) if x is None else ([clipped(x, clip)], True)
        return number, 1
    if kind == "log1p":
        missing, clip = float(t.get("missing", 0.0)), t.get("clip")

        def log1p(first, count):
            x = read_number(first)
            return [signed_log1p(clipped(missing if x is None else x, clip))], x is not None
        return log1p, 1
    if kind == "standardize":
        mean, inv_std = float(t["mean"]), 1.0 / float(t["std"])
        missing = float(t["missing"]) if t.get("missing") is not None else mean

        def standardize(first, count):
            x = read_number(first)
            z = ((missing if x is None else x) - mean) * inv_std
            # The one transform that can overflow (a huge x, a tiny std): an
            # infinite column is unreadable, as in scorer-core's featurizer.
            return ([z], x is not None) if math.isfinite(z) else ([0.0], False)
        return standardize, 1
    if kind == "boolean":
        missing = 1.0 if t.get("missing", False) else 0.0

        def boolean(first, count):
            v = read_bool(first)
            return ([missing], False) if v is None else ([1.0 if v else 0.0], True)
        return boolean, 1
    if kind == "one_hot":
        index = {c: i for i, c in enumerate(t["categories"])}
        other = t.get("other", True)
        width = len(index) + (1 if other else 0)

        def one_hot(first, count):
            cols = [0.0] * width
            if first is None:
                return cols, False
            i = index.get(first, len(index) if other else None)
            if i is not None:
                cols[i] = 1.0
            return cols, True
        return one_hot, width
    if kind == "hash_bucket":
        buckets = int(t["buckets"])

        def hash_bucket(first, count):
            cols = [0.0] * buckets
            if first is None:
                return cols, False
            cols[fnv1a(first.encode()) % buckets] = 1.0
            return cols, True
        return hash_bucket, buckets
    if kind == "ip_class":
        def ip(first, count):
            cols = [0.0] * 4
            c = None if first is None else ip_class(first)
            if c is None:
                return cols, False
            cols[c] = 1.0
            return cols, True
        return ip, 4
    if kind in ("hour_of_day", "day_of_week"):
        offset = int(t.get("utc_offset_minutes", 0)) * 60
        cyclic = bool(t.get("cyclic", False))
        width = 2 if cyclic else 1

        def when(first, count):
            secs = None if first is None else epoch_seconds(first)
            if secs is None:
                return [0.0] * width, False
            if kind == "hour_of_day":
                return calendar((secs + offset) % 86_400 // 3600, 24.0, cyclic), True
            # 1970-01-01 was a Thursday (3 when Monday is 0).
            return calendar(((secs + offset) // 86_400 + 3) % 7, 7.0, cyclic), True
        return when, width
    if kind == "string_length":
        missing = float(t.get("missing", 0.0))

        def string_length(first, count):
            return ([missing], False) if first is None else ([float(len(first))], True)
        return string_length, 1
    if kind == "value_count":
        return (lambda first, count: ([float(count)], True)), 1
    raise ValueError(f"unknown transform kind {kind!r}")


# ---- the model --------------------------------------------------------------

class Tree:
    """One tree, leaves turned into self-loops (threshold +inf) so that rows
    can descend `depth` steps in lock-step."""

    def __init__(self, t):
        n = len(t["feature"])
        left, right = np.array(t["left"], dtype=np.intp), np.array(t["right"], dtype=np.intp)
        leaf = left < 0
        self.feature = np.where(leaf, 0, np.array(t["feature"], dtype=np.intp))
        self.threshold = np.where(leaf, np.inf, np.array(t["threshold"], dtype=np.float64))
        self.left = np.where(leaf, np.arange(n), left)
        self.right = np.where(leaf, np.arange(n), right)
        self.value = np.array(t["value"], dtype=np.float64)
        depth = [0] * n  # children have larger indices than their parent
        for i in range(n):
            if not leaf[i]:
                depth[t["left"][i]] = depth[t["right"][i]] = depth[i] + 1
        self.depth = max(depth)

    def leaf_values(self, cells, row_start):
        """Leaf value per row; `cells` is the feature matrix flattened, row
        i's columns starting at `row_start[i]`."""
        node = np.zeros(len(row_start), dtype=np.intp)
        for _ in range(self.depth):
            go_right = cells[row_start + self.feature[node]] > self.threshold[node]
            node = np.where(go_right, self.right[node], self.left[node])
        return self.value[node]


class Model:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        meta, est, out = doc["metadata"], doc["estimator"], doc["output"]
        self.id = f"{meta['name']}@{meta['version']}"
        if est["type"] != "random_forest":
            raise ValueError(f"{path}: estimator {est['type']!r} is not supported (random_forest only)")
        if out["score"]["kind"] != "identity":
            raise ValueError(f"{path}: score mapping {out['score']['kind']!r} is not supported (identity only)")
        self.threshold = float(out["threshold"])
        self.steps = []  # (field, function, width)
        for spec in doc["schema"]["features"]:
            fn, width = compile_transform(spec["transform"])
            self.steps.append((spec["field"], fn, width))
        self.width = sum(w for _, _, w in self.steps)
        self.trees = [Tree(t) for t in est["trees"]]

    def featurize(self, record):
        """One feature row and the fields whose features were missing."""
        row, missing = [], []
        for name, fn, _ in self.steps:
            cols, ok = fn(*field(record.get(name)))
            row += cols
            if not ok and name not in missing:
                missing.append(name)
        return row, missing

    def scores(self, x):
        """Class-1 probability of every row of the matrix `x`."""
        cells, row_start = x.ravel(), np.arange(len(x)) * self.width
        total = np.zeros(len(x))
        for tree in self.trees:
            total += tree.leaf_values(cells, row_start)
        return np.clip(total * (1.0 / len(self.trees)), 0.0, 1.0)


def artifact_path(model):
    """A path to an artifact, or a model name in $RISKSCORE_APP_DIR/models/."""
    if os.path.isfile(model):
        return model
    name = model if model.endswith(".json") else model + ".json"
    return os.path.join(os.environ.get("RISKSCORE_APP_DIR", "."), "models", name)


@Configuration()
class RiskScorePeer(StreamingCommand):
    """| riskscore model=<name or path to an artifact JSON>"""

    model = Option(require=True, doc="Path to a riskscore artifact, or a model name in $RISKSCORE_APP_DIR/models")

    def prepare(self):
        self.scorer = Model(artifact_path(self.model))

    def stream(self, records):
        m = self.scorer
        records = list(records)
        featurized = [m.featurize(r) for r in records]
        x = np.array([row for row, _ in featurized], dtype=np.float64).reshape(len(records), m.width)
        for record, (_, missing), score in zip(records, featurized, m.scores(x).tolist()):
            record["model_output_risk_score"] = score
            record["anomaly_flag"] = 1 if score >= m.threshold else 0
            record["risk_model"] = m.id
            record["risk_missing_fields"] = ",".join(missing)
            yield record


if __name__ == "__main__":
    dispatch(RiskScorePeer, sys.argv, sys.stdin, sys.stdout, __name__)
