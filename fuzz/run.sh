#!/usr/bin/env bash
# Runs every coverage-guided fuzz target (fuzz/fuzz_targets) for a bounded time, starting from its
# committed corpus (fuzz/corpus/<target>), and prints a line per target with its executions.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET (default 15)] [TARGET...]
# Longer when you touch a parser: fuzz/run.sh 600 json_strict
# cargo-fuzz drives libFuzzer with nightly-only rustc flags; RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. No sanitizer (-s none): the crate forbids unsafe code, and the targets
# assert the properties that matter (round trips, differential checks against serde_json and the
# reference JCS), so a panic or a timeout is the finding. New inputs found during a run go to a
# scratch copy of the corpus; a crash is saved under fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --quiet --locked cargo-fuzz
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build -s none --release
bin_dir="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=0
total=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "fuzz/artifacts/$t"
    log="$scratch/$t.log"
    # The built binary itself, so that a source edit during the run does not rebuild between targets.
    if "$bin_dir/$t" "$scratch/$t" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
        total=$((total + runs))
        printf 'fuzz %-14s ok      %10s executions in %ss\n' "$t" "$runs" "$SECS"
    else
        failed=$((failed + 1))
        printf 'fuzz %-14s FAILED\n' "$t"
        tail -40 "$log"
    fi
done
echo "fuzz: ${#targets[@]} targets, $total executions, $failed failed"
((failed == 0))
