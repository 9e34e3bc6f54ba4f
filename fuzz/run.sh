#!/usr/bin/env bash
# Bounded fuzzing of every target: `fuzz/run.sh [SECONDS] [TARGET...]`
# (default 60 s each, all targets). Run from anywhere; `make fuzz` calls it.
#
# Each target first replays its committed seeds (fuzz/corpus/<t>) and every
# kept crash input (fuzz/regressions/<t>): a regression fails the run at once.
# New inputs libFuzzer finds go to out/fuzz/corpus/<t>, never into the
# committed seeds. A crash fails the run; its input is in fuzz/artifacts/<t>/:
# fix the bug, then keep the input in fuzz/regressions/<t>/.
# Figures (executions, coverage) go to out/fuzz/summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scpv2 input artifact wire serve signature)

# cargo-fuzz passes -Z flags (sanitizers, coverage): nightly when installed,
# else the stable toolchain with RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
# The adapter embeds the scorer .wasm; build it with the stable toolchain
# (nightly may lack the wasm32 target) and hand it to the fuzz build.
cargo build -q -p scorer-wasm --target wasm32-unknown-unknown --release --target-dir target/wasm-embed
export RISKSCORE_WASM="$PWD/target/wasm-embed/wasm32-unknown-unknown/release/scorer_wasm.wasm"

"${fuzz[@]}" build --fuzz-dir fuzz
bin=fuzz/target/x86_64-unknown-linux-gnu/release

mkdir -p out/fuzz
summary=out/fuzz/summary.md
{
  echo "| target | seconds | executions | exec/s | coverage (edges) | features | corpus | result |"
  echo "|---|---|---|---|---|---|---|---|"
} > "$summary"
status=0
for t in "${targets[@]}"; do
  mkdir -p "out/fuzz/corpus/$t" "fuzz/regressions/$t" "fuzz/artifacts/$t"
  log="out/fuzz/$t.log"
  echo "== fuzz $t for ${seconds}s (log: $log)"
  result=ok
  # The binary itself, built once above (cargo fuzz run would check the build again).
  if ! "$bin/$t" -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      "out/fuzz/corpus/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$log" 2>&1; then
    result=FAILED
    status=1
    tail -40 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  echo "| $t | $seconds | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $result |" >> "$summary"
  echo "   $t: ${execs:-?} executions, cov ${cov:-?}, ft ${ft:-?}: $result"
done
echo "== summary ($summary)"
cat "$summary"
exit $status
