#!/usr/bin/env bash
# Per-request cost of the offline grant verification + status check, side by side, in one run on
# this machine (issue #14): the Rust core (examples/grant_status_bench.rs) and the Python,
# TypeScript and Java libraries' benchmarks, with the same inputs (spec/examples/grant.signed.di.json
# and grant.signed.jwt verified at 2027-01-01T00:00:00Z; a node-signed revocation + suspension list
# pair of 131,072 entries, cached and verified once; N ops after a warm-up of N/2, warm and
# in-process). Prints µs/op per library and envelope and the ratio to Rust. Besides the two
# envelopes, the rows data-integrity/cached and vc-jwt/cached: the same per-request work with the
# grant taken from each library's verified-grant cache (a hit) instead of verified again. A row a
# side does not print shows as "missing" (and a ratio without a Rust row as "-"). The TypeScript
# benchmark's "bare ed25519 verify" line (the runtime's own Ed25519 verification alone, the floor
# under its uncached rows) is passed on to stderr.
#
#   clients/bench.sh [N]        (default 10000: with 2000, Java's figures came out 1.6–3.5× higher,
#                               consistent with the JIT not yet done with Bouncy Castle's arithmetic)
#
# Assumes the libraries were built by their test.sh (as clients/cross.sh does). Builds the Rust
# example in release mode (CARGO_TARGET_DIR, default target/) with nice unless RUST_BENCH_BIN names
# an already built grant_status_bench binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-10000}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

rust_bin="${RUST_BENCH_BIN:-}"
if [[ -z "$rust_bin" ]]; then
    (cd "$root" && nice cargo build --quiet --release --example grant_status_bench)
    rust_bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/grant_status_bench"
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); N=$n" >&2
# Each prints "<envelope> <µs/op>" lines into $out/<lang>.
(cd "$root" && "$rust_bin" "$n") >"$out/rust"
(cd "$here/python" && .venv/bin/python bench/bench_verify.py "$n") |
    awk '{print $1, $6}' >"$out/python"
(cd "$here/typescript" && node dist-test/bench/bench.js "$n") |
    awk '/WebCrypto/ {print $6, $8} /^bare / {print "typescript: " $0 > "/dev/stderr"}' >"$out/typescript"
(cd "$here/java" && java -Dconsentry.repo="$root" -cp "target/classes:target/test-classes:/usr/share/java/bcprov.jar" cn.consentry.client.Benchmark "$n") |
    awk '{env = ($1 ~ /\/cached$/) ? $1 : ($1 ~ /jwt/) ? "vc-jwt" : "data-integrity"; print env, $2}' >"$out/java"

python3 - "$out" <<'PY'
import sys
d = sys.argv[1]
def load(lang):
    return {l.split()[0]: float(l.split()[1].replace(",", "")) for l in open(f"{d}/{lang}") if l.strip()}
rust = load("rust")
print(f"{'library':12} {'envelope':22} {'µs/op':>9} {'× Rust':>7}")
for lang in ("rust", "python", "typescript", "java"):
    got = load(lang)
    for env in ("data-integrity", "vc-jwt", "data-integrity/cached", "vc-jwt/cached"):
        us = got.get(env)
        if us is None:
            print(f"{lang:12} {env:22} {'missing':>9}")
            continue
        ratio = f"{us / rust[env]:7.2f}" if rust.get(env) else f"{'-':>7}"
        print(f"{lang:12} {env:22} {us:9.1f} {ratio}")
PY
