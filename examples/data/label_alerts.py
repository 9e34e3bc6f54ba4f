#!/usr/bin/env python3
"""Join alerts_new.jsonl with its hidden labels into alerts_new_labelled.jsonl.

SYNTHETIC data, like everything in this folder (see README.md). Plain Python 3
standard library only:

    python3 examples/data/label_alerts.py                 # writes next to this file
    python3 examples/data/label_alerts.py --out FILE.jsonl

alerts_new_labels.csv has the columns ``line`` (1-based line number in
alerts_new.jsonl) and ``is_incident``. Every line of alerts_new.jsonl that
parses as a JSON object gets the field ``is_incident`` appended, as a string
("0" or "1"), as a Splunk export carries every value. A line that does not
parse (line 10, cut on purpose) is copied unchanged, so the labelled file
keeps the same damaged line for ``siem-adapter evaluate`` to report. Lines
500 and 999 are valid JSON with damaged or missing values; they parse, so
they are labelled (the scorer scores them with schema defaults).

The output is deterministic: key order and the ``json.dumps`` separators of
make_alerts.py are kept, so the same inputs give byte-identical output.
"""

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jsonl", default=os.path.join(HERE, "alerts_new.jsonl"))
    p.add_argument("--labels", default=os.path.join(HERE, "alerts_new_labels.csv"))
    p.add_argument("--out", default=os.path.join(HERE, "alerts_new_labelled.jsonl"))
    p.add_argument("--field", default="is_incident", help="label column and field name")
    a = p.parse_args()

    with open(a.labels, newline="", encoding="utf-8") as f:
        labels = {int(r["line"]): r[a.field] for r in csv.DictReader(f)}

    labelled = copied = 0
    with open(a.jsonl, encoding="utf-8") as src, open(
        a.out, "w", newline="\n", encoding="utf-8"
    ) as dst:
        for line_no, text in enumerate(src, start=1):
            text = text.rstrip("\n")
            try:
                obj = json.loads(text)
            except json.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict):
                dst.write(text + "\n")
                copied += 1
                continue
            if line_no not in labels:
                sys.exit(f"{a.labels}: no label for line {line_no} of {a.jsonl}")
            obj[a.field] = labels[line_no]
            dst.write(json.dumps(obj, ensure_ascii=False) + "\n")
            labelled += 1
    print(f"{a.out}: {labelled} lines labelled, {copied} unreadable copied unchanged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
