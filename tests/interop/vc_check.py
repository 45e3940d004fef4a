#!/usr/bin/env python3
"""Independent W3C Verifiable Credential checker used by CI to cross-check consentry.

Written from the specifications only (W3C vc-di-eddsa "eddsa-jcs-2022", did:key, Multikey,
VC-JOSE "vc+jwt" with RFC 7515/8037, Bitstring Status List v1.0, RFC 8785), never from the Rust code.

Subcommands (exit 0 = valid/ok, 1 = invalid, 2 = usage error):
  verify FILE                         Data Integrity (JSON object) or compact JWS (vc+jwt)
  sign --key KEYFILE [--format di|jwt] [--created RFC3339] FILE
  jcs FILE                            RFC 8785 canonical form, no trailing newline
  status-check CRED --list URL=FILE [--list URL=FILE ...]
  schema SCHEMA FILE                  JSON Schema (draft 2020-12)
  selftest [--vectors DIR]            run over spec/vectors

Dependencies: rfc8785 (JCS), PyNaCl (libsodium Ed25519), jsonschema. base58btc is implemented here.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import datetime as dt
import gzip
import hashlib
import io
import json
import math
import os
import re
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, Callable

import nacl.bindings
import nacl.exceptions
import nacl.signing
import rfc8785

CRYPTOSUITE = "eddsa-jcs-2022"
MAX_SAFE_INT = 2**53 - 1
ED25519_PUB_PREFIX = b"\xed\x01"   # multicodec varint 0xed (ed25519-pub)
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec varint 0x1300 (ed25519-priv)
IDENTITY_POINT = b"\x01" + b"\x00" * 31
CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
MIN_STATUS_ENTRIES = 131072
MAX_BITSTRING_BYTES = 64 * 1024 * 1024  # decompression-bomb guard


class Invalid(Exception):
    """The input is well-formed enough to judge, and it is not valid."""


class StatusError(Invalid):
    """A Bitstring Status List error with its spec error code."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


# ---------------------------------------------------------------------------
# Strict JSON (I-JSON): no duplicate keys, integers within +/-(2^53-1), finite numbers,
# valid UTF-8, no lone surrogates.

def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise Invalid(f"duplicate JSON key {key!r}")
        out[key] = value
    return out


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INT:
        raise Invalid(f"integer {text} is outside +/-(2^53-1)")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Invalid(f"number {text} is not a finite IEEE-754 double")
    return value


def _parse_constant(text: str) -> Any:
    raise Invalid(f"{text} is not JSON")


def _check_strings(node: Any) -> None:
    if isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Invalid("JSON string contains a lone surrogate") from exc
    elif isinstance(node, dict):
        for k, v in node.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(node, list):
        for v in node:
            _check_strings(v)


