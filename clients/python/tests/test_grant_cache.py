"""VerifiedGrantCache: a hit is what verify_grant returns; time is checked on every call; failures
are not cached; the capacity holds; whitespace variants share an entry as verify_grant treats them."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from consentry import (
    Catalog,
    GrantInvalid,
    KeyPair,
    VerifiedGrantCache,
    sign_vc_jwt,
    verify_grant,
)
from consentry.dataintegrity import hash_data
from consentry.encoding import multibase_encode
from consentry.jsonstrict import serialize_compact

from conftest import SPEC

EX = SPEC / "examples"
AT = datetime(2027, 1, 1, tzinfo=timezone.utc)
DI = (EX / "grant.signed.di.json").read_text()
JWT = (EX / "grant.signed.jwt").read_text()


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _same_error(call: Callable[[], Any], uncached: Callable[[], Any]) -> GrantInvalid:
    """Both calls raise GrantInvalid with the same reasons and text; returns the cached one's."""
    with pytest.raises(GrantInvalid) as want:
        uncached()
    with pytest.raises(GrantInvalid) as got:
        call()
    assert got.value.codes == want.value.codes
    assert str(got.value) == str(want.value)
    assert [(r.code, r.message) for r in got.value.reasons] == [(r.code, r.message) for r in want.value.reasons]
    return got.value


@pytest.mark.parametrize("text", [DI, JWT], ids=["di", "jwt"])
def test_hit_is_the_uncached_grant(text: str) -> None:
    cache = VerifiedGrantCache()
    first = cache.verify(text, now=AT)
    assert (cache.misses, cache.hits, len(cache)) == (1, 0, 1)
    again = cache.verify(text.encode(), now=AT + timedelta(days=30))
    assert (cache.misses, cache.hits) == (1, 1)
    assert again is first
    assert again == verify_grant(text, now=AT)
    assert again.sha256 == hashlib.sha256(text.strip().encode()).hexdigest()


@pytest.mark.parametrize("text", [DI, JWT], ids=["di", "jwt"])
def test_window_is_checked_on_every_hit(text: str) -> None:
    cache = VerifiedGrantCache()
    g = cache.verify(text, now=AT)
    for now, code in [
        (g.valid_until + timedelta(seconds=1), "expired"),
        (datetime(2030, 1, 1, tzinfo=timezone.utc), "expired"),
        (g.valid_from - timedelta(seconds=1), "not-yet-valid"),
        # Before the proof's created (2026-11-30T08:00Z) less the skew: the proof's own error.
        (_utc("2026-11-30T07:54:59Z"), "proof-created-in-future" if g.envelope == "di" else "jwt-issued-in-future"),
    ]:
        e = _same_error(lambda: cache.verify(text, now=now), lambda: verify_grant(text, now=now))
        assert e.codes == [code], now
    # The bounds themselves are inside the window; the entry is still there and still served.
    assert cache.verify(text, now=g.valid_until) is g
    assert cache.verify(text, now=g.valid_from) is g
    assert len(cache) == 1


def _example_key() -> KeyPair:
    return KeyPair.load(EX / "enterprise.key.json")


def _unsigned() -> dict[str, Any]:
    out: dict[str, Any] = json.loads((EX / "grant.unsigned.json").read_text())
    return out


def test_proof_times_are_checked_on_every_hit() -> None:
    key = _example_key()
    # A VC-JWT whose exp (2027-02-01) ends before validUntil (2027-12-01).
    cred = _unsigned()
    cred["exp"] = int(_utc("2027-02-01T00:00:00Z").timestamp())
    jwt = sign_vc_jwt(cred, key, _utc("2026-11-30T08:00:00Z"))
    # A Data Integrity proof that expires on 2027-03-01.
    doc = _unsigned()
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2026-11-30T08:00:00Z",
               "expires": "2027-03-01T00:00:00Z", "verificationMethod": key.verification_method,
               "proofPurpose": "assertionMethod", "@context": doc["@context"]}
    proof = dict(options, proofValue=multibase_encode(key.sign(hash_data(options, doc))))
    di = serialize_compact(dict(doc, proof=proof)).decode()
    cache = VerifiedGrantCache()
    for text, late, code in [
        (jwt, _utc("2027-02-01T00:05:01Z"), "jwt-expired"),
        (di, _utc("2027-03-01T00:00:00Z"), "proof-expired"),
    ]:
        g = cache.verify(text, now=AT)
        assert late < g.valid_until
        e = _same_error(lambda: cache.verify(text, now=late), lambda: verify_grant(text, now=late))
        assert e.codes == [code]
        assert cache.verify(text, now=late - timedelta(seconds=1)) is g
    assert cache.verify(jwt, now=_utc("2027-02-01T00:05:00Z")).envelope == "jwt"  # exp + skew: still valid


