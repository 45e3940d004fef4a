"""Shared fixtures: paths to the repository's spec/ and the live testbed (when CONSENTRY_BIN is set)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "spec"


@pytest.fixture(scope="session")
def spec() -> Path:
    return SPEC


@pytest.fixture(scope="session")
def testbed() -> Iterator[dict[str, Any]]:
    """A live node and admitted platform (clients/testbed.sh), or skip when CONSENTRY_BIN is unset."""
    if not os.environ.get("CONSENTRY_BIN"):
        pytest.skip("CONSENTRY_BIN is not set: no live node")
    d = tempfile.mkdtemp(prefix="consentry-py-")
    script = ROOT / "clients" / "testbed.sh"
    try:
        subprocess.run(["bash", str(script), "up", d], check=True, capture_output=True, timeout=300)
        yield json.loads((Path(d) / "testbed.json").read_text())
    finally:
        subprocess.run(["bash", str(script), "down", d], check=False, capture_output=True, timeout=60)
