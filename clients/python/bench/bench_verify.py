"""Per-request cost of what a platform runs offline: verify a grant (both envelopes) and check its
status against the (cached, already verified) status lists.

    .venv/bin/python bench/bench_verify.py [iterations]
"""

from __future__ import annotations

import base64
import gzip
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from consentry import CategoryGrant, GrantDraft, KeyPair, OnwardRecipient, StatusChecker, create_proof, verify_grant


def status_list(key: KeyPair, url: str, purpose: str) -> dict[str, Any]:
    enc = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))).rstrip(b"=").decode()
    return create_proof({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did.did,
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": enc, "ttl": 300000},
    }, key)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    node, ent = KeyPair.generate(), KeyPair.generate()
    now = datetime.now(timezone.utc)
    d = GrantDraft(
        issuer=ent.did.did, enterprise_uscc="91330100716105852F", enterprise_name="杭州示例科技有限公司",
        grantee_uscc="91440300708461136T", grantee_name="示例融资信用服务平台",
        categories=[CategoryGrant("TAX-03", "raw"), CategoryGrant("SOC-01", "derived"), CategoryGrant("REG-01", "raw")],
        purposes=["credit-approval", "post-loan-management"], data_from="2024-01-01", data_until="2026-10-31",
        valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=365),
        status_list="https://node.example/status/1", status_index=4242,
        usage={"mode": "periodic", "maxReleases": 4, "per": "month"},
        onward_recipients=[OnwardRecipient("911000001000013428", "示例银行", [CategoryGrant("TAX-03", "derived")])],
    )
    d.attach_letters()
    lists = {f"https://node.example/status/1/{p}": status_list(node, f"https://node.example/status/1/{p}", p)
             for p in ("revocation", "suspension")}
    checker = StatusChecker(lists.__getitem__, {node.did.did})
    for name, token in (("eddsa-jcs-2022", d.sign_di(ent)), ("vc-jwt", d.sign_jwt(ent))):
        checker.check(verify_grant(token))  # warm the caches
        t0 = time.perf_counter()
        for _ in range(n):
            checker.check(verify_grant(token))
        dt = (time.perf_counter() - t0) / n
        print(f"{name:16} verify + status check: {dt * 1e6:8.1f} µs/op  ({n} ops)")


if __name__ == "__main__":
    main()
