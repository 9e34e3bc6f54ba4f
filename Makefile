# riskscore — the two commands of a fresh machine:
#   make demo   score the shipped example alerts with the shipped signed model
#   make test   the whole test suite (what CI runs, through .ci/run)
# Everything they need is installed by `make setup` (idempotent).

CARGO ?= cargo
BIN := target/release/siem-adapter
OUT := out

.PHONY: setup build demo test lint unit wasm-check bench examples clean

setup:
	@command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
	@rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || { echo "wasm32-unknown-unknown target missing (rustup target add wasm32-unknown-unknown)"; exit 1; }

build:
	$(CARGO) build --release -p siem-adapter

demo: build
	@mkdir -p $(OUT)
	$(BIN) verify examples/models/threat_rf.json --trusted-key examples/keys/dev-signing.pub
	@# Exit status 1 means "done, but some events carry risk_error": the example
	@# batch holds one malformed line on purpose (line 10), which must come out too.
	$(BIN) score --model examples/models/threat_rf.json --trusted-key examples/keys/dev-signing.pub \
	  --input examples/data/alerts_new.jsonl --output $(OUT)/scored.jsonl --explain 3 || [ $$? -eq 1 ]
	@echo "--- first flagged alert (of $$(grep -c '"anomaly_flag":1' $(OUT)/scored.jsonl)) in $(OUT)/scored.jsonl:"
	@grep -m1 '"anomaly_flag":1' $(OUT)/scored.jsonl
	@echo "--- the malformed input line, kept in place with its error:"
	@sed -n 10p $(OUT)/scored.jsonl

test: setup lint unit wasm-check

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

unit:
	$(CARGO) test --workspace --all-features

wasm-check:
	$(CARGO) build -p scorer-core --target wasm32-unknown-unknown --release

bench: build
	bench/scoring.sh

examples: build
	examples/train-examples.sh $(BIN)

clean:
	rm -rf $(OUT)
