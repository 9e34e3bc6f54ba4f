#!/usr/bin/env python3
"""Checks a built app package the way Splunk would use it.

Unpacks dist/riskscore-<version>.tgz, then for each executable (x86_64 run
directly, aarch64 under qemu-user) from its place in the app:
  * `--version` names the SHA-256 of the package's lib/scorer.wasm;
  * it answers the recorded Splunk transcript countmatches (../shared, getinfo
    arguments changed to `model=threat_rf explain=2`), finding the app folder
    from its own path (no RISKSCORE_APP_DIR) and logging under $SPLUNK_HOME;
  * both architectures give byte-identical replies.
Usage: python3 splunk-app/check_package.py dist/riskscore-<version>.tgz
"""
import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSCRIPT = os.path.join(ROOT, "..", "shared", "fixtures", "splunk-scpv2", "countmatches.input.gz")


def chunks(data):
    out, i = [], 0
    while i < len(data):
        if data[i:i + 1].isspace():
            i += 1
            continue
        nl = data.index(b"\n", i)
        _, m, b = data[i:nl].decode().split(",")
        m, b = int(m), int(b)
        meta = json.loads(data[nl + 1:nl + 1 + m]) if m else None
        out.append((meta, data[nl + 1 + m:nl + 1 + m + b]))
        i = nl + 1 + m + b
    return out


def transcript():
    data = gzip.open(TRANSCRIPT).read()
    nl = data.index(b"\n")
    m = int(data[:nl].decode().split(",")[1])
    meta = json.loads(data[nl + 1:nl + 1 + m])
    meta["searchinfo"]["args"] = meta["searchinfo"]["raw_args"] = ["model=threat_rf", "explain=2"]
    text = json.dumps(meta).encode()
    return b"chunked 1.0,%d,0\n" % len(text) + text + data[nl + 1 + m:]


def fail(msg):
    print(f"check_package: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    tgz = sys.argv[1]
    work = tempfile.mkdtemp(prefix="riskscore-pkg-")
    with tarfile.open(tgz) as t:
        t.extractall(work, filter="data")
    app = os.path.join(work, "riskscore")
    for f in ["default/app.conf", "default/commands.conf", "metadata/default.meta", "models/threat_rf.json",
              "keys/dev-signing.pub", "lib/scorer.wasm", "linux_x86_64/bin/riskscore", "bin/riskscore"]:
        if not os.path.isfile(os.path.join(app, f)):
            fail(f"{f} missing from {tgz}")
    wasm_sha = hashlib.sha256(open(os.path.join(app, "lib/scorer.wasm"), "rb").read()).hexdigest()
    session = transcript()
    replies = {}
    for arch, cmd in [("x86_64", [os.path.join(app, "linux_x86_64/bin/riskscore")]),
                      ("aarch64", ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", os.path.join(app, "bin/riskscore")])]:
        version = subprocess.run(cmd + ["--version"], capture_output=True, text=True, check=True).stdout
        if wasm_sha not in version:
            fail(f"{arch}: --version says {version.strip()!r}, lib/scorer.wasm is {wasm_sha}")
        home = os.path.join(work, f"splunk-{arch}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RISKSCORE_")}
        env["SPLUNK_HOME"] = home
        r = subprocess.run(cmd, input=session, capture_output=True, env=env, timeout=600)
        if r.returncode != 0:
            fail(f"{arch}: exit {r.returncode}: {r.stdout[-500:]!r} {r.stderr[-500:]!r}")
        c = chunks(r.stdout)
        if len(c) != 2 or c[0][0] != {"type": "streaming"} or c[1][0] != {"finished": True}:
            fail(f"{arch}: unexpected reply chunks {[m for m, _ in c]}")
        rows = list(csv.reader(io.StringIO(c[1][1].decode())))
        header, rows = rows[0], rows[1:]
        score = header.index("model_output_risk_score")
        if len(rows) != 500 or not all(0.0 <= float(row[score]) <= 1.0 for row in rows):
            fail(f"{arch}: {len(rows)} records, or a score out of 0..1")
        log = os.path.join(home, "var/log/splunk/riskscore.log")
        if "getinfo answered" not in open(log).read():
            fail(f"{arch}: no log in {log}")
        if not os.listdir(os.path.join(home, "var/run/riskscore/cache")):
            fail(f"{arch}: no compiled-module cache under $SPLUNK_HOME")
        replies[arch] = c[1][1]
        print(f"check_package: {arch}: --version ok, 500 records scored from {os.path.relpath(cmd[-1], work)}, log ok")
    if replies["x86_64"] != replies["aarch64"]:
        fail("x86_64 and aarch64 replies differ")
    print("check_package: x86_64 and aarch64 replies are byte-identical")


if __name__ == "__main__":
    main()
