#!/usr/bin/env python3
"""Write the protocol input of one search for bench/command.sh: a getinfo
chunk, then one execute chunk of realistic alerts, as splunkd sends them to a
streaming command (Splunk's chunked protocol v2).

Records are made like splunk-app/command/tests/chunks.rs does: the fields of
examples/data/alerts_new.jsonl (each record lacks a field now and then),
`mitre_technique` multivalue (with its `__mv_` column) in every third record,
and a `_raw` with Unicode, quotes, commas and newlines, padded so that the
body comes to about --body-mb MB.

Usage: bench/make_chunk.py OUT [--records 50000] [--body-mb 16]
                               [--dispatch-dir DIR] [--model threat_rf]
"""

import argparse
import csv
import io
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIELDS = ["_time", "host", "src_ip", "dest_port", "signature", "severity", "bytes_out", "bytes_in",
          "failed_logins", "process_name", "command_line", "is_admin"]
FILLER = "Ünïcödé 👀 \"quoted\", commas\nand a second line; 요즘은 "


def chunk(meta, body=b""):
    m = json.dumps(meta).encode()
    return b"chunked 1.0,%d,%d\n" % (len(m), len(body)) + m + body


def text(v):
    return "" if v is None else v if isinstance(v, str) else json.dumps(v)


def load_alerts():
    """The example alerts that parse as JSON objects (three lines deliberately do not)."""
    alerts = []
    with open(ROOT / "examples/data/alerts_new.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                v = json.loads(line)
            except ValueError:
                continue
            if isinstance(v, dict):
                alerts.append(v)
    return alerts


def rows(alerts, n, raw_len):
    for i in range(n):
        e = alerts[i % len(alerts)]
        row = ["" if (i + len(f)) % 11 == 0 else text(e.get(f)) for f in FIELDS]
        t = e.get("mitre_technique")
        t = t if isinstance(t, str) else "T1000"
        row += [f"{t}\nT1078", f"${t}$;$T1078$"] if i % 3 == 0 else [t, ""]
        raw = f"record {i}: "
        while len(raw.encode()) < raw_len:
            raw += FILLER
        row.append(raw)
        yield row


def body(alerts, n, raw_len):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS + ["mitre_technique", "__mv_mitre_technique", "_raw"])
    w.writerows(rows(alerts, n, raw_len))
    return out.getvalue().encode()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--body-mb", type=float, default=16.0)
    p.add_argument("--dispatch-dir", default="/tmp")
    p.add_argument("--model", default="threat_rf")
    a = p.parse_args()
    alerts = load_alerts()
    # Pad _raw so the body comes to the size asked for.
    bare = len(body(alerts, len(alerts), 0)) / len(alerts)
    raw_len = max(0, int(a.body_mb * 1e6 / a.records - bare))
    b = body(alerts, a.records, raw_len)
    args = [f"model={a.model}"]
    getinfo = {"action": "getinfo", "preview": False, "searchinfo": {
        "args": args, "raw_args": args, "sid": "1732230000.7", "app": "riskscore", "owner": "admin",
        "username": "admin", "dispatch_dir": a.dispatch_dir, "splunk_version": "9.3.0",
        "earliest_time": "0", "latest_time": "0", "search": "%7C%20riskscore%20model%3D" + a.model,
        "splunkd_uri": "https://127.0.0.1:8089", "session_key": "bench", "maxresultrows": 50000}}
    with open(a.out, "wb") as f:
        f.write(chunk(getinfo))
        f.write(chunk({"action": "execute", "finished": True}, b))
    print(f"{a.out}: {a.records} records, body {len(b) / 1e6:.1f} MB ({len(b) // a.records} bytes/record)")


if __name__ == "__main__":
    main()
