"""Ed25519 keys, ``did:key`` identities and the project's key file format.

A :class:`PublicKey` can only be made from a canonical encoding of a curve point that is not of
small order ("weak"): with the identity point as key the pair R = identity, S = 0 verifies for
every message. Verification is strict (libsodium: S < L, R and A not of small order, canonical
encodings), like ed25519-dalek's ``verify_strict``.

Key file (``enterprise.key.json``, ``node.key.json``)::

    {"did": "did:key:z6Mk…", "publicKeyMultibase": "z6Mk…", "secretKeyMultibase": "z3u2…"}

``secretKeyMultibase`` is ``z`` + base58-btc of ``80 26`` (multicodec ed25519-priv) + the 32-byte
seed; ``publicKeyMultibase`` is ``z`` + base58-btc of ``ed 01`` + the 32-byte public key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions

from .encoding import multibase_decode, multibase_encode
from .errors import EncodingError, InvalidKey, SignatureError

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decompress(b: bytes) -> tuple[int, int] | None:
    """The affine point of a canonical encoding, or None (not on the curve or non-canonical)."""
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    vx2 = (v * x * x) % _P
    if vx2 == u:
        pass
    elif vx2 == (-u) % _P:
        x = (x * _SQRT_M1) % _P
    else:
        return None
    if x == 0 and sign:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x, y


def _double(pt: tuple[int, int]) -> tuple[int, int]:
    x, y = pt
    xx, yy = x * x % _P, y * y % _P
    dxy = _D * xx * yy % _P
    x3 = 2 * x * y * pow(1 + dxy, _P - 2, _P) % _P
    y3 = (yy + xx) * pow(1 - dxy, _P - 2, _P) % _P
    return x3, y3


@lru_cache(maxsize=4096)
def check_public_key(b: bytes) -> None:
    """Raises :class:`InvalidKey` unless ``b`` is a canonical, large-order Ed25519 point."""
    if len(b) != 32:
        raise InvalidKey(f"invalidPublicKeyLength: Ed25519 public key must be 32 bytes, not {len(b)}")
    pt = _decompress(b)
    if pt is None:
        raise InvalidKey("invalidPublicKey: not a canonical Ed25519 point encoding")
    q = pt
    for _ in range(3):
        q = _double(q)
    if q == (0, 1):
        raise InvalidKey("invalidPublicKey: weak (small-order) Ed25519 public key: forgeable, refused")


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key that is a canonical, non-weak point."""

    raw: bytes

    def __post_init__(self) -> None:
        check_public_key(bytes(self.raw))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Strict Ed25519 verification; raises :class:`SignatureError`."""
        if len(signature) != 64:
            raise SignatureError("signature must be 64 bytes")
        try:
            nacl.bindings.crypto_sign_open(bytes(signature) + bytes(message), self.raw)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
            raise SignatureError("signature does not verify") from None

    @property
    def multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
        return multibase_encode(ED25519_PUB + self.raw)

    @property
    def did(self) -> "DidKey":
        """The ``did:key`` of this key."""
        return DidKey(f"did:key:{self.multibase}", self)


def decode_public_multikey(text: str) -> PublicKey:
    """Decodes a ``publicKeyMultibase``: ``z``, header ``ed01``, 32 bytes, strong point."""
    try:
        data = multibase_decode(text)
    except EncodingError as e:
        raise InvalidKey(f"invalidDid: {e.message}") from None
    if data[:2] != ED25519_PUB:
        raise InvalidKey("invalidPublicKey: multicodec is not ed01 (ed25519-pub)")
    return PublicKey(data[2:])


@dataclass(frozen=True)
class DidKey:
    """A parsed ``did:key`` for an Ed25519 key (holding one means the key is strong)."""

    did: str
    public_key: PublicKey

    @staticmethod
    def parse(did: str) -> "DidKey":
        """Parses ``did:key:z6Mk…``; refuses versioned forms, other codecs and weak keys."""
        return _parse_did(did)

    @staticmethod
    def from_verification_method(url: str) -> "DidKey":
        """Resolves ``did:key:z…#z…``; the fragment must be the key's own multibase value."""
        did, sep, fragment = url.partition("#")
        if not sep:
            raise InvalidKey(f"invalidDidUrl: {url!r} has no fragment")
        parsed = _parse_did(did)
        if fragment != parsed.multibase:
            raise InvalidKey(f"invalidDidUrl: {url} is not a verification method of its did:key")
        return parsed

    @property
    def multibase(self) -> str:
        """The method-specific id (``z6Mk…``)."""
        return self.did[len("did:key:"):]

    @property
    def verification_method(self) -> str:
        """``did:key:z…#z…``."""
        return f"{self.did}#{self.multibase}"

    def __str__(self) -> str:
        return self.did


