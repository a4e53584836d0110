#!/usr/bin/env bash
# Sets up and runs Shoal's whole test suite: formatting, lints, every test,
# and a small benchmark smoke run. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
shoal_setup
tauri_driver
fuzz_tools

log "formatting (cargo fmt --check, prettier --check)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
npm --prefix ui run --silent format:check

log "UI: types (svelte-check), unit and component tests (Vitest), build (Vite)"
npm --prefix ui run --silent check
npm --prefix ui run --silent test
# The desktop binary embeds ui/dist at compile time, so the UI is built before cargo.
npm --prefix ui run --silent build

log "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "building the binaries the end-to-end tests run (shoal, shoal-relay, shoal-desktop)"
cargo build --workspace --bins --quiet

log "tests"
cargo test --workspace --quiet 2>&1 | tee target/test-output.txt
# cargo test exits non-zero on failure (pipefail keeps that). Every test
# that exists must have run, in every test binary: the tests cargo lists
# must equal those that passed or are ignored (a binary that ran nothing,
# or stopped early, shows up here).
cargo test --workspace --quiet -- --list 2>/dev/null > target/test-list.txt
listed=$(grep -cE ': test$' target/test-list.txt)
ran=$(grep -Eo 'test result: ok\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored' target/test-output.txt \
    | awk '{ n += $4 + $8 } END { print n + 0 }')
echo "tests listed: $listed, run (passed or ignored): $ran"
[ "$listed" -gt 0 ] && [ "$listed" -eq "$ran" ] || { echo "error: $listed tests exist but $ran ran" >&2; exit 1; }

log "fuzz smoke run (cargo fuzz on nightly, 20 s per target; the longer run is in docs/security.md)"
for target in frame_codec client_messages automerge_input mime_parser; do
    cargo +nightly fuzz run --fuzz-dir fuzz --target-dir target/fuzz "$target" \
        -- -max_total_time=20 -print_final_stats=1 > "target/fuzz-$target.log" 2>&1 \
        || { tail -40 "target/fuzz-$target.log" >&2; echo "error: fuzz target $target failed" >&2; exit 1; }
    echo "$target: $(grep -Eo 'stat::number_of_executed_units: [0-9]+' "target/fuzz-$target.log" | grep -Eo '[0-9]+') inputs, no crash"
done

log "benchmark smoke run (replica, 1% of the default team, debug build)"
cargo run --quiet -p shoal-bench -- replica --scale 0.01 --open-runs 1 --out target/bench-smoke/replica.json

log "benchmark smoke run (relay: 5 clients, 2 agents x 50 offline edits, 10 typists, reconnect of a 500-conversation team, 100 idle connections; debug build)"
cargo run --quiet -p shoal-bench -- relay --clients 5 --changes 10 --conversations 20 --edits 50 \
    --typing 10 --typing-seconds 2 --team-conversations 500 --changed 20 --reconnects 3 --idle-clients 100 \
    --out target/bench-smoke/relay.json

log "benchmark smoke run (desktop app: 1% replica, one launch and one on an empty home, debug build)"
cargo run --quiet -p shoal-bench -- desktop --scale 0.01 --runs 1 --warm \
    --binary target/debug/shoal-desktop --out target/bench-smoke/desktop.json

log "all checks passed"
