#!/usr/bin/env bash
# The TypeScript client's single test entry point: install (offline from the npm cache when it
# can), build, unit + conformance tests, and the live scenario when CONSENTRY_BIN is set (a fresh
# testbed is started and stopped here). Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
npm run build --silent
npm run build:test --silent
if [[ -n "${CONSENTRY_BIN:-}" ]]; then
    tb="$(mktemp -d)"
    trap 'bash "$here/../testbed.sh" down "$tb" >/dev/null 2>&1 || true; rm -rf "$tb"' EXIT
    bash "$here/../testbed.sh" up "$tb" >/dev/null
    export CONSENTRY_TESTBED="$tb/testbed.json"
else
    echo "test.sh: CONSENTRY_BIN is not set: the live scenario is skipped" >&2
fi
node --test --test-reporter=spec dist-test/test/*.test.js
