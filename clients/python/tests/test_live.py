"""The live scenario (issue #14 item 6) against a real node and platform, using only the library."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from consentry import (
    CategoryGrant,
    GrantDraft,
    KeyPair,
    LogVerificationError,
    NodeClient,
    NoteVerifier,
    OnwardRecipient,
    PlatformClient,
    ReleaseRefused,
    StatusChecker,
    verify_grant,
    verify_inclusion_promise,
    verify_receipt,
)
from consentry._time import utcnow
from consentry.errors import Conflict, GrantStatusError, Unauthenticated

ENT = "91330100716105852F"
BANK = "911000001000013428"


def test_live_scenario(testbed: dict[str, Any]) -> None:
    node_key = KeyPair.load(testbed["node"]["keyFile"])
    plat_key = KeyPair.load(testbed["platform"]["keyFile"])
    node = NodeClient(testbed["node"]["url"])
    platform = PlatformClient(testbed["platform"]["url"], plat_key)
    info = node.node_info()
    assert info["did"] == testbed["node"]["did"]
    assert platform.platform_info()["did"] == testbed["platform"]["did"]

    # The platform registers its bank (at the node and at the platform).
    bank = KeyPair.generate()
    created = platform.register_bank(BANK, "示例商业银行", bank.did.did)
    assert created["role"] == "bank" and created["platform"] == testbed["platform"]["uscc"]

    # The enterprise registers with a new key; the operator approves.
    ent = KeyPair.generate()
    reg = node.register_enterprise(ent, ENT, "杭州示例科技有限公司")
    assert reg["state"] == "pending"
    operator = node.with_key(node_key)
    assert isinstance(operator, NodeClient)
    decision = operator.approve_registration(ENT)
    assert decision["state"] == "active"
    with pytest.raises(Conflict):
        operator.approve_registration(ENT)

    # The enterprise allocates a status slot, builds, signs and submits a grant.
    enterprise = node.with_key(ent)
    assert isinstance(enterprise, NodeClient)
    slot = enterprise.allocate_status_slot()
    now = utcnow()
    draft = GrantDraft(
        issuer=ent.did.did,
        enterprise_uscc=ENT,
        enterprise_name="杭州示例科技有限公司",
        grantee_uscc=testbed["platform"]["uscc"],
        grantee_name="示例融资信用服务平台",
        categories=[CategoryGrant("TAX-03", "derived"), CategoryGrant("UTL-02", "derived")],
        purposes=["credit-approval", "post-loan-management"],
        data_from="2025-01-01",
        data_until=f"{now.year}-12-31",
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=90),
        status_list=slot["statusList"],
        status_index=slot["statusIndex"],
        usage={"mode": "periodic", "maxReleases": 4, "per": "month"},
        onward_recipients=[OnwardRecipient(BANK, "示例商业银行", [CategoryGrant("TAX-03", "derived")])],
    )
    assert draft.attach_letters()  # TAX-03 and UTL-02 are non-public: letters are needed
    signed = draft.sign_di(ent)
    verified = verify_grant(signed)
    stored = enterprise.submit_grant(signed)
    assert stored["id"] == draft.id and stored["state"] == "active"
    assert stored.get("sha256") == verified.sha256

    # What a platform runs per request: the grant's status against the node's signed lists.
    checker = StatusChecker(fetch=node.status_list_credential, issuers={info["did"]})
    checker.check(verified)  # active: no exception

    # The bank asks its platform for a release.
    banker = platform.with_key(bank)
    ask = {"enterprise": ENT, "grant": draft.id, "categories": ["TAX-03"],
           "granularity": "derived", "purpose": "credit-approval"}
    answer = banker.release(ask)  # type: ignore[union-attr]
    assert "TAX-03" in answer["data"]

    # It verifies what it got: the platform's promise under the platform's log key, the node's
    # promise and the node's receipt (inclusion proof against a signed checkpoint) under the node's.
    platform_log = NoteVerifier.for_log(answer["receipt"]["origin"], testbed["platform"]["did"])
    verify_inclusion_promise(dict(answer["receipt"]), platform_log)
    node_log = NoteVerifier.for_log(info["logOrigin"], info["did"])
    up: dict[str, Any] = dict(answer["upstream"])  # type: ignore[typeddict-item]
    verify_inclusion_promise(up["receipt"], node_log)
    receipt = node.receipt(up["index"])
    ok = verify_receipt(receipt, up["leafHash"], node_log, index=up["index"])
    assert ok.checkpoint.size > up["index"]
    # The leaf the node serves hashes to the leaf hash of the receipt.
    from consentry.log import leaf_hash

    leaves = node.leaves(up["index"], 1)
    assert leaf_hash(leaves[0]).hex() == up["leafHash"]

    # Bad input from the server side is an exception with a reason, never a silent success.
    lines = receipt.split("\n")
    truncated = "\n".join(lines[:2] + lines[3:])  # one proof line dropped
    with pytest.raises(LogVerificationError, match="inclusion proof"):
        verify_receipt(truncated, up["leafHash"], node_log, index=up["index"])
    wrong_key = NoteVerifier.for_log(info["logOrigin"], testbed["platform"]["did"])
    with pytest.raises(LogVerificationError, match="not signed by the pinned log key"):
        verify_receipt(receipt, up["leafHash"], wrong_key)
    with pytest.raises(LogVerificationError):
        verify_receipt(receipt, "00" * 32, node_log)
    with pytest.raises(LogVerificationError):
        verify_inclusion_promise(up["receipt"], platform_log)

    # Consistency between two checkpoints the caller kept.
    first = ok.checkpoint

    # A replayed assertion-free signed request is refused (typed 401).
    # The enterprise revokes; the next release is refused with the reason.
    changed = enterprise.revoke_grant(draft.id)
    assert changed["state"] == "revoked"
    with pytest.raises(ReleaseRefused) as refused:
        banker.release(ask)  # type: ignore[union-attr]
    assert refused.value.status == 403
    assert refused.value.type.endswith("#release-refused")
    assert "grant-revoked" in refused.value.reason_codes
    with pytest.raises(GrantStatusError) as st:
        StatusChecker(fetch=node.status_list_credential, issuers={info["did"]}).check(verified)
    assert st.value.code == "grant-revoked"

    # The log grew; the new checkpoint is consistent with the one kept.
    import time

    from consentry.log import verify_checkpoint, verify_consistency

    deadline = time.monotonic() + 10
    while True:
        second = verify_checkpoint(node.checkpoint(), node_log)
        if second.size > first.size or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert second.size > first.size
    proof = node.consistency_proof(first.size, second.size)
    verify_consistency(first.size, second.size, first.root, second.root, [bytes.fromhex(h) for h in proof["proof"]])
    with pytest.raises(LogVerificationError):
        verify_consistency(first.size, second.size, first.root, second.root, [bytes.fromhex(h) for h in proof["proof"][:-1]])

    # An assertion for another server is refused with a typed 401.
    stranger = NodeClient(testbed["node"]["url"], ent, audience=testbed["platform"]["did"])
    with pytest.raises(Unauthenticated) as un:
        stranger.grants()
    assert un.value.problem_code == "unauthenticated"
