#!/usr/bin/env python3
"""Write N ~1 KB JSON alerts (the example alerts, padded with the kind of
fields a SIEM export carries) for bench/adapter.sh. Deterministic."""
import json, random, sys

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
base = []
with open("examples/data/alerts_new.jsonl") as f:
    for line in f:
        try:
            base.append(json.loads(line))
        except ValueError:
            pass
words = "lateral movement credential access beacon suspicious process spawned by office macro".split()
with open(out, "w") as f:
    for i in range(n):
        e = dict(base[i % len(base)])
        e["event_id"] = f"{i:012d}"
        e["_cd"] = f"{rnd.randint(0, 999)}:{rnd.randint(0, 10**7)}"
        e["_indextime"] = str(1730420000 + i)
        e["splunk_server"] = "idx-%02d.corp.example" % rnd.randint(1, 24)
        e["description"] = " ".join(rnd.choice(words) for _ in range(14))
        e["url"] = "https://intranet.example/%s?id=%d" % (rnd.choice(words), rnd.randint(0, 10**9))
        e["tags"] = [rnd.choice(words) for _ in range(3)]
        s = json.dumps(e)
        pad = 1000 - len(s)
        if pad > 20:
            e["comment"] = "x" * (pad - 14)
        f.write(json.dumps(e) + "\n")
