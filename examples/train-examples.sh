#!/usr/bin/env bash
# Re-train and sign the example models under examples/models/ from the
# synthetic data in examples/data/. Signed with the DEVELOPMENT key in
# examples/keys/ (committed on purpose; never trust it in production).
# Usage: examples/train-examples.sh [path/to/siem-adapter]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/siem-adapter}
[ -x "$bin" ] || cargo build --release -p siem-adapter
key=examples/keys/dev-signing.key
alert_features=_time,src_ip,dest_port,signature,severity,bytes_out,bytes_in,failed_logins,process_name,command_line,mitre_technique,is_admin

"$bin" train --algorithm random_forest --input examples/data/alerts_train.csv \
  --label is_incident --features "$alert_features" \
  --name threat_rf --description "Ranks SIEM alerts by the chance they are a true incident (example, synthetic data)" \
  --author "riskscore examples" --approval approved --tags example,alerts --key "$key" \
  --output examples/models/threat_rf.json

"$bin" train --algorithm logistic_regression --input examples/data/alerts_train.csv \
  --label is_incident --features "$alert_features" \
  --name threat_lr --description "Linear baseline of threat_rf: explanations are exact log-odds contributions (example)" \
  --author "riskscore examples" --approval approved --tags example,alerts --key "$key" \
  --output examples/models/threat_lr.json

"$bin" train --algorithm isolation_forest --input examples/data/sessions_train.csv \
  --label is_anomaly --features _time,duration_s,bytes_out,bytes_in,failed_logins,distinct_hosts,src_ip \
  --name session_iforest --description "Flags anomalous login sessions without labels (is_anomaly is used for evaluation only; example)" \
  --author "riskscore examples" --approval approved --tags example,sessions --key "$key" \
  --output examples/models/session_iforest.json
