#!/usr/bin/env python3
"""Turn the Balabit Mouse Dynamics Challenge tree into one stream of mouse
events, as a SIEM would export them: one CSV row per event with the account
(`user`) and the session id (`session`) next to the recorder's fields.

    examples/mouse-dynamics/balabit_events.py ../shared/datasets/balabit-mouse-dynamics.tar.xz OUT_DIR

writes OUT_DIR/train_events.csv.gz (training_files: sessions known to be the
owners') and OUT_DIR/test_events.csv.gz (test_files: shorter sessions, some
by other users), and copies dev_labels.csv. Rows keep the session's event
order; sessions are contiguous, in the archive's order. The archive is read in place (no unpacking).
"""
import csv
import gzip
import io
import os
import sys
import tarfile

FIELDS = ["user", "session", "record_timestamp", "client_timestamp", "button", "state", "x", "y"]


def main():
    archive, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    writers, files, counts = {}, {}, {}
    for part in ("train", "test"):
        f = gzip.open(os.path.join(out, f"{part}_events.csv.gz"), "wt", newline="", compresslevel=3)
        w = csv.writer(f)
        w.writerow(FIELDS)
        writers[part], files[part], counts[part] = w, f, [0, 0]
    # Stream the archive in its own order: seeking backwards in an xz stream
    # would decompress it again from the start.
    with tarfile.open(archive, "r|xz") as tar:
        for m in tar:
            if not m.isfile():
                continue
            parts = m.name.split("/")
            name = parts[-1]
            if name == "dev_labels.csv" or name == "public_labels.csv":
                with open(os.path.join(out, "dev_labels.csv"), "wb") as dst:
                    dst.write(tar.extractfile(m).read())
                continue
            if len(parts) < 3 or not name.startswith("session_"):
                continue
            part = {"training_files": "train", "test_files": "test"}.get(parts[-3])
            if part is None:
                continue
            user = parts[-2]
            text = io.StringIO(tar.extractfile(m).read().decode("utf-8"))
            r = csv.reader(text)
            next(r, None)  # the recorder's header
            w = writers[part]
            for row in r:
                if len(row) == 6:
                    w.writerow([user, name] + row)
                    counts[part][1] += 1
            counts[part][0] += 1
    for part, f in files.items():
        f.close()
        print(f"{part}: {counts[part][0]} sessions, {counts[part][1]} events")


if __name__ == "__main__":
    main()
