"""Compact JWS with EdDSA (RFC 7515, RFC 8037), strict, keyed by did:key DID URLs in ``kid``,
and VC-JWT (``application/vc+jwt``, vc-jose-cose §3.1.1) per spec/grant.md §2.3.2.

Refused: ``alg`` other than ``EdDSA`` (before anything else is read), any ``crit``, an unexpected
``typ``/``cty``, a missing ``kid``, non-canonical base64url, weak keys, non-strict signatures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from ._time import shift, utcnow
from .encoding import EncodingError, b64url_decode, b64url_encode
from .errors import InvalidKey, JsonError, ProofError, SignatureError
from .jsonstrict import parse, serialize_compact
from .keys import DidKey, KeyPair

ALG = "EdDSA"
VC_JWT_TYP = "vc+jwt"
ASSERTION_TYP = "consentry-assertion+jwt"
REQUEST_TYP = "consentry-request+jwt"
SKEW = timedelta(minutes=5)
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")


def sign_compact(payload: bytes, typ: str, key: KeyPair, *, header_order: str = "alg") -> str:
    """Signs ``payload`` as a compact JWS with header ``{"alg":"EdDSA","kid":…,"typ":typ}``."""
    if header_order == "typ":
        header: dict[str, str] = {"typ": typ, "kid": key.verification_method, "alg": ALG}
    else:
        header = {"alg": ALG, "kid": key.verification_method, "typ": typ}
    h64 = b64url_encode(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode())
    p64 = b64url_encode(payload)
    sig = key.sign(f"{h64}.{p64}".encode("ascii"))
    return f"{h64}.{p64}.{b64url_encode(sig)}"


@dataclass(frozen=True)
class VerifiedJws:
    """A JWS whose signature verified."""

    signer: DidKey
    header: dict[str, Any]
    payload: bytes


def _media(header: dict[str, Any], param: str, accepted: Sequence[str], optional: bool) -> None:
    if param not in header:
        if optional or not accepted:
            return
        raise ProofError(f"JWS {param} is missing (expected {accepted[0]})", "jws-media-type")
    v = header[param]
    if not accepted or not isinstance(v, str) or v.lower() not in [a.lower() for a in accepted]:
        raise ProofError(f"JWS {param} {v!r} is not accepted", "jws-media-type")


def verify_compact(
    token: str,
    *,
    typ: Sequence[str],
    typ_optional: bool,
    cty: Sequence[str] = (),
) -> VerifiedJws:
    """Verifies a compact JWS and returns its signer, header and payload bytes."""
    token = token.rstrip("\r\n")
    parts = token.split(".")
    if len(parts) != 3:
        raise ProofError("expected header.payload.signature", "jws-format")
    h64, p64, s64 = parts
    try:
        hb = b64url_decode(h64)
    except EncodingError:
        raise ProofError("header is not canonical unpadded base64url", "jws-base64") from None
    try:
        header = parse(hb)
    except JsonError as e:
        raise ProofError(f"header: {e.message}", "malformed-json") from None
    if not isinstance(header, dict):
        raise ProofError("header is not a JSON object", "jws-header")
    alg = header.get("alg", "(missing)")
    if alg != ALG:
        raise ProofError(f"JWS alg {alg!r} refused: only EdDSA is accepted", "jws-algorithm")
    if "crit" in header:
        raise ProofError("JWS crit is not supported", "jws-crit")
    _media(header, "typ", typ, typ_optional)
    _media(header, "cty", cty, True)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise ProofError("JWS header has no kid", "jws-missing-kid")
    try:
        signer = DidKey.from_verification_method(kid)
    except InvalidKey as e:
        raise ProofError(e.message, "verification-method") from None
    try:
        sig = b64url_decode(s64)
    except EncodingError:
        raise ProofError("signature is not canonical unpadded base64url", "jws-base64") from None
    if len(sig) != 64:
        raise ProofError("signature does not verify", "bad-signature")
    try:
        payload = b64url_decode(p64)
    except EncodingError:
        raise ProofError("payload is not canonical unpadded base64url", "jws-base64") from None
    try:
        signer.public_key.verify(f"{h64}.{p64}".encode("ascii"), sig)
    except SignatureError:
        raise ProofError("signature does not verify", "bad-signature") from None
    return VerifiedJws(signer, header, payload)


def verify_jws_with_key(token: str, public_key: bytes) -> bytes:
    """Verifies a compact EdDSA JWS under a known Ed25519 key (no ``kid`` needed); returns the
    payload. Raises :class:`ProofError` (``jws-format``, ``jws-base64``, ``jws-algorithm``,
    ``bad-signature``) or :class:`~consentry.errors.InvalidKey` for a weak key."""
    from .keys import PublicKey

    pk = PublicKey(bytes(public_key))
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ProofError("expected header.payload.signature", "jws-format")
    try:
        header = parse(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        sig = b64url_decode(parts[2])
    except EncodingError:
        raise ProofError("a segment is not canonical unpadded base64url", "jws-base64") from None
    except JsonError as e:
        raise ProofError(f"header: {e.message}", "malformed-json") from None
    if not isinstance(header, dict):
        raise ProofError("header is not a JSON object", "jws-header")
    if header.get("alg") != ALG:
        raise ProofError(f"JWS alg {header.get('alg')!r} refused: only EdDSA is accepted", "jws-algorithm")
    if "crit" in header:
        raise ProofError("JWS crit is not supported", "jws-crit")
    try:
        pk.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), sig)
    except SignatureError:
        raise ProofError("signature does not verify", "bad-signature") from None
    return payload


def sign_vc_jwt(credential: dict[str, Any], key: KeyPair, iat: datetime | None = None) -> str:
    """Signs an unsigned credential as a VC-JWT: payload = credential + ``iss`` + ``iat``, written
    as compact JSON in the credential's member order (as the reference signer does); header ``{"typ":"vc+jwt","kid":…,"alg":"EdDSA"}`` as the reference signer."""
    payload = {k: v for k, v in credential.items() if k != "proof"}
    issuer = payload.get("issuer")
    payload["iss"] = issuer.get("id") if isinstance(issuer, dict) else issuer
    payload["iat"] = int((iat or utcnow()).timestamp())
    return sign_compact(serialize_compact(payload), VC_JWT_TYP, key, header_order="typ")


