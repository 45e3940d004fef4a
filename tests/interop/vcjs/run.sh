#!/usr/bin/env bash
# Cross-check consentry against Digital Bazaar's vc-js family (tests/interop/vcjs/check.mjs), both ways:
# the example grants, random credentials signed by each side and verified by the other, a grant
# signed by vc-js submitted to a node, and the node's status lists decoded by vc-bitstring-status-list.
# Usage: tests/interop/vcjs/run.sh [PATH_TO_CONSENTRY]   (default target/debug/consentry, built if missing)
# Env: NODE (default node), VCJS_SEED, VCJS_COUNT (see check.mjs). Exits non-zero on any failed check.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
NODE="${NODE:-node}"

BIN="${1:-target/debug/consentry}"
case "$BIN" in /*) ;; *) BIN="$REPO/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
    if [[ "$BIN" == "$REPO/target/debug/consentry" ]]; then
        echo "vcjs: $BIN missing, running cargo build" >&2
        (cd "$REPO" && cargo build --quiet --bin consentry)
    else
        echo "vcjs: consentry binary not found: $BIN" >&2
        exit 2
    fi
fi

if ! command -v "$NODE" >/dev/null; then
    echo "vcjs: node (Node.js >= 20) not found; install it (Debian: apt-get install nodejs npm)" >&2
    exit 2
fi
major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
if (( major < 20 )); then
    echo "vcjs: Node.js $("$NODE" --version) is too old: need >= 20" >&2
    exit 2
fi

# the exact versions pinned in package-lock.json; reinstall when the lock file changed
if [[ ! -d "$HERE/node_modules" || "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]]; then
    echo "vcjs: installing the pinned packages (npm ci)" >&2
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT

"$NODE" "$HERE/check.mjs" --bin "$BIN" --repo "$REPO" --work "$T"
