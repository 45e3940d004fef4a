"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (vc-di-eddsa §3.3).

``hashData = SHA-256(JCS(proof options with the document's @context)) ‖ SHA-256(JCS(document))``,
signed with Ed25519; ``proofValue`` is ``z`` + base58-btc of the 64-byte signature.
Verification follows spec/grant.md §2.3.1 and raises :class:`~consentry.errors.ProofError` whose
``code`` is the spec's proof code.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._time import format_utc, parse_datetime_stamp, shift, utcnow
from .encoding import EncodingError, multibase_decode, multibase_encode
from .errors import ConsentryError, InvalidKey, JsonError, ProofError, SignatureError
from .jsonstrict import canonicalize, parse
from .keys import DidKey, KeyPair

CRYPTOSUITE = "eddsa-jcs-2022"
SKEW = timedelta(minutes=5)


def hash_data(proof_options: dict[str, Any], document: dict[str, Any]) -> bytes:
    """``SHA-256(JCS(options)) ‖ SHA-256(JCS(document))`` (64 bytes)."""
    return hashlib.sha256(canonicalize(proof_options)).digest() + hashlib.sha256(canonicalize(document)).digest()


def create_proof(
    document: dict[str, Any],
    key: KeyPair,
    created: datetime | None = None,
    *,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Returns a copy of ``document`` with an eddsa-jcs-2022 proof (the @context rule applied)."""
    if not isinstance(document, dict):
        raise ProofError("document must be a JSON object", "canonicalization")
    doc = {k: v for k, v in document.items() if k != "proof"}
    options: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": format_utc(created or utcnow()),
        "verificationMethod": key.verification_method,
        "proofPurpose": proof_purpose,
    }
    if "@context" in doc:
        options["@context"] = copy.deepcopy(doc["@context"])
    sig = key.sign(hash_data(options, doc))
    proof = dict(options)
    proof["proofValue"] = multibase_encode(sig)
    out = dict(doc)
    out["proof"] = proof
    return out


@dataclass(frozen=True)
class VerifiedProof:
    """A Data Integrity proof that verified: the signer, the signing time, the unsecured document
    (without ``proof``, under the proof's ``@context``)."""

    signer: DidKey
    created: datetime
    document: dict[str, Any]
    proof: dict[str, Any]
    #: The proof's ``expires``, if it has one.
    expires: datetime | None = None

    def time_bounds(self) -> tuple[datetime, datetime | None]:
        """The instants (both inclusive; ``None``: unbounded) between which this proof's own time
        checks pass again as they did: ``created`` − 5 min … ``expires`` − 1 µs."""
        until = shift(self.expires, -timedelta(microseconds=1)) if self.expires is not None else None
        return shift(self.created, -SKEW), until


_REQUIRED = ("type", "cryptosuite", "created", "verificationMethod", "proofPurpose")


def verify_proof(
    secured: dict[str, Any] | str | bytes,
    *,
    now: datetime | None = None,
    expected_purpose: str = "assertionMethod",
    check_issuer: bool = True,
) -> VerifiedProof:
    """Verifies an eddsa-jcs-2022 proof (spec/grant.md §2.3.1 steps 1–9).

    Accepts the parsed document or its JSON text (parsed strictly). When ``check_issuer`` is set
    and ``issuer`` is a did:key, the signer must be it (``issuer-mismatch``).
    """
    if isinstance(secured, (str, bytes)):
        try:
            secured = parse(secured)
        except JsonError as e:
            raise ProofError(e.message, "malformed-json") from None
    if not isinstance(secured, dict):
        raise ProofError("the secured document is not a JSON object", "malformed-json")
    now = now or utcnow()
    if "proof" not in secured:
        raise ProofError("no proof", "missing-proof")
    proof = secured["proof"]
    if isinstance(proof, list):
        raise ProofError("proof sets and chains are not accepted", "proof-set")
    if not isinstance(proof, dict):
        raise ProofError("proof must be an object", "proof-option")
    pv = proof.get("proofValue")
    if not isinstance(pv, str):
        raise ProofError("proofValue must be a string", "proof-option")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if options.get("type") != "DataIntegrityProof":
        raise ProofError(f"proof type {options.get('type')!r} is not DataIntegrityProof", "proof-type")
    if options.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"cryptosuite {options.get('cryptosuite')!r} is not {CRYPTOSUITE}", "wrong-cryptosuite")
    for name in _REQUIRED:
        if not isinstance(options.get(name), str):
            raise ProofError(f"proof option {name} is missing or not a string", "proof-option")
    try:
        sig = multibase_decode(pv)
    except EncodingError as e:
        raise ProofError(f"proofValue: {e.message}", "proof-value") from None
    if len(sig) != 64:
        raise ProofError(f"proofValue decodes to {len(sig)} bytes, not 64", "proof-value")
    document = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        pctx = options["@context"]
        dctx = document.get("@context")
        pl = pctx if isinstance(pctx, list) else [pctx]
        dl = dctx if isinstance(dctx, list) else [dctx]
        if dl[: len(pl)] != pl:
            raise ProofError("the document's @context does not begin with the proof's", "context-mismatch")
        document["@context"] = pctx
    try:
        created = parse_datetime_stamp(options["created"])
    except ValueError as e:
        raise ProofError(str(e), "proof-created") from None
    if created > now + SKEW:
        raise ProofError(f"proof created {options['created']}, in the future", "proof-created-in-future")
    exp: datetime | None = None
    if "expires" in options:
        try:
            exp = parse_datetime_stamp(options["expires"])
        except (ValueError, TypeError) as e:
            raise ProofError(f"expires: {e}", "proof-option") from None
        if exp <= now:
            raise ProofError(f"proof expired at {options['expires']}", "proof-expired")
    if options["proofPurpose"] != expected_purpose:
        raise ProofError(f"proofPurpose {options['proofPurpose']!r} is not {expected_purpose}", "proof-purpose")
    try:
        signer = DidKey.from_verification_method(options["verificationMethod"])
    except InvalidKey as e:
        raise ProofError(e.message, "verification-method") from None
    try:
        data = hash_data(options, document)
    except ConsentryError as e:
        raise ProofError(e.message, "canonicalization") from None
    try:
        signer.public_key.verify(data, sig)
    except SignatureError:
        raise ProofError("signature does not verify", "bad-signature") from None
    if check_issuer:
        issuer = document.get("issuer")
        iid = issuer.get("id") if isinstance(issuer, dict) else issuer
        if isinstance(iid, str) and iid.startswith("did:key:") and iid != signer.did:
            raise ProofError(f"issuer {iid} is not the signer {signer.did}", "issuer-mismatch")
    return VerifiedProof(signer, created, document, proof, exp)
