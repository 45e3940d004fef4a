"""Unit tests: strict JSON and JCS, keys and did:key, Data Integrity and VC-JWT, grants and rules,
status lists and their cache, problem parsing."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from consentry import (
    CategoryGrant,
    DidKey,
    GrantDraft,
    GrantInvalid,
    InvalidKey,
    JsonError,
    KeyPair,
    OnwardRecipient,
    ProofError,
    StatusChecker,
    canonicalize,
    create_proof,
    parse_json,
    sign_vc_jwt,
    verify_grant,
    verify_proof,
    verify_vc_jwt,
)
from consentry.client import Response, _problem
from consentry.encoding import b64url_decode
from consentry.errors import EncodingError, GrantStatusError, ReleaseRefused, StatusError
from consentry.status import decode_list

from conftest import SPEC

EX = SPEC / "examples"
AT = datetime(2027, 1, 1, tzinfo=timezone.utc)
SIGNED_AT = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)


def test_strict_json_refusals() -> None:
    for text, reason in [
        ('{"a":1,"a":2}', "duplicate-key"),
        ("9007199254740993", "unsafe-integer"),
        ('"\\ud800"', "invalid-json"),
        ("NaN", "invalid-json"),
        ("[1,]", "invalid-json"),
        ("1e400", "invalid-json"),
    ]:
        with pytest.raises(JsonError) as e:
            parse_json(text)
        assert e.value.reason == reason, text
    assert canonicalize(parse_json("1000000000000000000000")) == b"1e+21"
    assert canonicalize(parse_json("-8970681694652454000")) == b"-8970681694652454000"
    assert canonicalize({"b": [1.0, -0.0, 1e-7], "a": "\u2028/\x0f"}) == '{"a":"\u2028/\\u000f","b":[1,0,1e-7]}'.encode()


def test_base64url_is_canonical() -> None:
    assert b64url_decode("AQ") == b"\x01"
    for bad in ("AQ==", "AR", "A", "A+"):
        with pytest.raises(EncodingError):
            b64url_decode(bad)


def test_key_file_round_trip(tmp_path: Path) -> None:
    k = KeyPair.generate()
    p = tmp_path / "k.json"
    k.save(p)
    assert oct(os.stat(p).st_mode & 0o777) == "0o600"
    assert KeyPair.load(p).did == k.did
    with pytest.raises(FileExistsError):
        k.save(p)
    example = KeyPair.load(EX / "enterprise.key.json")
    assert example.did.did == "did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu"
    bad = json.loads((EX / "enterprise.key.json").read_text())
    bad["did"] = k.did.did
    with pytest.raises(InvalidKey, match="does not match"):
        KeyPair.from_json(bad)
    assert "secret" not in repr(k).lower()


def test_did_key_refusals() -> None:
    for did in [
        "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj",  # identity point
        "did:key:1:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu",
        "did:web:example.com",
        "did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwt0",
    ]:
        with pytest.raises(InvalidKey):
            DidKey.parse(did)
    d = DidKey.parse("did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu")
    with pytest.raises(InvalidKey, match="invalidDidUrl"):
        DidKey.from_verification_method(d.did + "#key-1")


def test_examples_reproduce_byte_for_byte() -> None:
    key = KeyPair.load(EX / "enterprise.key.json")
    unsigned = json.loads((EX / "grant.unsigned.json").read_text())
    di = create_proof(unsigned, key, SIGNED_AT)
    assert json.dumps(di, indent=2, ensure_ascii=False) + "\n" == (EX / "grant.signed.di.json").read_text()
    assert sign_vc_jwt(unsigned, key, SIGNED_AT) == (EX / "grant.signed.jwt").read_text().strip()


def test_example_grants() -> None:
    g = verify_grant((EX / "grant.signed.di.json").read_bytes(), now=AT)
    assert g.sha256 == "7483d93974270de884f677c89a5da6c99d9ed50949da8814672a7a59d744ba2c"
    assert (g.status.base, g.status.index) == ("https://node.example/status/1", 4242)
    assert verify_grant((EX / "grant.signed.jwt").read_text(), now=AT).envelope == "jwt"
    for name, code in [
        ("grant.invalid.bank-raw.di.json", "bank-raw-non-public"),
        ("grant.invalid.window.di.json", "vc-data-model"),
        ("grant.invalid.tampered.di.json", "bad-signature"),
        ("grant.invalid.alg-hs256.jwt", "jws-algorithm"),
    ]:
        with pytest.raises(GrantInvalid) as e:
            verify_grant((EX / name).read_bytes(), now=AT)
        assert e.value.codes == [code], name
    with pytest.raises(GrantInvalid, match="expired"):
        verify_grant((EX / "grant.signed.jwt").read_text(), now=datetime(2028, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(GrantInvalid) as e:
        verify_grant("<xml/>", now=AT)
    assert e.value.codes == ["unknown-envelope"]


def _draft(key: KeyPair, **kw: Any) -> GrantDraft:
    now = datetime.now(timezone.utc)
    args: dict[str, Any] = dict(
        issuer=key.did.did, enterprise_uscc="91330100716105852F", enterprise_name="杭州示例科技有限公司",
        grantee_uscc="91440300708461136T", grantee_name="示例融资信用服务平台",
        categories=[CategoryGrant("TAX-03", "raw"), CategoryGrant("REG-01", "raw")],
        purposes=["credit-approval"], data_from="2024-01-01", data_until="2026-10-31",
        valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=1),
        status_list="https://node.example/status/1", status_index=7,
        onward_recipients=[OnwardRecipient("911000001000013428", "示例银行", [CategoryGrant("TAX-03", "derived")])],
    )
    args.update(kw)
    return GrantDraft(**args)


def test_draft_rules_report_every_violation() -> None:
    key = KeyPair.generate()
    d = _draft(key)
    with pytest.raises(GrantInvalid) as e:
        d.sign_di(key)
    assert e.value.codes == ["missing-letter"]
    d.attach_letters()
    verify_grant(d.sign_di(key))
    verify_grant(d.sign_jwt(key))
    bad = _draft(
        key,
        enterprise_uscc="91330100716105852E",
        purposes=["credit-approval", "gambling", "credit-approval"],
        data_from="2026-02-30",
        onward_recipients=[OnwardRecipient("911000001000013428", "示例银行", [CategoryGrant("TAX-03", "raw"), CategoryGrant("SOC-01", "derived")])],
        usage={"mode": "periodic", "maxReleases": 0, "per": "month"},
    )
    bad.attach_letters()
    with pytest.raises(GrantInvalid) as e:
        bad.check()
    assert set(e.value.codes) == {
        "invalid-uscc", "bank-raw-non-public", "recipient-not-covered", "duplicate-purpose",
        "unknown-purpose", "data-period", "usage-rate",
    }


def test_signer_must_be_issuer_and_proof_rules() -> None:
    key, other = KeyPair.generate(), KeyPair.generate()
    d = _draft(key)
    d.attach_letters()
    cred = d.to_credential()
    with pytest.raises(ProofError) as e:
        verify_proof(create_proof(cred, other))
    assert e.value.code == "issuer-mismatch"
    future = create_proof(cred, key, datetime.now(timezone.utc) + timedelta(minutes=10))
    with pytest.raises(ProofError) as e:
        verify_proof(future)
    assert e.value.code == "proof-created-in-future"
    signed = create_proof(cred, key)
    signed["proof"] = [signed["proof"]]
    with pytest.raises(ProofError) as e:
        verify_proof(signed)
    assert e.value.code == "proof-set"
    token = d.sign_jwt(key)
    h, p, s = token.split(".")
    with pytest.raises(ProofError) as e:
        verify_vc_jwt(f"{h}.{p}.{s}=")
    assert e.value.code == "jws-base64"
    dup = '{"a":1,"a":1}'
    with pytest.raises(ProofError) as e:
        verify_proof(dup)
    assert e.value.code == "malformed-json"


def _status_list(key: KeyPair, url: str, purpose: str, set_bits: list[int], ttl: int = 60000) -> dict[str, Any]:
    import base64
    import gzip

    bits = bytearray(16384)
    for b in set_bits:
        bits[b // 8] |= 0x80 >> (b % 8)
    enc = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    cred = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did.did,
        "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": enc, "ttl": ttl},
    }
    return create_proof(cred, key)


def test_status_checker_bits_cache_and_trust() -> None:
    node, ent = KeyPair.generate(), KeyPair.generate()
    d = _draft(ent)
    d.attach_letters()
    g = verify_grant(d.sign_di(ent))
    lists = {
        "https://node.example/status/1/revocation": _status_list(node, "https://node.example/status/1/revocation", "revocation", []),
        "https://node.example/status/1/suspension": _status_list(node, "https://node.example/status/1/suspension", "suspension", [7]),
    }
    calls: list[str] = []
    t = [0.0]

    def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        return lists[url]

    c = StatusChecker(fetch, {node.did.did}, clock=lambda: t[0])
    with pytest.raises(GrantStatusError) as e:
        c.check(g)
    assert e.value.code == "grant-suspended"
    lists["https://node.example/status/1/suspension"] = _status_list(node, "https://node.example/status/1/suspension", "suspension", [])
    with pytest.raises(GrantStatusError):
        c.check(g)  # cached for the list's TTL
    t[0] = 61.0
    c.check(g)  # refetched after the TTL: resumed
    assert len(calls) == 4
    untrusted = StatusChecker(fetch, {ent.did.did})
    with pytest.raises(StatusError, match="not trusted"):
        untrusted.check(g)
    lists["https://node.example/status/1/revocation"]["credentialSubject"]["statusPurpose"] = "suspension"
    with pytest.raises(ProofError):
        StatusChecker(fetch, {node.did.did}).check(g)
    with pytest.raises(StatusError) as se:
        decode_list("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==")
    assert se.value.code == "MALFORMED_VALUE_ERROR"


def test_problem_details_become_typed_errors() -> None:
    body = json.dumps({
        "type": "https://w3id.org/consentry/problems#release-refused", "title": "Release refused",
        "status": 403, "detail": "release refused: grant-revoked", "logIndex": 42,
        "reasons": [{"code": "grant-revoked", "message": "grant urn:uuid:x is revoked"}],
    }).encode()
    e = _problem(Response(403, {"Content-Type": "application/problem+json"}, body))
    assert isinstance(e, ReleaseRefused)
    assert e.reason_codes == ["grant-revoked"] and e.log_index == 42 and e.problem_code == "release-refused"
    assert "grant-revoked" in str(e)
    e2 = _problem(Response(502, {}, b"<html>bad gateway</html>"))
    assert e2.status == 502 and "bad gateway" in e2.detail


def test_vkey_whose_key_contains_plus() -> None:
    # Found by clients/cross.sh: standard base64 may put "+" in the key part of a vkey.
    from consentry import NoteVerifier

    vkey = "127.0.0.1:37009/consentry/access-log+9e388ba8+AWVREitU/VQ6/iEeBmFPRc3nx885Onk+htS3Z3F5+vrY"
    assert NoteVerifier.parse(vkey).vkey == vkey
