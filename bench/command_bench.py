#!/usr/bin/env python3
"""Times the `riskscore` Splunk command against its splunklib peer, driving
both through Splunk's chunked protocol (v2) the way splunkd does: spawn,
getinfo, one execute chunk, end of input. Used by bench/command.sh.

Measured, per run:
* start: from spawn until the getinfo reply has been read (argument parsing,
  model load and verification, the wasm module from the cache or compiled);
* execute: from the first byte of the execute chunk written until the whole
  reply chunk has been read; records/s = records / execute;
* end to end: from spawn until the process has exited;
* peak RSS: /usr/bin/time's %M around the command (Debian package `time`).

Throughput runs alternate command and peer, after one unmeasured warm-up run
of each (it also fills the command's module cache). Medians are reported.

Usage: command_bench.py --rust BIN --peer PEER.py --app APP_DIR --input FILE
                        --work DIR [--reps 5] [--start-runs 20] [--cold-runs 5]
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def read_chunk(stream):
    """(metadata, body) of the next chunk, or None at the end of the stream."""
    while True:
        header = stream.readline()
        if not header:
            return None
        if header.strip():
            break
    name, lengths = header.decode().strip().split(" ", 1)
    version, m, b = (s.strip() for s in lengths.split(","))
    assert name == "chunked" and version == "1.0", header
    meta = stream.read(int(m))
    body = stream.read(int(b))
    assert len(meta) == int(m) and len(body) == int(b), "short chunk"
    return json.loads(meta) if meta else {}, body


def split_input(data):
    """The getinfo chunk and the execute chunk of the input file, as bytes."""
    nl = data.index(b"\n")
    m, b = (int(x) for x in data[:nl].decode().split(",")[1:])
    end = nl + 1 + m + b
    return data[:end], data[end:]


def with_args(getinfo, extra):
    """The getinfo chunk with `extra` appended to the command's arguments."""
    header, rest = getinfo.split(b"\n", 1)
    m, b = (int(x) for x in header.decode().split(",")[1:])
    meta = json.loads(rest[:m])
    for k in ("args", "raw_args"):
        meta["searchinfo"][k] = meta["searchinfo"][k] + extra
    meta = json.dumps(meta).encode()
    return b"chunked 1.0,%d,%d\n" % (len(meta), b) + meta + rest[m:m + b]


def run(cmd, env, cwd, getinfo, execute=None):
    # Peak RSS comes from /usr/bin/time wrapped around the command: wait4's
    # ru_maxrss of a child forked from this (large) Python process would count
    # the pages it shared with us between fork and exec.
    rss_file = os.path.join(cwd, "rss.txt")
    if execute is not None and TIME:
        cmd = [TIME, "-f", "%M", "-o", rss_file] + cmd
    """One session; returns its timings (s), peak RSS (KB) and the execute reply."""
    t_spawn = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdin.write(getinfo)
    p.stdin.flush()
    info = read_chunk(p.stdout)
    t_info = time.perf_counter()
    assert info is not None and info[0].get("type") == "streaming", f"{cmd}: getinfo reply {info}"
    reply, t0, t1 = None, None, None
    if execute is not None:
        t0 = time.perf_counter()
        writer = threading.Thread(target=lambda: (p.stdin.write(execute), p.stdin.close()))
        writer.start()
        reply = read_chunk(p.stdout)
        t1 = time.perf_counter()
        writer.join()
    else:
        p.stdin.close()
    rest = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    t_exit = time.perf_counter()
    assert p.returncode == 0, f"{cmd} exited with {p.returncode}"
    assert not rest.strip(), f"{cmd}: unexpected output after the reply"
    rss_kb = usage.ru_maxrss
    if execute is not None and TIME:
        with open(rss_file) as f:
            rss_kb = int(f.read().split()[-1])
    return {
        "start": t_info - t_spawn,
        "execute": None if t1 is None else t1 - t0,
        "total": t_exit - t_spawn,
        "rss_kb": rss_kb,
        "reply": reply,
    }


TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def records_in(body):
    return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8", "replace")))) - 1


