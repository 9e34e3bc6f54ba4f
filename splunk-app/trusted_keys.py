#!/usr/bin/env python3
"""Write the dashboard's trusted-keys.json: a JSON array with the content of
every riskscore public key file (*.pub) in a folder, sorted by name.

    trusted_keys.py KEYS_DIR OUT_JSON
"""
import json
import pathlib
import sys

keys_dir, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
keys = [p.read_text() for p in sorted(keys_dir.glob("*.pub"))]
out.write_text(json.dumps(keys, indent=1) + "\n")
print(f"{out}: {len(keys)} trusted key(s) from {keys_dir}")
