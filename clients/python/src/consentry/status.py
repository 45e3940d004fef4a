"""Bitstring Status List v1.0: decode lists, verify status list credentials, check a grant's
revocation and suspension bits, with a TTL cache (spec/grant.md §2.4, §5.2).
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from ._time import parse_datetime_stamp, utcnow
from .dataintegrity import verify_proof
from .encoding import b64url_decode
from .errors import EncodingError
from .errors import GrantStatusError, StatusError
from .grant import VerifiedGrant

MIN_ENTRIES = 131072
DEFAULT_TTL_MS = 300_000


def decode_list(encoded: str, status_size: int = 1) -> bytes:
    """Decodes ``encodedList`` (multibase ``u`` + base64url of GZIP); checks the minimum length
    (131,072 entries), raising :class:`StatusError` (``STATUS_LIST_LENGTH_ERROR`` / encoding)."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusError("encodedList must be multibase base64url ('u' prefix)", "MALFORMED_VALUE_ERROR")
    try:
        packed = b64url_decode(encoded[1:])
    except EncodingError as e:
        raise StatusError(f"encodedList: {e.message}", "MALFORMED_VALUE_ERROR") from None
    if packed[:2] != b"\x1f\x8b":
        raise StatusError("encodedList is not GZIP", "MALFORMED_VALUE_ERROR")
    try:
        bits = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as e:
        raise StatusError(f"encodedList: not GZIP: {e}", "MALFORMED_VALUE_ERROR") from None
    if status_size < 1 or len(bits) * 8 // status_size < MIN_ENTRIES:
        raise StatusError(
            f"the list holds {len(bits) * 8 // max(status_size, 1)} entries, fewer than {MIN_ENTRIES}",
            "STATUS_LIST_LENGTH_ERROR",
        )
    return bits


