#!/usr/bin/env bash
# Run Splunk AppInspect's Splunk Cloud checks on a package built by package.sh.
#
#   splunk-app/appinspect.sh PACKAGE.tgz [REPORT.json]
#
# Runs `splunk-appinspect inspect PACKAGE --mode precert --included-tags cloud`,
# keeps the JSON report (default: next to the package, PACKAGE.appinspect.json),
# prints the summary and every warning, failure and error, and exits 1 unless
# the summary has 0 failures and 0 errors.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PACKAGE.tgz [REPORT.json]" >&2
    exit 2
fi
package=$1
report=${2:-${package%.tgz}.appinspect.json}
[[ -f $package ]] || { echo "appinspect.sh: no such file: $package" >&2; exit 2; }
command -v splunk-appinspect >/dev/null || { echo "appinspect.sh: splunk-appinspect is not installed (pip install splunk-appinspect)" >&2; exit 2; }

# splunk-appinspect exits non-zero for some findings; the JSON report decides.
# --skip-trusted-libraries-update: no download of AppInspect's list of trusted
# Python libraries (the app has no Python; the result is the same offline).
set +e
splunk-appinspect inspect "$package" \
    --mode precert \
    --included-tags cloud \
    --data-format json \
    --output-file "$report" \
    --max-messages all \
    --skip-trusted-libraries-update >/dev/null
status=$?
set -e
if [[ ! -s $report ]]; then
    echo "appinspect.sh: splunk-appinspect wrote no report (exit status $status)" >&2
    exit 1
fi

python3 - "$report" <<'EOF'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)

summary = report["summary"]
order = ["success", "warning", "failure", "future_failure", "error", "skipped", "not_applicable", "manual_check"]
print("summary: " + ", ".join(f"{k}={summary.get(k, 0)}" for k in order))

for app_report in report.get("reports", []):
    for group in app_report.get("groups", []):
        for check in group.get("checks", []):
            result = check.get("result")
            if result not in ("warning", "failure", "future_failure", "error"):
                continue
            for message in check.get("messages", []):
                if message.get("result") not in ("warning", "failure", "future_failure", "error"):
                    continue
                where = message.get("message_filename") or ""
                line = message.get("message_line")
                if where and line:
                    where = f"{where}:{line}"
                print(f"{message['result'].upper()} {check['name']}: {where}")
                print(f"    {' '.join(message.get('message', '').split())}")

bad = summary.get("failure", 0) + summary.get("error", 0)
if bad:
    print(f"appinspect.sh: {summary.get('failure', 0)} failure(s), {summary.get('error', 0)} error(s)")
sys.exit(1 if bad else 0)
EOF
echo "report: $report"
