"""Every case of spec/vectors/conformance.json passes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conformance import ROOT, run  # noqa: E402


def test_every_conformance_case_passes() -> None:
    passed, total, failures = run(ROOT / "spec" / "vectors" / "conformance.json")
    assert not failures, "\n".join(failures)
    assert sum(passed.values()) == sum(total.values()) > 0