def read_entry(bits: bytes, index: int, status_size: int = 1) -> int:
    """Entry ``index`` (bit 0 = MSB of byte 0; ``status_size`` bits per entry, MSB first)."""
    if index < 0 or (index + 1) * status_size > len(bits) * 8:
        raise StatusError(f"index {index} is beyond the list's {len(bits) * 8 // status_size} entries", "RANGE_ERROR")
    v = 0
    for b in range(index * status_size, (index + 1) * status_size):
        v = (v << 1) | ((bits[b // 8] >> (7 - b % 8)) & 1)
    return v


@dataclass(frozen=True)
class StatusList:
    """A verified status list credential: its URL (``id``), purposes, issuer, bits and TTL."""

    url: str
    purposes: tuple[str, ...]
    issuer: str
    bits: bytes
    status_size: int
    ttl_ms: int
    valid_until: datetime | None

    def status(self, index: int) -> int:
        """The status value at ``index``."""
        return read_entry(self.bits, index, self.status_size)


def verify_status_list(
    credential: Mapping[str, Any] | str | bytes,
    *,
    issuers: Iterable[str] | None = None,
    now: datetime | None = None,
) -> StatusList:
    """Verifies a ``BitstringStatusListCredential`` (its eddsa-jcs-2022 proof, its type, its
    validity, the issuer among ``issuers`` when given) and decodes its list. A proof that does not
    verify raises :class:`~consentry.errors.ProofError`; the rest :class:`StatusError`."""
    now = now or utcnow()
    vp = verify_proof(credential if not isinstance(credential, Mapping) else dict(credential), now=now)
    doc = vp.document
    issuer = doc.get("issuer")
    iid = issuer.get("id") if isinstance(issuer, dict) else issuer
    if iid != vp.signer.did:
        raise StatusError("the status list is not signed by its issuer", "STATUS_VERIFICATION_ERROR")
    allowed = set(issuers) if issuers is not None else None
    if allowed is not None and iid not in allowed:
        raise StatusError(f"status list issuer {iid} is not trusted", "STATUS_VERIFICATION_ERROR")
    types = doc.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise StatusError("not a BitstringStatusListCredential", "STATUS_VERIFICATION_ERROR")
    for k in ("validFrom", "validUntil"):
        if k in doc:
            try:
                t = parse_datetime_stamp(doc[k])
            except (ValueError, TypeError) as e:
                raise StatusError(f"{k}: {e}", "STATUS_VERIFICATION_ERROR") from None
            if (k == "validFrom" and now < t) or (k == "validUntil" and now > t):
                raise StatusError(f"the status list is outside its validity ({k})", "STATUS_VERIFICATION_ERROR")
    subj = doc.get("credentialSubject")
    if not isinstance(subj, dict) or subj.get("type") != "BitstringStatusList":
        raise StatusError("credentialSubject is not a BitstringStatusList", "STATUS_VERIFICATION_ERROR")
    p = subj.get("statusPurpose")
    purposes = tuple(p) if isinstance(p, list) else (p,)
    if not all(isinstance(x, str) for x in purposes):
        raise StatusError("statusPurpose must be strings", "STATUS_VERIFICATION_ERROR")
    size = subj.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise StatusError("statusSize must be a positive integer", "STATUS_VERIFICATION_ERROR")
    ttl = subj.get("ttl", DEFAULT_TTL_MS)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
        ttl = DEFAULT_TTL_MS
    bits = decode_list(subj.get("encodedList", ""), size)
    vu = parse_datetime_stamp(doc["validUntil"]) if "validUntil" in doc else None
    return StatusList(str(doc.get("id", "")), purposes, iid, bits, size, ttl, vu)


class StatusChecker:
    """Checks a verified grant's revocation and suspension bits on every call, fetching each list
    through ``fetch(url) -> credential`` and caching the verified list for its ``ttl`` (capped by
    ``max_ttl_ms``). Raises :class:`GrantStatusError` (``grant-revoked``/``grant-suspended``) or
    :class:`StatusError`. Thread-safe."""

    def __init__(
        self,
        fetch: Callable[[str], Any],
        issuers: Iterable[str] | None = None,
        *,
        max_ttl_ms: int = 300_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetch = fetch
        self.issuers = set(issuers) if issuers is not None else None
        self.max_ttl_ms = max_ttl_ms
        self.clock = clock
        self._cache: dict[str, tuple[float, StatusList]] = {}
        self._lock = threading.Lock()

    def list(self, url: str) -> StatusList:
        """The verified list at ``url`` (cached by TTL)."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(url)
            if hit and hit[0] > now:
                return hit[1]
        lst = verify_status_list(self.fetch(url), issuers=self.issuers)
        if lst.url != url:
            raise StatusError(f"the credential at {url} is the list {lst.url}", "STATUS_VERIFICATION_ERROR")
        ttl = min(lst.ttl_ms, self.max_ttl_ms) / 1000.0
        with self._lock:
            self._cache[url] = (now + ttl, lst)
        return lst

    def invalidate(self) -> None:
        """Drops every cached list."""
        with self._lock:
            self._cache.clear()

    def check(self, grant: VerifiedGrant) -> None:
        """Raises unless both the grant's bits are clear."""
        for purpose, url in (("revocation", grant.status.revocation_list), ("suspension", grant.status.suspension_list)):
            lst = self.list(url)
            if purpose not in lst.purposes:
                raise StatusError(f"the list {url} is not a {purpose} list", "STATUS_VERIFICATION_ERROR")
            if lst.status(grant.status.index):
                state = "revoked" if purpose == "revocation" else "suspended"
                raise GrantStatusError(f"grant {grant.id} is {state}", f"grant-{state}")


def check_credential_status(
    credential: Mapping[str, Any] | str | bytes,
    list_credential: Mapping[str, Any] | str | bytes,
    *,
    now: datetime | None = None,
) -> int:
    """Verifies ``credential`` (eddsa-jcs-2022) and the status list credential, checks that the
    credential's ``BitstringStatusListEntry`` names that list and its purpose, and returns the
    entry's status value. Raises :class:`~consentry.errors.ProofError` or :class:`StatusError`."""
    vp = verify_proof(credential if not isinstance(credential, Mapping) else dict(credential), now=now)
    lst = verify_status_list(list_credential, now=now)
    entries = vp.document.get("credentialStatus")
    items = entries if isinstance(entries, list) else [entries]
    for e in items:
        if not isinstance(e, dict) or e.get("statusListCredential") != lst.url:
            continue
        if e.get("type") != "BitstringStatusListEntry":
            raise StatusError("the entry is not a BitstringStatusListEntry", "STATUS_VERIFICATION_ERROR")
        if e.get("statusPurpose") not in lst.purposes:
            raise StatusError(
                f"the entry's purpose {e.get('statusPurpose')!r} is not the list's {list(lst.purposes)}",
                "STATUS_VERIFICATION_ERROR",
            )
        idx = e.get("statusListIndex")
        if not isinstance(idx, str) or not idx.isdigit() or (idx != "0" and idx.startswith("0")):
            raise StatusError(f"statusListIndex {idx!r} is not a base-10 string", "STATUS_VERIFICATION_ERROR")
        return lst.status(int(idx))
    raise StatusError("the credential has no entry in this status list", "STATUS_VERIFICATION_ERROR")
