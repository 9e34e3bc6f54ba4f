#!/usr/bin/env python3
"""Back-pressure check: the adapter's peak memory while writing to a slow HEC
endpoint stays flat as the input grows (nothing piles up in memory).

A minimal HEC-shaped server on 127.0.0.1 (a test server, not Splunk) answers
every POST after DELAY seconds; the adapter scores N events into it under
`/usr/bin/time -v`; peak RSS is read for each N, slow and fast.

    bench/backpressure.py [--adapter target/release/siem-adapter]
"""
import argparse, http.server, json, os, random, subprocess, tempfile, threading, time

TOKEN = "backpressure-test-token"


def server(delay):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            self.rfile.read(n)
            time.sleep(delay)
            ok = self.headers.get("Authorization") == f"Splunk {TOKEN}"
            body = json.dumps({"text": "Success", "code": 0} if ok else {"text": "Invalid token", "code": 4}).encode()
            self.send_response(200 if ok else 403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adapter", default="target/release/siem-adapter")
    ap.add_argument("--sizes", default="50000,200000")
    ap.add_argument("--delay", type=float, default=0.05)
    a = ap.parse_args()
    alerts = []
    for l in open("examples/data/alerts_new.jsonl"):
        try:
            alerts.append(json.loads(l))
        except ValueError:
            pass  # the example's deliberately malformed line
    tmp = tempfile.mkdtemp()
    token = os.path.join(tmp, "token")
    open(token, "w").write(TOKEN)
    print(f"| events | HEC answer delay | wall s | peak RSS MiB |")
    print(f"|---|---|---|---|")
    for n in [int(x) for x in a.sizes.split(",")]:
        path = os.path.join(tmp, f"in{n}.jsonl")
        with open(path, "w") as f:
            for i in range(n):
                e = dict(alerts[i % len(alerts)])
                e["event_id"] = i
                f.write(json.dumps(e) + "\n")
        for delay in (0.0, a.delay):
            s = server(delay)
            url = f"http://127.0.0.1:{s.server_address[1]}"
            cmd = ["/usr/bin/time", "-v", a.adapter, "score", "--model", "examples/models/threat_rf.json",
                   "--trusted-key", "examples/keys/dev-signing.pub", "--input", path,
                   "--hec-url", url, "--hec-token-file", token, "--hec-batch-events", "500"]
            t = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - t
            s.shutdown()
            rss = [l for l in p.stderr.splitlines() if "Maximum resident set size" in l]
            kb = int(rss[0].split(":")[1]) if rss else -1
            if p.returncode != 0:
                print(p.stderr[-2000:])
            print(f"| {n} | {delay:.2f} s per POST | {wall:.1f} | {kb / 1024:.1f} |", flush=True)


if __name__ == "__main__":
    main()
