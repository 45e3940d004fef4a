#!/usr/bin/env bash
# The Python client's single test entry point: a venv under clients/python/.venv, the package
# installed editable with its test extras, mypy --strict, the unit and conformance tests, and the
# live scenario when CONSENTRY_BIN is set (the test starts and stops clients/testbed.sh itself).
# Offline when the venv already holds the packages (PIP_NO_INDEX=1 also works with a wheel cache).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
py="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$py" -m venv .venv
fi
if ! .venv/bin/python -c 'import consentry, nacl, pytest, mypy' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
fi
.venv/bin/python -m mypy --strict src/consentry
.venv/bin/python tests/conformance.py
if [[ -n "${CONSENTRY_BIN:-}" ]]; then
    echo "live scenario: CONSENTRY_BIN=$CONSENTRY_BIN"
else
    echo "live scenario: skipped (CONSENTRY_BIN is not set)"
fi
.venv/bin/python -m pytest -q tests