@lru_cache(maxsize=4096)
def _parse_did(did: str) -> DidKey:
    if not did.startswith("did:key:"):
        raise InvalidKey(f"invalidDid: {did!r} does not start with did:key:")
    value = did[len("did:key:"):]
    if ":" in value:
        raise InvalidKey(f"invalidDid: {did!r}: versioned or extended did:key forms are not accepted")
    if not value.startswith("z"):
        raise InvalidKey(f"invalidDid: {did!r}: method-specific id must start with 'z'")
    return DidKey(did, decode_public_multikey(value))


class KeyPair:
    """An Ed25519 signing key with its ``did:key``. The seed is never printed by ``repr``."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise InvalidKey("Ed25519 seed must be 32 bytes")
        pk, sk = nacl.bindings.crypto_sign_seed_keypair(seed)
        self._seed = bytes(seed)
        self._sk = sk
        self.public_key = PublicKey(pk)
        self.did = self.public_key.did

    @classmethod
    def generate(cls) -> "KeyPair":
        """A fresh key from the operating system's CSPRNG."""
        return cls(os.urandom(32))

    @property
    def seed(self) -> bytes:
        """The 32-byte secret seed (handle with care)."""
        return self._seed

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        signed: bytes = nacl.bindings.crypto_sign(message, self._sk)
        return signed[:64]

    @property
    def verification_method(self) -> str:
        """``did:key:z…#z…``."""
        return self.did.verification_method

    def to_json(self) -> dict[str, str]:
        """The key file object (contains the secret)."""
        return {
            "did": self.did.did,
            "publicKeyMultibase": self.did.multibase,
            "secretKeyMultibase": multibase_encode(ED25519_PRIV + self._seed),
        }

    @classmethod
    def from_json(cls, obj: Any) -> "KeyPair":
        """Reads a key file object; checks that the three members agree."""
        if not isinstance(obj, dict):
            raise InvalidKey("not a key file: not a JSON object")
        secret = obj.get("secretKeyMultibase", obj.get("privateKeyMultibase"))
        allowed = {"did", "publicKeyMultibase", "secretKeyMultibase", "privateKeyMultibase"}
        unknown = set(obj) - allowed
        if unknown:
            raise InvalidKey(f"not a key file: unknown member {sorted(unknown)[0]!r}")
        if not all(isinstance(obj.get(k), str) for k in ("did", "publicKeyMultibase")) or not isinstance(secret, str):
            raise InvalidKey("not a key file: did, publicKeyMultibase and secretKeyMultibase are required strings")
        try:
            data = multibase_decode(secret)
        except EncodingError as e:
            raise InvalidKey(f"secretKeyMultibase: {e.message}") from None
        if data[:2] != ED25519_PRIV or len(data) != 34:
            raise InvalidKey("secretKeyMultibase: not 80 26 (ed25519-priv) + 32 bytes")
        kp = cls(data[2:])
        if decode_public_multikey(obj["publicKeyMultibase"]) != kp.public_key:
            raise InvalidKey("publicKeyMultibase is not the public key of secretKeyMultibase")
        if obj["did"] != kp.did.did:
            raise InvalidKey(f"did {obj['did']} does not match the key (expected {kp.did.did})")
        return kp

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "KeyPair":
        """Reads a key file."""
        from .jsonstrict import parse

        return cls.from_json(parse(Path(path).read_bytes()))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes a new key file (mode 0600); refuses to overwrite an existing file."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.to_json(), indent=2) + "\n")

    def __repr__(self) -> str:
        return f"KeyPair({self.did.did})"
