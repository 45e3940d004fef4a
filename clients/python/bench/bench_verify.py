"""Per-request cost of what a platform runs offline: verify a grant (both envelopes) and check its
status against the (cached, already verified) status lists.

    .venv/bin/python bench/bench_verify.py [iterations]

The inputs are those of every library's benchmark and of the Rust core's (clients/bench.sh): the
grants spec/examples/grant.signed.di.json and grant.signed.jwt verified at 2027-01-01T00:00:00Z,
and a node-signed revocation and suspension list (131,072 entries, none set); half the
iterations again as a warm-up first. Each envelope gets a second row, ``<envelope>/cached``: the same
per-request work with the grant taken from a :class:`~consentry.VerifiedGrantCache` (a hit: digest,
time checks) instead of verified again, plus the same status check.
"""

from __future__ import annotations

import base64
import gzip
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from consentry import KeyPair, StatusChecker, VerifiedGrantCache, create_proof, verify_grant

EXAMPLES = Path(__file__).resolve().parents[3] / "spec" / "examples"
AT = datetime(2027, 1, 1, tzinfo=timezone.utc)


def status_list(key: KeyPair, url: str, purpose: str) -> dict[str, Any]:
    enc = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))).rstrip(b"=").decode()
    return create_proof({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": enc, "ttl": 300000},
    }, key, datetime(2026, 1, 1, tzinfo=timezone.utc))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    node = KeyPair.generate()
    lists = {f"https://node.example/status/1/{p}": status_list(node, f"https://node.example/status/1/{p}", p)
             for p in ("revocation", "suspension")}
    checker = StatusChecker(lists.__getitem__, {node.did.did})
    cache = VerifiedGrantCache()
    for name, file in (("data-integrity", "grant.signed.di.json"), ("vc-jwt", "grant.signed.jwt")):
        token = (EXAMPLES / file).read_text()
        for _ in range(n // 2):  # warm-up (and the status lists fetched and verified once)
            checker.check(verify_grant(token, now=AT))
        t0 = time.perf_counter()
        for _ in range(n):
            checker.check(verify_grant(token, now=AT))
        dt = (time.perf_counter() - t0) / n
        print(f"{name:16} verify + status check: {dt * 1e6:8.1f} µs/op  ({n} ops)")
        for _ in range(n // 2):  # warm-up (the first call verifies and caches)
            checker.check(cache.verify(token, now=AT))
        t0 = time.perf_counter()
        for _ in range(n):
            checker.check(cache.verify(token, now=AT))
        dt = (time.perf_counter() - t0) / n
        print(f"{name + '/cached':16} cache.verify + status check: {dt * 1e6:8.1f} µs/op  ({n} ops)")


if __name__ == "__main__":
    main()