def ms(s):
    return f"{s * 1e3:.1f} ms"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rust", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--app", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--start-runs", type=int, default=20)
    p.add_argument("--cold-runs", type=int, default=5)
    a = p.parse_args()

    with open(a.input, "rb") as f:
        getinfo, execute = split_input(f.read())
    dispatch = json.loads(getinfo.split(b"\n", 1)[1])["searchinfo"]["dispatch_dir"]
    os.makedirs(dispatch, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in ("SPLUNK_HOME", "RISKSCORE_TRUSTED_KEYS")}
    base["RISKSCORE_APP_DIR"] = a.app
    warm_cache = os.path.join(a.work, "module-cache")
    rust_cmd, rust_env = [os.path.abspath(a.rust)], dict(base, RISKSCORE_CACHE_DIR=warm_cache)
    peer_cmd, peer_env = [sys.executable, os.path.abspath(a.peer)], base

    # The command on one thread as well (`threads=1`; the default is 2): the
    # peer runs on one.
    getinfo_one = with_args(getinfo, ["threads=1"])

    # Warm-up (unmeasured): fills the module cache and the page cache; checks the replies.
    n = records_in(read_chunk(io.BytesIO(execute))[1])
    replies = {}
    for name, cmd, env, info in (("riskscore", rust_cmd, rust_env, getinfo),
                                 ("riskscore threads=1", rust_cmd, rust_env, getinfo_one),
                                 ("peer", peer_cmd, peer_env, getinfo)):
        r = run(cmd, env, dispatch, info, execute)
        got = records_in(r["reply"][1])
        assert got == n, f"{name}: {got} records back of {n}"
        replies[name] = r["reply"][1]
    assert replies["riskscore"] == replies["riskscore threads=1"], "threads=1 and 2 replies differ"
    print(f"input: {n} records, execute chunk body {len(execute) / 1e6:.1f} MB; replies checked: "
          f"{n} records each (threads=1 and 2: byte for byte the same)", flush=True)

    runs = {"riskscore": [], "peer": []}
    one = []
    for i in range(a.reps):
        runs["riskscore"].append(run(rust_cmd, rust_env, dispatch, getinfo, execute))
        one.append(run(rust_cmd, rust_env, dispatch, getinfo_one, execute))
        runs["peer"].append(run(peer_cmd, peer_env, dispatch, getinfo, execute))
        print(f"  throughput run {i + 1}/{a.reps}: riskscore {ms(runs['riskscore'][-1]['execute'])}, "
              f"threads=1 {ms(one[-1]['execute'])}, peer {ms(runs['peer'][-1]['execute'])}", flush=True)

    warm = [run(rust_cmd, rust_env, dispatch, getinfo)["start"] for _ in range(a.start_runs)]
    cold = []
    for _ in range(a.cold_runs):
        with tempfile.TemporaryDirectory(dir=a.work) as fresh:
            cold.append(run(rust_cmd, dict(base, RISKSCORE_CACHE_DIR=fresh), dispatch, getinfo)["start"])
    peer_start = [run(peer_cmd, peer_env, dispatch, getinfo)["start"] for _ in range(max(5, a.start_runs // 4))]

    med = {k: {m: statistics.median(r[m] for r in v) for m in ("start", "execute", "total")}
           for k, v in runs.items()}
    rate = {k: n / med[k]["execute"] for k in med}
    rate_total = {k: n / med[k]["total"] for k in med}
    rss = {k: max(r["rss_kb"] for r in v) / 1024 for k, v in runs.items()}
    rss_med = {k: statistics.median(r["rss_kb"] for r in v) / 1024 for k, v in runs.items()}
    ratio, ratio_total = rate["riskscore"] / rate["peer"], rate_total["riskscore"] / rate_total["peer"]
    warm_ms, cold_ms = statistics.median(warm) * 1e3, statistics.median(cold) * 1e3

    def verdict(ok):
        return "met" if ok else "NOT met"

    print()
    print(f"{'':44} {'riskscore':>14} {'splunklib peer':>16} {'ratio':>8}")
    print(f"{'execute chunk, median of %d (s)' % a.reps:44} {med['riskscore']['execute']:>14.3f} "
          f"{med['peer']['execute']:>16.3f}")
    print(f"{'records/s (execute chunk)':44} {rate['riskscore']:>14,.0f} {rate['peer']:>16,.0f} {ratio:>7.1f}x")
    one_s = statistics.median(r["execute"] for r in one)
    one_ratio = (n / one_s) / rate["peer"]
    print(f"{'  threads=1: execute chunk, median (s)':44} {one_s:>14.3f}")
    print(f"{'  threads=1: records/s (execute chunk)':44} {n / one_s:>14,.0f} {rate['peer']:>16,.0f} "
          f"{one_ratio:>7.1f}x")
    print(f"{'end to end: spawn..exit, median (s)':44} {med['riskscore']['total']:>14.3f} "
          f"{med['peer']['total']:>16.3f}")
    print(f"{'records/s (end to end)':44} {rate_total['riskscore']:>14,.0f} {rate_total['peer']:>16,.0f} "
          f"{ratio_total:>7.1f}x")
    print(f"{'start: spawn..getinfo answered, median (ms)':44} {warm_ms:>14.1f} "
          f"{statistics.median(peer_start) * 1e3:>16.1f}")
    print(f"{'  riskscore warm module cache':44} {warm_ms:>14.1f}   median of {len(warm)}, "
          f"min {min(warm) * 1e3:.1f}, max {max(warm) * 1e3:.1f}")
    print(f"{'  riskscore cold module cache (fresh dir)':44} {cold_ms:>14.1f}   median of {len(cold)}, "
          f"min {min(cold) * 1e3:.1f}, max {max(cold) * 1e3:.1f}")
    print(f"{'peak RSS, %.0f MB chunk, max of runs (MB)' % (len(execute) / 1e6):44} {rss['riskscore']:>14.1f} "
          f"{rss['peer']:>16.1f}")
    print(f"{'peak RSS, median of runs (MB)':44} {rss_med['riskscore']:>14.1f} {rss_med['peer']:>16.1f}")
    print()
    # The figure is the execute chunk's records/s of the command as
    # shipped (threads=2, its default); the others are printed beside it.
    print(f"target riskscore >= 20x the peer's records/s on the execute chunk (threads=2, the default): "
          f"{ratio:.1f}x: {verdict(ratio >= 20)}; beside it: end to end (spawn, getinfo, model load "
          f"included) {ratio_total:.1f}x, threads=1 {one_ratio:.1f}x")
    # A search's process start finds the module compiled by an earlier search
    # on the host (`$SPLUNK_HOME/var/run/riskscore/cache`); only the first
    # search after an install or upgrade compiles it.
    print(f"target start <= 50 ms, spawn to getinfo answered (module cache filled by an earlier search): "
          f"{warm_ms:.1f} ms: {verdict(warm_ms <= 50)}; first search on a host after install or upgrade "
          f"(compiles the module, once): {cold_ms:.1f} ms")
    print(f"target peak memory < 64 MB for a 16 MB chunk: {rss['riskscore']:.1f} MB (max of runs): "
          f"{verdict(rss['riskscore'] < 64)}")


if __name__ == "__main__":
    main()
