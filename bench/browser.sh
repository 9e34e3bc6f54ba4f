#!/usr/bin/env bash
# The dashboard in headless Chromium vs the CLI on 100,000 ~1 KB alerts
# (issue [5/8]); see bench/browser.mjs. Usage: bench/browser.sh [EVENTS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
make -s dashboard
cargo build --release -q -p siem-adapter
node bench/browser.mjs "$@"