def strict_loads(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Invalid(f"not UTF-8: {exc}") from exc
    else:
        text = data
    if text.startswith("\ufeff"):
        raise Invalid("JSON text starts with a byte order mark")
    try:
        value = json.loads(text, object_pairs_hook=_pairs_hook, parse_int=_parse_int,
                           parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise Invalid(f"not JSON: {exc}") from exc
    except ValueError as exc:  # e.g. int() digit limit
        if isinstance(exc, Invalid):
            raise
        raise Invalid(f"bad JSON number: {exc}") from exc
    _check_strings(value)
    return value


def jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except Exception as exc:  # rfc8785 raises its own error classes
        raise Invalid(f"cannot canonicalize (RFC 8785): {exc}") from exc


# ---------------------------------------------------------------------------
# base58btc (Bitcoin alphabet), leading 0x00 bytes <-> leading '1' characters

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\x00"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        if ch not in B58_INDEX:
            raise Invalid(f"invalid base58btc character {ch!r}")
        n = n * 58 + B58_INDEX[ch]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def multibase_b58_decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise Invalid(f"{what} must be a multibase base58btc string ('z' prefix)")
    return b58decode(value[1:])


# ---------------------------------------------------------------------------
# base64url without padding, strict (canonical) decoding

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode_strict(seg: str, what: str) -> bytes:
    if not _B64URL_RE.match(seg):
        raise Invalid(f"{what}: not base64url without padding")
    if len(seg) % 4 == 1:
        raise Invalid(f"{what}: impossible base64url length")
    try:
        raw = base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Invalid(f"{what}: bad base64url: {exc}") from exc
    if b64url_encode(raw) != seg:
        raise Invalid(f"{what}: non-canonical base64url (unused trailing bits set)")
    return raw


# ---------------------------------------------------------------------------
# Keys, Multikey, did:key

def check_public_key(pub: bytes) -> None:
    """did:key "invalidPublicKey": reject the identity point and every small-order / non-canonical /
    off-subgroup point (libsodium crypto_core_ed25519_is_valid_point)."""
    if len(pub) != 32:
        raise Invalid("invalidPublicKeyLength: Ed25519 key must be 32 bytes")
    if pub == IDENTITY_POINT:
        raise Invalid("invalidPublicKey: identity point (weak key)")
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(pub):
        raise Invalid("invalidPublicKey: not a valid prime-order Ed25519 point (weak or malformed key)")


def multikey_from_public(pub: bytes) -> str:
    return "z" + b58encode(ED25519_PUB_PREFIX + pub)


def public_from_multikey(value: Any) -> bytes:
    raw = multibase_b58_decode(value, "publicKeyMultibase")
    if raw[:2] != ED25519_PUB_PREFIX:
        raise Invalid("Multikey is not an Ed25519 public key (multicodec 0xed01)")
    pub = raw[2:]
    if len(pub) != 32:
        raise Invalid("invalidPublicKeyLength: Ed25519 Multikey must carry 32 bytes")
    check_public_key(pub)
    return pub


def resolve_did_key(did: str) -> tuple[str, bytes]:
    """did:key[:1]:z6Mk... -> (multibase value, 32-byte public key)."""
    parts = did.split(":")
    if len(parts) == 4:
        if parts[2] != "1":
            raise Invalid("invalidDid: unsupported did:key version")
        value = parts[3]
    elif len(parts) == 3:
        value = parts[2]
    else:
        raise Invalid(f"invalidDid: {did!r}")
    if parts[0] != "did" or parts[1] != "key":
        raise Invalid(f"not a did:key DID: {did!r}")
    if not value.startswith("z"):
        raise Invalid("invalidDid: did:key value must start with 'z'")
    return value, public_from_multikey(value)


def resolve_verification_method(url: Any) -> tuple[str, bytes]:
    """did:key DID URL -> (DID, public key). The fragment must equal the multibase value."""
    if not isinstance(url, str):
        raise Invalid("verificationMethod / kid must be a string")
    did, sep, fragment = url.partition("#")
    if not sep:
        raise Invalid("verificationMethod / kid must be a DID URL with a fragment")
    value, pub = resolve_did_key(did)
    if fragment != value:
        raise Invalid("did:key verification method fragment does not equal the key's multibase value")
    return did, pub


def ed25519_verify(pub: bytes, message: bytes, signature: bytes) -> None:
    check_public_key(pub)
    if len(signature) != 64:
        raise Invalid(f"signature must be 64 bytes, got {len(signature)}")
    try:
        nacl.signing.VerifyKey(pub).verify(message, signature)
    except nacl.exceptions.BadSignatureError as exc:
        raise Invalid("signature verification failed") from exc
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise Invalid(f"signature verification error: {exc}") from exc


class Key:
    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise ValueError("Ed25519 seed must be 32 bytes")
        self.signing = nacl.signing.SigningKey(seed)
        self.public = self.signing.verify_key.encode()
        self.multibase = multikey_from_public(self.public)
        self.did = "did:key:" + self.multibase
        self.vm = self.did + "#" + self.multibase

    def sign(self, message: bytes) -> bytes:
        return self.signing.sign(message).signature

    @classmethod
    def load(cls, path: str) -> "Key":
        obj = strict_loads(Path(path).read_bytes())
        if not isinstance(obj, dict):
            raise Invalid("key file must be a JSON object")
        secret = obj.get("secretKeyMultibase", obj.get("privateKeyMultibase"))
        raw = multibase_b58_decode(secret, "secretKeyMultibase")
        if raw[:2] != ED25519_PRIV_PREFIX or len(raw) != 34:
            raise Invalid("secretKeyMultibase must be 0x8026 + 32-byte Ed25519 seed")
        key = cls(raw[2:])
        if "publicKeyMultibase" in obj and obj["publicKeyMultibase"] != key.multibase:
            raise Invalid("key file: publicKeyMultibase does not match the secret key")
        if "did" in obj and obj["did"] != key.did:
            raise Invalid("key file: did does not match the secret key")
        return key


# ---------------------------------------------------------------------------
# Dates

_DATETIME_RE = re.compile(
    r"^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$")

_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def is_datetime(value: Any, require_tz: bool) -> bool:
    if not isinstance(value, str):
        return False
    m = _DATETIME_RE.match(value)
    return bool(m) and (not require_tz or m.group(9) is not None)


def parse_instant(value: str) -> dt.datetime:
    """RFC 3339 / XML dateTimeStamp -> aware datetime (fraction truncated to microseconds)."""
    m = _RFC3339_RE.match(value)
    if not m:
        raise Invalid(f"not an RFC 3339 date-time with time zone: {value!r}")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    tz_text = m.group(8)
    if tz_text in ("Z", "z"):
        tz = dt.timezone.utc
    else:
        sign = 1 if tz_text[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(tz_text[1:3]), minutes=int(tz_text[4:6])))
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise Invalid(f"impossible date-time {value!r}: {exc}") from exc


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------------------
# VC data model checks (structure and validity period)

def issuer_id(doc: dict) -> str | None:
    issuer = doc.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def check_vcdm(doc: Any, at: dt.datetime | None) -> None:
    if not isinstance(doc, dict):
        raise Invalid("credential must be a JSON object")
    ctx = doc.get("@context")
    if not isinstance(ctx, list) or not ctx or ctx[0] != CREDENTIALS_V2:
        raise Invalid(f"@context must be an array starting with {CREDENTIALS_V2}")
    types = doc.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise Invalid("type must include VerifiableCredential")
    if issuer_id(doc) is None:
        raise Invalid("issuer must be a URL or an object with an id")
    subject = doc.get("credentialSubject")
    if not (isinstance(subject, dict) or (isinstance(subject, list) and subject
                                          and all(isinstance(s, dict) for s in subject))):
        raise Invalid("credentialSubject must be an object or an array of objects")
    bounds = {}
    for name in ("validFrom", "validUntil"):
        if name in doc:
            if not is_datetime(doc[name], require_tz=True):
                raise Invalid(f"{name} must be an XML Schema dateTimeStamp")
            bounds[name] = parse_instant(doc[name])
    if "validFrom" in bounds and "validUntil" in bounds and bounds["validFrom"] > bounds["validUntil"]:
        raise Invalid("validFrom is after validUntil")
    if at is not None:
        if "validFrom" in bounds and at < bounds["validFrom"]:
            raise Invalid(f"not yet valid (validFrom {doc['validFrom']})")
        if "validUntil" in bounds and at > bounds["validUntil"]:
            raise Invalid(f"expired (validUntil {doc['validUntil']})")


# ---------------------------------------------------------------------------
# eddsa-jcs-2022 Data Integrity

def _ctx_list(ctx: Any) -> list:
    return ctx if isinstance(ctx, list) else [ctx]


def di_hash_data(proof_options: dict, unsecured: dict) -> bytes:
    return hashlib.sha256(jcs(proof_options)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def di_sign(doc: Any, key: Key, created: str) -> dict:
    if not isinstance(doc, dict):
        raise Invalid("credential must be a JSON object")
    if "proof" in doc:
        raise Invalid("document already has a proof")
    if not is_datetime(created, require_tz=True):
        raise Invalid("PROOF_GENERATION_ERROR: created is not an XML Schema dateTimeStamp")
    options: dict = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": key.vm,
        "proofPurpose": "assertionMethod",
    }
    if "@context" in doc:
        options["@context"] = copy.deepcopy(doc["@context"])
    signature = key.sign(di_hash_data(options, doc))
    proof = dict(options)
    proof["proofValue"] = "z" + b58encode(signature)
    out = dict(doc)
    out["proof"] = proof
    return out


def di_verify_one(secured: dict, proof: Any, expected_purpose: str,
                  at: dt.datetime | None) -> tuple[dict, str]:
    if not isinstance(proof, dict):
        raise Invalid("proof must be a JSON object")
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if options.get("type") != "DataIntegrityProof":
        raise Invalid("proof type must be DataIntegrityProof")
    if options.get("cryptosuite") != CRYPTOSUITE:
        raise Invalid(f"cryptosuite must be {CRYPTOSUITE}, got {options.get('cryptosuite')!r}")
    signature = multibase_b58_decode(proof.get("proofValue"), "proofValue")
    if len(signature) != 64:
        raise Invalid(f"proofValue must decode to 64 bytes, got {len(signature)}")
    if "@context" in options:
        proof_ctx = _ctx_list(options["@context"])
        if "@context" not in secured:
            raise Invalid("proof has @context but the document has none")
        doc_ctx = _ctx_list(secured["@context"])
        if len(doc_ctx) < len(proof_ctx) or any(
                jcs(a) != jcs(b) for a, b in zip(doc_ctx, proof_ctx)):
            raise Invalid("document @context does not start with the proof's @context")
        unsecured["@context"] = options["@context"]
    # Data Integrity: created MUST be a dateTimeStamp (time zone required); we do not use the
    # "MAY consume values serialized without an offset" leniency.
    if "created" in options and not is_datetime(options["created"], require_tz=True):
        raise Invalid("proof created is not an XML Schema dateTimeStamp")
    if "expires" in options:
        if not is_datetime(options["expires"], require_tz=True):
            raise Invalid("proof expires is not a dateTimeStamp")
        if at is not None and at > parse_instant(options["expires"]):
            raise Invalid("proof expired")
    if options.get("proofPurpose") != expected_purpose:
        raise Invalid(f"proofPurpose must be {expected_purpose}, got {options.get('proofPurpose')!r}")
    did, pub = resolve_verification_method(options.get("verificationMethod"))
    ed25519_verify(pub, di_hash_data(options, unsecured), signature)
    return unsecured, did


def di_verify(secured: Any, expected_purpose: str = "assertionMethod",
              at: dt.datetime | None = None) -> tuple[dict, list[str]]:
    if not isinstance(secured, dict):
        raise Invalid("secured document must be a JSON object")
    if "proof" not in secured:
        raise Invalid("no proof")
    proofs = secured["proof"] if isinstance(secured["proof"], list) else [secured["proof"]]
    if not proofs:
        raise Invalid("empty proof set")
    signers, verified = [], None
    for proof in proofs:  # proof set: every proof must verify
        verified, did = di_verify_one(secured, proof, expected_purpose, at)
        signers.append(did)
    assert verified is not None
    return verified, signers


# ---------------------------------------------------------------------------
# VC-JWT (compact JWS, EdDSA)

JWT_TYPES = {"vc+jwt", "application/vc+jwt"}


def jws_sign_compact(header: dict, payload: bytes, key: Key) -> str:
    header_bytes = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    signing_input = b64url_encode(header_bytes) + "." + b64url_encode(payload)
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def jws_split(token: str) -> tuple[bytes, bytes, bytes, bytes]:
    """-> (signing input, header bytes, payload bytes, signature)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Invalid("compact JWS must have exactly three segments")
    if not all(parts):
        raise Invalid("empty JWS segment (detached payloads are not supported)")
    header = b64url_decode_strict(parts[0], "JWS header")
    payload = b64url_decode_strict(parts[1], "JWS payload")
    signature = b64url_decode_strict(parts[2], "JWS signature")
    return (parts[0] + "." + parts[1]).encode("ascii"), header, payload, signature


def jws_verify_with_key(token: str, pub: bytes) -> tuple[dict, bytes]:
    signing_input, header_bytes, payload, signature = jws_split(token)
    header = strict_loads(header_bytes)
    if not isinstance(header, dict):
        raise Invalid("JWS header must be a JSON object")
    if header.get("alg") != "EdDSA":
        raise Invalid(f"alg must be EdDSA, got {header.get('alg')!r}")
    if "crit" in header:
        raise Invalid("unsupported crit header parameter(s)")
    ed25519_verify(pub, signing_input, signature)
    return header, payload


def jwt_verify(token: str, at: dt.datetime | None = None) -> tuple[dict, list[str]]:
    _, header_bytes, _, _ = jws_split(token)
    header = strict_loads(header_bytes)
    if not isinstance(header, dict):
        raise Invalid("JWS header must be a JSON object")
    if header.get("alg") != "EdDSA":
        raise Invalid(f"alg must be EdDSA, got {header.get('alg')!r}")
    if "typ" in header and header["typ"] not in JWT_TYPES:
        raise Invalid(f"typ must be vc+jwt, got {header['typ']!r}")
    if "cty" in header and header["cty"] not in ("vc", "application/vc"):
        raise Invalid(f"cty must be vc, got {header['cty']!r}")
    if "kid" not in header:
        raise Invalid("kid is required (did:key DID URL)")
    did, pub = resolve_verification_method(header["kid"])
    _, payload_bytes = jws_verify_with_key(token, pub)
    payload = strict_loads(payload_bytes)
    if not isinstance(payload, dict):
        raise Invalid("JWT payload must be a JSON object")
    for claim in ("vc", "vp"):
        if claim in payload:
            raise Invalid(f"the {claim!r} JWT claim must not be present")
    if "iss" in payload and payload["iss"] != issuer_id(payload):
        raise Invalid("iss does not equal the credential's issuer")
    for claim in ("iat", "exp", "nbf"):
        if claim in payload and (isinstance(payload[claim], bool)
                                 or not isinstance(payload[claim], (int, float))):
            raise Invalid(f"{claim} must be a NumericDate")
    if at is not None:
        ts = at.timestamp()
        if "exp" in payload and ts >= payload["exp"]:
            raise Invalid("JWT expired (exp)")
        if "nbf" in payload and ts < payload["nbf"]:
            raise Invalid("JWT not yet valid (nbf)")
    return payload, [did]


def jwt_sign(doc: Any, key: Key, created: str) -> str:
    if not isinstance(doc, dict):
        raise Invalid("credential must be a JSON object")
    for claim in ("vc", "vp"):
        if claim in doc:
            raise Invalid(f"the {claim!r} claim must not be present")
    iss = issuer_id(doc)
    if iss is None:
        raise Invalid("credential has no issuer")
    if "iss" in doc and doc["iss"] != iss:
        raise Invalid("credential has an iss that differs from issuer")
    payload = dict(doc)
    payload["iss"] = iss
    payload["iat"] = int(parse_instant(created).timestamp())
    payload_bytes = jcs(payload)
    # JCS writes doubles in [2^53, 1e21) as integer digits (1e20 -> 100000000000000000000); this
    # checker's strict parser rejects integer literals beyond +/-(2^53-1), so refuse rather than emit
    # a token that our own verify would reject.
    strict_loads(payload_bytes)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": key.vm}
    return jws_sign_compact(header, payload_bytes, key)


# ---------------------------------------------------------------------------
# Envelope detection

def load_secured(data: bytes) -> tuple[str, Any]:
    """-> ("di", object) or ("jwt", token)."""
    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    stripped = text.strip()
    if stripped.startswith("{"):
        return "di", strict_loads(data)
    return "jwt", stripped


def verify_any(data: bytes, at: dt.datetime | None, purpose: str = "assertionMethod"
               ) -> tuple[str, dict, list[str]]:
    try:
        kind, obj = load_secured(data)
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8: {exc}") from exc
    if kind == "di":
        doc, signers = di_verify(obj, purpose, at)
    else:
        if not obj.isascii():
            raise Invalid("compact JWS must be ASCII")
        doc, signers = jwt_verify(obj, at)
    check_vcdm(doc, at)
    return kind, doc, signers


# ---------------------------------------------------------------------------
# Bitstring Status List v1.0

def decode_encoded_list(encoded: Any) -> bytes:
    if not isinstance(encoded, str) or not encoded:
        raise StatusError("MALFORMED_VALUE_ERROR", "encodedList must be a non-empty string")
    if encoded[0] != "u":
        raise StatusError("MALFORMED_VALUE_ERROR",
                          "encodedList must be multibase base64url without padding ('u' prefix)")
    try:
        compressed = b64url_decode_strict(encoded[1:], "encodedList")
    except Invalid as exc:
        raise StatusError("MALFORMED_VALUE_ERROR", str(exc)) from exc
    if compressed[:2] != b"\x1f\x8b":
        raise StatusError("MALFORMED_VALUE_ERROR", "encodedList is not GZIP (RFC 1952)")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(compressed)) as stream:
            bitstring = stream.read(MAX_BITSTRING_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise StatusError("MALFORMED_VALUE_ERROR", f"bad GZIP: {exc}") from exc
    if len(bitstring) > MAX_BITSTRING_BYTES:
        raise StatusError("MALFORMED_VALUE_ERROR", "bitstring larger than 64 MiB: refused")
    return bitstring


def parse_status_size(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StatusError("MALFORMED_VALUE_ERROR", "statusSize must be an integer > 0")
    return value


def parse_status_index(value: Any) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]+", value):
        raise StatusError("MALFORMED_VALUE_ERROR", "statusListIndex must be a base-10 integer string")
    return int(value)


def read_status(bitstring: bytes, index: int, status_size: int) -> int:
    total_bits = len(bitstring) * 8
    if total_bits // status_size < MIN_STATUS_ENTRIES:
        raise StatusError("STATUS_LIST_LENGTH_ERROR",
                          f"{total_bits // status_size} entries < {MIN_STATUS_ENTRIES}")
    start = index * status_size
    if start + status_size > total_bits:
        raise StatusError("RANGE_ERROR", f"index {index} is outside the list")
    value = 0
    for bit in range(start, start + status_size):
        value = (value << 1) | ((bitstring[bit >> 3] >> (7 - (bit & 7))) & 1)
    return value


def _status_entries(cred: dict) -> list[dict]:
    status = cred.get("credentialStatus")
    if status is None:
        return []
    entries = status if isinstance(status, list) else [status]
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("type"), (str, list)):
            raise StatusError("MALFORMED_VALUE_ERROR", "each credentialStatus entry must be an object with a type")
    return entries


def check_status_entry(entry: dict, lists: dict[str, bytes], at: dt.datetime | None) -> tuple[str, int, int]:
    types = entry["type"] if isinstance(entry["type"], list) else [entry["type"]]
    if "BitstringStatusListEntry" not in types:
        raise StatusError("MALFORMED_VALUE_ERROR", f"unsupported status entry type {entry['type']!r}")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusError("MALFORMED_VALUE_ERROR", "statusPurpose must be a string")
    index = parse_status_index(entry.get("statusListIndex"))
    size = parse_status_size(entry.get("statusSize"))
    if size > 1:
        messages = entry.get("statusMessage")
        if not isinstance(messages, list) or len(messages) != 2 ** size:
            raise StatusError("MALFORMED_VALUE_ERROR", "statusSize > 1 needs 2^statusSize statusMessage entries")
    url = entry.get("statusListCredential")
    if not isinstance(url, str) or not url:
        raise StatusError("MALFORMED_VALUE_ERROR", "statusListCredential must be a URL")
    if entry.get("id") is not None and entry.get("id") == url:
        raise StatusError("MALFORMED_VALUE_ERROR", "entry id must not be the status list URL")
    if url not in lists:
        raise StatusError("STATUS_RETRIEVAL_ERROR", f"no --list given for {url}")
    try:
        _, list_cred, _ = verify_any(lists[url], at)
    except StatusError:
        raise
    except Invalid as exc:
        raise StatusError("STATUS_VERIFICATION_ERROR", f"status list credential: {exc}") from exc
    ltypes = list_cred.get("type")
    ltypes = ltypes if isinstance(ltypes, list) else [ltypes]
    if "BitstringStatusListCredential" not in ltypes:
        raise StatusError("STATUS_VERIFICATION_ERROR", "list credential is not a BitstringStatusListCredential")
    if "id" in list_cred and list_cred["id"] != url:
        raise StatusError("STATUS_VERIFICATION_ERROR", f"list credential id {list_cred['id']!r} is not {url}")
    subject = list_cred.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        raise StatusError("MALFORMED_VALUE_ERROR", "list credentialSubject.type must be BitstringStatusList")
    list_purposes = subject.get("statusPurpose")
    list_purposes = list_purposes if isinstance(list_purposes, list) else [list_purposes]
    if purpose not in list_purposes:
        raise StatusError("STATUS_VERIFICATION_ERROR",
                          f"entry purpose {purpose!r} is not among the list's {list_purposes!r}")
    bitstring = decode_encoded_list(subject.get("encodedList"))
    return purpose, index, read_status(bitstring, index, size)


# ---------------------------------------------------------------------------
# Commands

def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _at(value: str | None) -> dt.datetime:
    return parse_instant(value) if value else now_utc()


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        kind, doc, signers = verify_any(_read(args.file), _at(args.at), args.purpose)
        iss = issuer_id(doc)
        match = all(s == iss for s in signers)
        if args.issuer_must_match and not match:
            raise Invalid(f"issuer {iss!r} is not the signer {signers[0]!r}")
    except Invalid as exc:
        print(f"INVALID: {exc}")
        print(f"vc_check: invalid: {exc}", file=sys.stderr)
        return 1
    label = "di eddsa-jcs-2022" if kind == "di" else "vc+jwt EdDSA"
    print(f"VALID {label} signer={','.join(signers)} issuer={'signer' if match else iss}")
    return 0


def _created(value: str | None) -> str:
    if value is None:
        return now_utc().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    parse_instant(value)
    if not is_datetime(value, require_tz=True):
        raise Invalid(f"--created is not an RFC 3339 / XML dateTimeStamp: {value!r}")
    return value


def cmd_sign(args: argparse.Namespace) -> int:
    try:
        key = Key.load(args.key)
        doc = strict_loads(_read(args.file))
        created = _created(args.created)
        if isinstance(doc, dict) and issuer_id(doc) != key.did:
            print(f"vc_check: warning: issuer {issuer_id(doc)!r} is not the key's DID {key.did}",
                  file=sys.stderr)
        if args.format == "di":
            out = json.dumps(di_sign(doc, key, created), indent=2, ensure_ascii=False) + "\n"
        else:
            out = jwt_sign(doc, key, created) + "\n"
    except Invalid as exc:
        print(f"vc_check: cannot sign: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


def cmd_jcs(args: argparse.Namespace) -> int:
    try:
        out = jcs(strict_loads(_read(args.file)))
    except Invalid as exc:
        print(f"vc_check: invalid: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0


def status_check(cred_bytes: bytes, list_files: dict[str, bytes], at: dt.datetime | None,
                 emit: Callable[[str], None]) -> int:
    """Prints one line per entry; returns the exit code."""
    try:
        _, cred, _ = verify_any(cred_bytes, at)
    except Invalid as exc:
        emit(f"INVALID credential: {exc}")
        return 1
    try:
        entries = _status_entries(cred)
    except StatusError as exc:
        emit(f"{exc.code}: {exc.detail}")
        return 1
    if not entries:
        emit("no credentialStatus entries")
        return 0
    rc = 0
    for entry in entries:
        purpose = entry.get("statusPurpose")
        index = entry.get("statusListIndex")
        try:
            purpose, index_n, value = check_status_entry(entry, list_files, at)
        except StatusError as exc:
            emit(f"{purpose} {index} {exc.code}: {exc.detail}")
            rc = 1
            continue
        line = f"{purpose} {index_n} = {value}"
        if value:
            rc = 1
            line += {"revocation": " revoked", "suspension": " suspended"}.get(purpose, f" ({purpose} set)")
        emit(line)
    return rc


def cmd_status_check(args: argparse.Namespace) -> int:
    lists: dict[str, bytes] = {}
    for item in args.list or []:
        url, sep, path = item.rpartition("=")
        if not sep or not url or not path:
            print(f"vc_check: --list wants URL=FILE, got {item!r}", file=sys.stderr)
            return 2
        lists[url] = _read(path)

    def emit(line: str) -> None:
        print(line)
        if "ERROR" in line or line.startswith("INVALID"):
            print(f"vc_check: {line}", file=sys.stderr)

    return status_check(_read(args.cred), lists, _at(args.at), emit)


def cmd_schema(args: argparse.Namespace) -> int:
    import jsonschema
    from jsonschema import Draft202012Validator

    try:
        schema = strict_loads(_read(args.schema))
        instance = strict_loads(_read(args.file))
    except Invalid as exc:
        print(f"vc_check: {exc}", file=sys.stderr)
        return 1
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        print(f"vc_check: not a valid draft 2020-12 schema: {exc.message}", file=sys.stderr)
        return 2
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        print(f"INVALID: {len(errors)} schema error(s)")
        for err in errors:
            path = "/" + "/".join(str(p) for p in err.absolute_path)
            print(f"  {path}: {err.message}", file=sys.stderr)
        return 1
    print("VALID schema")
    return 0


# ---------------------------------------------------------------------------
# Self-test over spec/vectors

def _default_vectors() -> Path:
    env = os.environ.get("VC_VECTORS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "spec" / "vectors"


def selftest(vdir: Path) -> int:
    at = parse_instant("2026-01-01T00:00:00Z")  # fixed instant: results do not depend on the clock
    results: list[tuple[str, str | None]] = []

    def check(name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
            results.append((name, None))
        except Exception as exc:  # noqa: BLE001 - report every failure
            results.append((name, f"{type(exc).__name__}: {exc}"))

    def rd(rel: str) -> bytes:
        return (vdir / rel).read_bytes()

    def txt(rel: str) -> str:
        return rd(rel).decode("utf-8").strip()

    def expect_valid(rel: str) -> Callable[[], None]:
        return lambda: verify_any(rd(rel), at)

    def expect_invalid_bytes(data: bytes, what: str) -> Callable[[], None]:
        def fn() -> None:
            try:
                verify_any(data, at)
            except Invalid:
                return
            raise AssertionError(f"{what} was accepted")
        return fn

    def expect_invalid(rel: str) -> Callable[[], None]:
        return lambda: expect_invalid_bytes(rd(rel), rel)()

    def eq(a: Any, b: Any, what: str) -> None:
        if a != b:
            raise AssertionError(f"{what}: {a!r} != {b!r}")

    # --- base58btc
    def t_b58() -> None:
        for raw in (b"", b"\x00", b"\x00\x00\x01", b"\x00\x00", bytes(range(256)), b"\xff" * 40):
            eq(b58decode(b58encode(raw)), raw, "base58 round trip")
        eq(b58encode(b"\x00\x00\x00"), "111", "zeros")
        eq(b58encode(b"hello world"), "StV1DL6CwTryKyV", "known base58")
    check("base58btc round trips and leading zeros", t_b58)

    # --- did:key
    def t_didkey() -> None:
        ccg = strict_loads(rd("did-key/ed25519-x25519.ccg-did-method-key.json"))
        for did, entry in ccg.items():
            eq(Key(bytes.fromhex(entry["seed"])).did, did, "CCG seed -> did:key")
            resolve_did_key(did)
        pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        eq("did:key:" + multikey_from_public(pub),
           "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw", "RFC 8032 TEST 1 did:key")
        doc = strict_loads(rd("did-key/did-document-example.multikey.json"))
        vm = doc["verificationMethod"][0]
        eq(resolve_verification_method(vm["id"])[1], public_from_multikey(vm["publicKeyMultibase"]), "VM")
        for bad in ("did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj",  # identity point
                    "did:key:2:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
                    "did:key:6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
                    "did:web:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
                    "did:key:z" + b58encode(b"\xed\x01" + pub[:31])):
            try:
                resolve_did_key(bad)
            except Invalid:
                continue
            raise AssertionError(f"accepted {bad}")
        # libsodium itself refuses the identity-key forgery (R = identity, S = 0), independent of our check
        try:
            nacl.signing.VerifyKey(IDENTITY_POINT).verify(b"any message", IDENTITY_POINT + bytes(32))
        except nacl.exceptions.BadSignatureError:
            pass
        else:
            raise AssertionError("libsodium accepted the identity-key forgery")
        good = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
        for bad_vm in (good, good + "#key-1", good + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"):
            try:
                resolve_verification_method(bad_vm)
            except Invalid:
                continue
            raise AssertionError(f"accepted VM {bad_vm}")
    check("did:key vectors (CCG seeds, RFC 8032 TEST 1, weak/invalid DIDs rejected)", t_didkey)

    # --- RFC 8032 signatures via PyNaCl
    def t_rfc8032() -> None:
        for t in strict_loads(rd("rfc8032/section-7.1-tests-1-3.json"))["tests"]:
            k = Key(bytes.fromhex(t["secretKeyHex"]))
            eq(k.public.hex(), t["publicKeyHex"], t["name"] + " public key")
            eq(k.sign(bytes.fromhex(t["messageHex"])).hex(), t["signatureHex"], t["name"] + " signature")
    check("RFC 8032 §7.1 TEST 1-3", t_rfc8032)

    # --- JCS
    def t_jcs_files() -> None:
        for inp in sorted((vdir / "jcs-rfc8785/input").glob("*.json")):
            eq(jcs(strict_loads(inp.read_bytes())), (vdir / "jcs-rfc8785/output" / inp.name).read_bytes(),
               f"JCS {inp.name}")
    check("RFC 8785 cyberphone input/output byte-exact", t_jcs_files)

    def t_jcs_numbers() -> None:
        samples = strict_loads(rd("jcs-rfc8785/rfc8785-appendix-b-numbers.json"))["samples"]
        for s in samples:
            value = struct.unpack(">d", bytes.fromhex(s["ieee754Hex"]))[0]
            if s.get("expected") is None or not math.isfinite(value):
                try:
                    jcs(value)
                except Invalid:
                    continue
                raise AssertionError(f"{s['ieee754Hex']} serialized")
            eq(jcs(value).decode(), s["expected"], s["ieee754Hex"])
        sort_in = strict_loads(rd("jcs-rfc8785/rfc8785-3.2.3-sorting-input.json"))
        order = strict_loads(rd("jcs-rfc8785/rfc8785-3.2.3-sorting-expected-order.json"))
        eq(list(json.loads(jcs(sort_in)).keys()), order["expectedPropertyOrder"], "UTF-16 key order")
        rows = rd("derived/jcs-numbers.es6.csv").decode().splitlines()[1:]
        for row in rows:
            hexv, es6, source = row.split(",")
            value = struct.unpack(">d", bytes.fromhex(hexv))[0]
            eq(jcs(value).decode(), es6, f"format {hexv}")
            parsed = float(source)
            if parsed != value:
                raise AssertionError(f"parse {source} -> {parsed!r}, want {hexv}")
            eq(jcs(json.loads(source, parse_int=float)).decode(), es6, f"canonicalize {source}")
    check("RFC 8785 Appendix B, §3.2.3 sorting, 7124-row ES6 number sample", t_jcs_numbers)

    def t_tricky() -> None:
        canon = jcs(strict_loads(rd("derived/eddsa-jcs-2022.tricky-jcs.unsigned.json")))
        eq(canon, rd("derived/eddsa-jcs-2022.tricky-jcs.canonical.txt"), "tricky canonical")
        eq(hashlib.sha256(canon).hexdigest(), txt("derived/eddsa-jcs-2022.tricky-jcs.docHash.txt"), "docHash")
    check("tricky-jcs canonical form byte-exact + docHash", t_tricky)

    def t_strict_json() -> None:
        for bad in (b'{"a":1,"a":2}', b'{"a":9007199254740992}', b'{"a":-9007199254740992}',
                    b'{"a":NaN}', b'{"a":1e400}', b'{"a":"\\ud800"}', b'\xef\xbb\xbf{}', b'{"a":1}x'):
            try:
                strict_loads(bad)
            except Invalid:
                continue
            raise AssertionError(f"accepted {bad!r}")
        eq(strict_loads(b'{"a":9007199254740991,"b":-9007199254740991}')["a"], MAX_SAFE_INT, "max safe int")
    check("strict JSON: duplicate keys, big integers, NaN/Infinity, lone surrogates rejected", t_strict_json)

    # --- eddsa-jcs-2022 official vectors
    def t_official_intermediates() -> None:
        kp = strict_loads(rd("eddsa-jcs-2022/keyPair.json"))
        raw = b58decode(kp["privateKeyMultibase"][1:])
        key = Key(raw[2:])
        eq(key.multibase, kp["publicKeyMultibase"], "official key")
        unsigned = strict_loads(rd("eddsa-jcs-2022/unsigned.json"))
        eq(jcs(unsigned).decode(), txt("eddsa-jcs-2022/canonDocJCS.txt"), "canonDoc")
        eq(hashlib.sha256(jcs(unsigned)).hexdigest(), txt("eddsa-jcs-2022/docHashJCS.txt"), "docHash")
        config = strict_loads(rd("eddsa-jcs-2022/proofConfigJCS.json"))
        eq(jcs(config).decode(), txt("eddsa-jcs-2022/proofCanonJCS.txt"), "proofCanon")
        eq(hashlib.sha256(jcs(config)).hexdigest(), txt("eddsa-jcs-2022/proofHashJCS.txt"), "proofHash")
        eq(di_hash_data(config, unsigned).hex(), txt("eddsa-jcs-2022/combinedHashJCS.txt"), "combinedHash")
        signed = di_sign(unsigned, key, "2023-02-24T23:36:38Z")
        eq(signed["proof"]["proofValue"], txt("eddsa-jcs-2022/sigBTC58JCS.txt"), "sigBTC58")
        eq(b58decode(signed["proof"]["proofValue"][1:]).hex(), txt("eddsa-jcs-2022/sigHexJCS.txt"), "sigHex")
        eq(signed, strict_loads(rd("eddsa-jcs-2022/signedJCS.json")), "re-signed signedJCS.json")
    check("eddsa-jcs-2022 official intermediates + re-sign reproduces signedJCS.json", t_official_intermediates)
    check("eddsa-jcs-2022/signedJCS.json valid", expect_valid("eddsa-jcs-2022/signedJCS.json"))
    check("eddsa-rdfc-2022/signedDataInt.json rejected (wrong cryptosuite)",
          expect_invalid("eddsa-rdfc-2022/signedDataInt.json"))

    def t_tamper_official() -> None:
        signed = strict_loads(rd("eddsa-jcs-2022/signedJCS.json"))
        variants = []
        v = copy.deepcopy(signed); v["credentialSubject"]["alumniOf"] += "!"; variants.append(("subject", v))
        v = copy.deepcopy(signed); v["@context"] = v["@context"][:1]; variants.append(("context shortened", v))
        v = copy.deepcopy(signed); v["@context"] = list(reversed(v["@context"])); variants.append(("context order", v))
        v = copy.deepcopy(signed); del v["proof"]["@context"]; variants.append(("proof context removed", v))
        v = copy.deepcopy(signed); v["proof"]["proofPurpose"] = "authentication"; variants.append(("purpose", v))
        v = copy.deepcopy(signed); v["proof"]["cryptosuite"] = "eddsa-rdfc-2022"; variants.append(("suite", v))
        v = copy.deepcopy(signed); v["proof"]["proofValue"] = v["proof"]["proofValue"][1:]
        variants.append(("proofValue without z", v))
        vm = v["proof"]["verificationMethod"]
        v = copy.deepcopy(signed); v["proof"]["verificationMethod"] = vm.split("#")[0] + "#key-1"
        variants.append(("vm fragment", v))
        for what, doc in variants:
            expect_invalid_bytes(json.dumps(doc).encode(), what)()
        # appending a context after the signed prefix is allowed by the prefix rule,
        # but the unsecured document then gets the proof's context: still verifies
        v = copy.deepcopy(signed); v["@context"].append("https://example.org/extra/v1")
        verify_any(json.dumps(v).encode(), at)
        # duplicate key in the secured text must be rejected even if the signature would verify
        text = rd("eddsa-jcs-2022/signedJCS.json").decode()
        dup = text.replace('"name": "Alumni Credential",', '"name": "X", "name": "Alumni Credential",', 1)
        assert dup != text
        expect_invalid_bytes(dup.encode(), "duplicate key")()
    check("tampered/altered signedJCS.json variants rejected; context prefix rule", t_tamper_official)

    # --- derived vectors
    for rel in sorted(p.relative_to(vdir).as_posix() for p in (vdir / "derived").glob("*.reject.*")):
        if rel.endswith(".jws"):
            continue  # plain JWS without kid: checked with the RFC 8037 key below
        check(f"{rel} rejected", expect_invalid(rel))
    for rel, prefix in (("derived/eddsa-jcs-2022.sig-1-leading-zero-byte.json", "z1"),
                        ("derived/eddsa-jcs-2022.sig-2-leading-zero-bytes.json", "z11")):
        def t_lz(rel: str = rel, prefix: str = prefix) -> None:
            verify_any(rd(rel), at)
            signed = strict_loads(rd(rel))
            pv = signed["proof"]["proofValue"]
            assert pv.startswith(prefix) and not pv.startswith(prefix + "1"), pv
            eq(len(b58decode(pv[1:])), 64, "decoded length")
            kp = strict_loads(rd("eddsa-jcs-2022/keyPair.json"))
            key = Key(b58decode(kp["privateKeyMultibase"][1:])[2:])
            unsigned = {k: v for k, v in signed.items() if k != "proof"}
            eq(di_sign(unsigned, key, signed["proof"]["created"]), signed, "re-sign")
        check(f"{rel} valid and reproduced", t_lz)

    def t_tricky_signed() -> None:
        verify_any(rd("derived/eddsa-jcs-2022.tricky-jcs.signed.json"), at)
        signed = strict_loads(rd("derived/eddsa-jcs-2022.tricky-jcs.signed.json"))
        kp = strict_loads(rd("eddsa-jcs-2022/keyPair.json"))
        key = Key(b58decode(kp["privateKeyMultibase"][1:])[2:])
        unsigned = strict_loads(rd("derived/eddsa-jcs-2022.tricky-jcs.unsigned.json"))
        eq(di_sign(unsigned, key, "2025-01-01T00:00:00Z")["proof"]["proofValue"],
           signed["proof"]["proofValue"], "tricky re-sign")
    check("tricky-jcs signed valid and re-sign gives the same proofValue", t_tricky_signed)

    # --- JOSE
    a1 = strict_loads(rd("rfc8037/a1-private.jwk.json"))
    rfc8037_key = Key(b64url_decode_strict(a1["d"], "d"))

    def t_rfc8037() -> None:
        eq(b64url_encode(rfc8037_key.public), a1["x"], "A.1 x")
        token = txt("rfc8037/a4-compact.jws")
        jws_verify_with_key(token, rfc8037_key.public)
        eq(jws_sign_compact({"alg": "EdDSA"}, b"Example of Ed25519 signing", rfc8037_key), token, "A.4")
        try:
            jws_verify_with_key(txt("derived/rfc8037-a4.reject.malleable-s-plus-l.jws"), rfc8037_key.public)
        except Invalid:
            pass
        else:
            raise AssertionError("S+L JWS accepted")
        # base64url malleability: change the last payload character without changing the bytes
        h, p, s = token.split(".")
        alt = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                   if c != p[-1] and base64.urlsafe_b64decode(p[:-1] + c + "=" * (-len(p) % 4))
                   == base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
        try:
            jws_verify_with_key(f"{h}.{p[:-1]}{alt}.{s}", rfc8037_key.public)
        except Invalid:
            pass
        else:
            raise AssertionError("non-canonical base64url accepted")
    check("RFC 8037 A.4 reproduced/verified; S+L and non-canonical base64url rejected", t_rfc8037)

    check("vc-jose-cose/derived-eddsa-vc.jwt valid", expect_valid("vc-jose-cose/derived-eddsa-vc.jwt"))

    def t_jwt_more() -> None:
        token = txt("vc-jose-cose/derived-eddsa-vc.jwt")
        h, p, s = token.split(".")
        payload, _ = jwt_verify(token, at)
        eq(payload, strict_loads(rd("vc-jose-cose/derived-eddsa-vc.payload.json")), "payload")
        header_bytes = b64url_decode_strict(h, "h")
        payload_bytes = b64url_decode_strict(p, "p")
        eq(jws_sign_compact(strict_loads(header_bytes), payload_bytes, rfc8037_key), token,
           "re-sign derived JWT byte-for-byte")
        # our own JWT signing: verify round trip, iss and iat present
        doc = strict_loads(rd("vc-jose-cose/derived-eddsa-vc.payload.json"))
        mine = jwt_sign(doc, rfc8037_key, "2025-01-01T00:00:00Z")
        got, _ = jwt_verify(mine, at)
        eq(got["iss"], doc["issuer"], "iss")
        eq(got["iat"], 1735689600, "iat")
        bad_tokens = {
            "padding": f"{h}.{p}=.{s}",
            "two segments": f"{h}.{p}",
            "alg none": b64url_encode(b'{"alg":"none","kid":"x"}') + f".{p}.",
            "alg HS256": b64url_encode(json.dumps({"alg": "HS256", "typ": "vc+jwt",
                                                   "kid": strict_loads(b64url_decode_strict(h, "h"))["kid"]}
                                                  ).encode()) + f".{p}.{s}",
            "flipped signature": f"{h}.{p}.{s[:10]}{'A' if s[10] != 'A' else 'B'}{s[11:]}",
        }
        # non-canonical last character: find a char with the same decoded bytes
        for seg_name, seg in (("header", h), ("payload", p), ("signature", s)):
            alt = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                   if c != seg[-1] and len(seg) % 4 in (2, 3)
                   and base64.urlsafe_b64decode(seg[:-1] + c + "=" * (-len(seg) % 4))
                   == base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))]
            if alt:
                parts = [h, p, s]
                parts[("header", "payload", "signature").index(seg_name)] = seg[:-1] + alt[0]
                bad_tokens[f"non-canonical base64url {seg_name}"] = ".".join(parts)
        if not any(k.startswith("non-canonical") for k in bad_tokens):
            raise AssertionError("no non-canonical variant could be built")
        for what, tok in bad_tokens.items():
            expect_invalid_bytes(tok.encode(), what)()
        # iss that differs from issuer
        fake = dict(doc, iss="did:example:other")
        tok = jws_sign_compact(strict_loads(b64url_decode_strict(h, "h")), jcs(fake), rfc8037_key)
        expect_invalid_bytes(tok.encode(), "iss mismatch")()
        # vc claim must not be present
        fake = dict(doc, vc={})
        tok = jws_sign_compact(strict_loads(b64url_decode_strict(h, "h")), jcs(fake), rfc8037_key)
        expect_invalid_bytes(tok.encode(), "vc claim")()
    check("VC-JWT: payload, re-sign, own sign round trip, malformed/forged variants rejected", t_jwt_more)

    # --- Bitstring Status List
    def t_bsl_lists() -> None:
        data = strict_loads(rd("derived/bsl.lists.json"))
        for lst in data["lists"]:
            size = lst["statusSize"]
            for chk in lst["checks"]:
                try:
                    got: Any = read_status(decode_encoded_list(lst["encodedList"]), chk["index"], size)
                except StatusError as exc:
                    got = exc.code
                want = chk.get("value", chk.get("error"))
                if want == "MALFORMED":
                    want = "MALFORMED_VALUE_ERROR"
                eq(got, want, f"{lst['name']}[{chk['index']}]")
        expected = strict_loads(rd("bitstring-status-list/expected-bits.json"))
        for lst in expected["lists"]:
            bits = decode_encoded_list(lst["encodedList"])
            eq(len(bits), lst["uncompressedBytes"], lst["name"] + " length")
            for chk in lst["checks"]:
                try:
                    got = read_status(bits, chk["index"], 1)
                except StatusError as exc:
                    got = exc.code
                if lst.get("meetsMinimum131072", True):
                    eq(got, chk["bit"], f"{lst['name']}[{chk['index']}]")
                else:
                    eq(got, "STATUS_LIST_LENGTH_ERROR", lst["name"])
            for b in lst["setBits"]:
                eq((bits[b >> 3] >> (7 - (b & 7))) & 1, 1, f"{lst['name']} set bit {b}")
    check("Bitstring Status List: derived lists and expected-bits (MSB first, length, range, malformed)",
          t_bsl_lists)

    url = "https://status.example/credentials/status/1"
    list_bytes = {url: rd("derived/bsl.status-list-credential.signed.json")}
    for rel, want_rc, want_text in (
            ("derived/bsl.credential-active-idx6.signed.json", 0, "revocation 6 = 0"),
            ("derived/bsl.credential-revoked-idx7.signed.json", 1, "revocation 7 = 1 revoked"),
            ("derived/bsl.credential-wrong-purpose.signed.json", 1, "STATUS_VERIFICATION_ERROR")):
        def t_status(rel: str = rel, want_rc: int = want_rc, want_text: str = want_text) -> None:
            lines: list[str] = []
            rc = status_check(rd(rel), list_bytes, at, lines.append)
            eq(rc, want_rc, f"{rel} exit code ({lines})")
            if not any(want_text in line for line in lines):
                raise AssertionError(f"{rel}: {lines} lacks {want_text!r}")
        check(f"status-check {rel.split('/')[-1]} -> {want_text}", t_status)

    def t_status_tampered_list() -> None:
        lst = strict_loads(list_bytes[url])
        lst["credentialSubject"]["encodedList"] = strict_loads(rd("bitstring-status-list/expected-bits.json")
                                                               )["lists"][0]["encodedList"]
        lines: list[str] = []
        rc = status_check(rd("derived/bsl.credential-revoked-idx7.signed.json"),
                          {url: json.dumps(lst).encode()}, at, lines.append)
        eq(rc, 1, "rc")
        assert any("STATUS_VERIFICATION_ERROR" in line for line in lines), lines
        lines = []
        rc = status_check(rd("derived/bsl.credential-active-idx6.signed.json"), {}, at, lines.append)
        eq(rc, 1, "missing list rc")
        assert any("STATUS_RETRIEVAL_ERROR" in line for line in lines), lines
    check("status-check: tampered list credential / missing list rejected", t_status_tampered_list)

    failed = [(n, e) for n, e in results if e]
    for name, err in results:
        print(f"{'ok  ' if err is None else 'FAIL'} {name}" + (f"\n     {err}" if err else ""))
    print(f"selftest: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def cmd_selftest(args: argparse.Namespace) -> int:
    vdir = Path(args.vectors) if args.vectors else _default_vectors()
    if not (vdir / "eddsa-jcs-2022").is_dir():
        print(f"vc_check: no vectors at {vdir}", file=sys.stderr)
        return 2
    return selftest(vdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vc_check.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("verify", help="verify a Data Integrity (eddsa-jcs-2022) credential or a vc+jwt")
    p.add_argument("file")
    p.add_argument("--at", help="validity instant (RFC 3339); default now")
    p.add_argument("--purpose", default="assertionMethod", help="expected proofPurpose")
    p.add_argument("--issuer-must-match", action="store_true",
                   help="also require issuer (or issuer.id) to be the signing DID")
    p.set_defaults(fn=cmd_verify)

    p = sub.add_parser("sign", help="sign a credential")
    p.add_argument("--key", required=True)
    p.add_argument("--format", choices=("di", "jwt"), default="di")
    p.add_argument("--created", help="proof created / JWT iat (RFC 3339); default now")
    p.add_argument("file")
    p.set_defaults(fn=cmd_sign)

    p = sub.add_parser("jcs", help="print the RFC 8785 canonical form")
    p.add_argument("file")
    p.set_defaults(fn=cmd_jcs)

    p = sub.add_parser("status-check", help="Bitstring Status List v1.0 check")
    p.add_argument("cred")
    p.add_argument("--list", action="append", metavar="URL=FILE", required=True)
    p.add_argument("--at", help="validity instant (RFC 3339); default now")
    p.set_defaults(fn=cmd_status_check)

    p = sub.add_parser("schema", help="validate JSON against a draft 2020-12 JSON Schema")
    p.add_argument("schema")
    p.add_argument("file")
    p.set_defaults(fn=cmd_schema)

    p = sub.add_parser("selftest", help="run over spec/vectors")
    p.add_argument("--vectors", help="vectors directory (default: spec/vectors of this repo)")
    p.set_defaults(fn=cmd_selftest)

    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except OSError as exc:
        print(f"vc_check: {exc}", file=sys.stderr)
        return 2
    except Invalid as exc:  # e.g. a bad --at / --created
        print(f"vc_check: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
