#!/usr/bin/env bash
# Schema-driven fuzzing of the node's HTTP API against spec/openapi.yaml (tests/fuzz/api_fuzz.py).
# Usage: tests/fuzz/run.sh [PATH_TO_CONSENTRY] [api_fuzz.py options...]
#        (default target/debug/consentry, built if missing)
# Env: PYTHON (default python3); FUZZ_SECONDS (wall-clock cap, default 180); FUZZ_MAX_EXAMPLES (per
# operation and pass, default 60); FUZZ_SEED (Hypothesis seed, default random).
# Exits non-zero on any 5xx, any answer that does not conform to the spec, or an authenticated
# operation answering 2xx without a valid assertion.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"

BIN="target/debug/consentry"
if [[ $# -gt 0 && "$1" != -* ]]; then
    BIN="$1"
    shift
fi
case "$BIN" in /*) ;; *) BIN="$REPO/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
    if [[ "$BIN" == "$REPO/target/debug/consentry" ]]; then
        echo "fuzz: $BIN missing, running cargo build --bin consentry" >&2
        (cd "$REPO" && cargo build --quiet --bin consentry)
    else
        echo "fuzz: consentry binary not found: $BIN" >&2
        exit 2
    fi
fi

if ! "$PY" -c 'import schemathesis, nacl.signing; assert schemathesis.__version__ == "4.32.5"' 2>/dev/null; then
    echo "fuzz: installing Python dependencies from $HERE/requirements.txt" >&2
    "$PY" -m pip install --quiet -r "$HERE/requirements.txt"
fi

cd "$REPO"
exec "$PY" "$HERE/api_fuzz.py" --bin "$BIN" "$@"