def test_one_byte_changed_is_verified_afresh_and_fails() -> None:
    cache = VerifiedGrantCache()
    cache.verify(DI, now=AT)
    assert cache.misses == 1
    i = DI.index("credit-approval")
    changed = DI[:i] + "C" + DI[i + 1:]
    e = _same_error(lambda: cache.verify(changed, now=AT), lambda: verify_grant(changed, now=AT))
    assert e.codes == ["bad-signature"]
    assert (cache.misses, len(cache)) == (2, 1)
    h, p, s = JWT.strip().split(".")
    flipped = f"{h}.{p}.{s[:10]}{'A' if s[10] != 'A' else 'B'}{s[11:]}"
    e = _same_error(lambda: cache.verify(flipped, now=AT), lambda: verify_grant(flipped, now=AT))
    assert (cache.misses, len(cache)) == (3, 1)


def test_failures_are_not_cached() -> None:
    cache = VerifiedGrantCache()
    bad = (EX / "grant.invalid.bank-raw.di.json").read_text()
    for _ in range(3):
        e = _same_error(lambda: cache.verify(bad, now=AT), lambda: verify_grant(bad, now=AT))
        assert e.codes == ["bank-raw-non-public"]
    assert (cache.misses, cache.hits, len(cache)) == (3, 0, 0)
    late = datetime(2028, 1, 1, tzinfo=timezone.utc)
    _same_error(lambda: cache.verify(DI, now=late), lambda: verify_grant(DI, now=late))
    assert len(cache) == 0  # expired at its first verification: not cached either


def test_capacity_starts_afresh() -> None:
    with pytest.raises(ValueError):
        VerifiedGrantCache(capacity=0)
    third = sign_vc_jwt(_unsigned(), _example_key(), _utc("2026-11-30T09:00:00Z"))
    cache = VerifiedGrantCache(capacity=2)
    cache.verify(DI, now=AT)
    cache.verify(JWT, now=AT)
    assert len(cache) == 2
    cache.verify(DI, now=AT)
    assert (len(cache), cache.misses) == (2, 2)  # a hit does not count against the capacity
    cache.verify(third, now=AT)
    assert len(cache) == 1  # full: started afresh with the new grant
    cache.verify(third, now=AT)
    assert cache.misses == 3
    cache.verify(DI, now=AT)
    assert (len(cache), cache.misses) == (2, 4)  # DI was dropped, so verified again


def test_whitespace_variants_share_an_entry_iff_verify_grant_treats_them_alike() -> None:
    cache = VerifiedGrantCache()
    for text in (DI, JWT):
        base = verify_grant(text, now=AT)
        for variant in (text.strip(), " \t\r\n" + text + "\n\n", text.encode() + b" "):
            assert verify_grant(variant, now=AT) == base
            assert cache.verify(variant, now=AT) == base
    assert (len(cache), cache.misses) == (2, 2)
    for text in (DI, JWT):
        # Form feed and no-break space are not trimmed by verify_grant: refused, not cached.
        for variant in ("\x0c" + text, text.strip() + "\x0c", "\u00a0" + text):
            _same_error(lambda: cache.verify(variant, now=AT), lambda: verify_grant(variant, now=AT))
    assert (len(cache), cache.misses) == (2, 8)


def test_the_catalog_is_bound_at_construction() -> None:
    builtin = Catalog.builtin()
    cat = json.loads((SPEC / "catalog.json").read_text())
    cat["purposes"] = [p for p in cat["purposes"] if p["code"] != "credit-approval"]
    narrow = Catalog(cat, json.loads((SPEC / "letters.json").read_text()))
    wide, strict = VerifiedGrantCache(builtin), VerifiedGrantCache(narrow)
    assert strict.catalog is narrow
    wide.verify(DI, now=AT)
    e = _same_error(lambda: strict.verify(DI, now=AT), lambda: verify_grant(DI, narrow, now=AT))
    assert e.codes == ["unknown-purpose"]
    assert (len(wide), len(strict)) == (1, 0)
