# riskscore — the two commands of a fresh machine:
#   make demo   score the shipped example alerts with the shipped signed model
#   make test   the whole test suite (what CI runs, through .ci/run)
# Everything they need is installed by `make setup` (idempotent).

CARGO ?= cargo
BIN := target/release/siem-adapter
OUT := out

WASM_BINDGEN_VERSION := 0.2.130
BROWSER_WASM := target/wasm-browser/wasm32-unknown-unknown/release/scorer_wasm.wasm

ARM := aarch64-unknown-linux-gnu
HOST_WASM := target/wasm-embed/wasm32-unknown-unknown/release/scorer_wasm.wasm
APP_VERSION = $(shell sed -n 's/^version *= *//p' splunk-app/default/app.conf | head -1)
APP_TGZ = dist/riskscore-$(APP_VERSION).tgz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DASHBOARD := splunk-app/appserver/static/dashboard
BROWSER_NPM := tests/browser/node_modules

.PHONY: setup build demo test lint unit wasm-check browser node-test bench examples clean \
        package app-check dashboard browser-test deny fuzz fuzz-setup

# Idempotent: Rust targets (wasm32 for the scorer, aarch64 for the Splunk app),
# Debian's aarch64 cross linker and qemu-user (to run that build here), and the
# Splunk tooling from PyPI (splunklib and numpy for the peer command of the
# Splunk command's tests, splunk-appinspect).
setup:
	@command -v rustup >/dev/null && rustup target add wasm32-unknown-unknown $(ARM) >/dev/null 2>&1 || true
	@rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown || { echo "wasm32-unknown-unknown target missing (rustup target add wasm32-unknown-unknown)"; exit 1; }
	@command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || { \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libmagic1; }
	@python3 -c "import splunklib.searchcommands, numpy" 2>/dev/null || python3 -m pip install -q splunk-sdk==2.1.1 numpy
	@command -v splunk-appinspect >/dev/null || python3 -m pip install -q splunk-appinspect==4.3.1

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

test: setup lint deny unit wasm-check node-test browser-test app-check fuzz

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

unit:
	$(CARGO) test --workspace --all-features

wasm-check:
	$(CARGO) build -p scorer-core --target wasm32-unknown-unknown --release

# The wasm-bindgen package (browsers and Node) in scorer-wasm/npm/{node,web}.
browser: setup
	@wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)" || \
	  $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	$(CARGO) build -p scorer-wasm --target wasm32-unknown-unknown --release --features browser --target-dir target/wasm-browser
	wasm-bindgen --target nodejs --out-dir scorer-wasm/npm/node $(BROWSER_WASM)
	wasm-bindgen --target web --out-dir scorer-wasm/npm/web $(BROWSER_WASM)

# npm packages of the browser tests and build (playwright-core, binaryen's
# wasm-opt), pinned by tests/browser/package-lock.json.
$(BROWSER_NPM): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund
	@touch $@

# The dashboard, ready to serve from $(DASHBOARD): the web build of the
# scorer (optimised by wasm-opt) in pkg/, and the app's trusted keys.
dashboard: browser $(BROWSER_NPM)
	@mkdir -p $(DASHBOARD)/pkg
	cp scorer-wasm/npm/web/scorer_wasm.js scorer-wasm/npm/web/scorer_wasm.d.ts $(DASHBOARD)/pkg/
	$(BROWSER_NPM)/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int \
	  --enable-sign-ext --enable-mutable-globals --enable-simd -o $(DASHBOARD)/pkg/scorer_wasm_bg.wasm scorer-wasm/npm/web/scorer_wasm_bg.wasm
	python3 splunk-app/trusted_keys.py splunk-app/keys $(DASHBOARD)/trusted-keys.json

# The dashboard in headless Chromium (Debian's, installed here if missing).
browser-test: dashboard
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }
	$(CARGO) build -p siem-adapter
	node --test tests/browser/

# Node parity of the browser build against native scorer-core (needs the debug binary from `unit`).
node-test: browser
	$(CARGO) build -p siem-adapter
	node --test tests/node/

# The Splunk app package: the command for Linux x86_64 and aarch64, and the scorer .wasm.
package: setup dashboard
	$(CARGO) build --release -p riskscore-command
	$(CARGO) build --release -p riskscore-command --target $(ARM)
	splunk-app/package.sh target/release/riskscore target/$(ARM)/release/riskscore $(HOST_WASM) dist

# The package passes AppInspect (cloud, precert) and both of its executables
# answer the recorded Splunk transcript from their place in the unpacked app
# (aarch64 under qemu-user).
app-check: package
	splunk-app/appinspect.sh $(APP_TGZ)
	python3 splunk-app/check_package.py $(APP_TGZ)

# Supply chain: licenses, duplicate versions, wildcards and sources of every
# crate (deny.toml). cargo-deny is installed here if missing.
CARGO_DENY_VERSION := 0.20.2
deny:
	@cargo-deny --version 2>/dev/null | grep -q "$(CARGO_DENY_VERSION)" || \
	  $(CARGO) install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	$(CARGO) deny check licenses bans sources

# Bounded fuzzing (libFuzzer via cargo-fuzz) of every parser of outside input,
# from the committed seeds; FUZZ_SECONDS per target. Figures: out/fuzz/summary.md.
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 60
fuzz-setup:
	@cargo-fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)" || \
	  $(CARGO) install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION)

fuzz: fuzz-setup
	fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	bench/scoring.sh
	bench/engine.sh
	$(CARGO) build --release -p riskscore-command
	bench/command.sh
	bench/browser.sh
	bench/serve.sh
	bench/drift.sh

examples: build
	examples/train-examples.sh $(BIN)

clean:
	rm -rf $(OUT)