@dataclass(frozen=True)
class VerifiedVcJwt:
    """A VC-JWT whose signature and claims verified: the credential (registered claims removed),
    the signer and the signing time (``iat``, if present)."""

    signer: DidKey
    credential: dict[str, Any]
    issued_at: datetime | None
    header: dict[str, Any]
    #: ``exp``, if the token has it.
    expires: datetime | None = None
    #: ``nbf``, if the token has it.
    not_before: datetime | None = None

    def time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """The instants (both inclusive; ``None``: unbounded) between which this token's own time
        checks pass again as they did: the later of ``nbf`` and ``iat`` − 5 min … ``exp`` + 5 min."""
        lows = [shift(t, -SKEW) for t in (self.not_before, self.issued_at) if t is not None]
        return (max(lows) if lows else None), (shift(self.expires, SKEW) if self.expires is not None else None)


def _numeric_date(claims: dict[str, Any], name: str) -> datetime | None:
    if name not in claims:
        return None
    v = claims[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProofError(f"{name} is not a NumericDate", "jwt-claim")
    try:
        return datetime.fromtimestamp(v, timezone.utc)
    except (OverflowError, ValueError, OSError):
        raise ProofError(f"{name} is out of range", "jwt-claim") from None


def verify_vc_jwt(token: str, *, now: datetime | None = None) -> VerifiedVcJwt:
    """Verifies a VC-JWT (spec/grant.md §2.3.2)."""
    now = now or utcnow()
    v = verify_compact(
        token.strip(" \t\r\n"),
        typ=("vc+jwt", "application/vc+jwt"),
        typ_optional=True,
        cty=("vc", "application/vc"),
    )
    try:
        claims = parse(v.payload)
    except JsonError as e:
        raise ProofError(f"payload: {e.message}", "malformed-json") from None
    if not isinstance(claims, dict):
        raise ProofError("payload is not a JSON object", "malformed-json")
    for forbidden in ("vc", "vp"):
        if forbidden in claims:
            raise ProofError(f"claim {forbidden} is not allowed (vc-jose-cose §3.1.1)", "jwt-forbidden-claim")
    issuer = claims.get("issuer")
    iid = issuer.get("id") if isinstance(issuer, dict) else issuer
    if "iss" in claims and claims["iss"] != iid:
        raise ProofError(f"iss {claims['iss']!r} is not the issuer {iid!r}", "jwt-iss-mismatch")
    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf")
    iat = _numeric_date(claims, "iat")
    if exp is not None and exp + SKEW < now:
        raise ProofError("the JWT has expired", "jwt-expired")
    if nbf is not None and nbf - SKEW > now:
        raise ProofError("the JWT is not yet valid (nbf)", "jwt-not-before")
    if iat is not None and iat - SKEW > now:
        raise ProofError("the JWT was issued in the future", "jwt-issued-in-future")
    if iid is None:
        raise ProofError("the payload has no issuer", "missing-issuer")
    if isinstance(iid, str) and iid.startswith("did:key:") and iid != v.signer.did:
        raise ProofError(f"issuer {iid} is not the signer {v.signer.did}", "issuer-mismatch")
    credential = {k: x for k, x in claims.items() if k not in REGISTERED_CLAIMS}
    return VerifiedVcJwt(v.signer, credential, iat, v.header, exp, nbf)
