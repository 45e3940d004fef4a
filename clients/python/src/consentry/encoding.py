"""Canonical codecs: base64url (unpadded), base64 (padded), base58-btc and multibase.

Every decoder refuses non-canonical spellings (padding where there should be none, non-zero
trailing bits, characters outside the alphabet), because signatures cover the encoded text.
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import EncodingError as EncodingError

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decodes canonical unpadded base64url: no padding, no other characters, zero trailing bits."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise EncodingError(f"not canonical unpadded base64url: {text[:40]!r}")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as e:  # pragma: no cover - regex guards
        raise EncodingError(f"not base64url: {e}") from None
    if b64url_encode(data) != text:
        raise EncodingError("non-canonical base64url (non-zero trailing bits)")
    return data


def b64_encode(data: bytes) -> str:
    """Standard padded base64 (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes:
    """Decodes canonical padded standard base64 (unused bits zero)."""
    if not _B64.match(text):
        raise EncodingError(f"not canonical base64: {text[:40]!r}")
    data = base64.b64decode(text)
    if base64.b64encode(data).decode("ascii") != text:
        raise EncodingError("non-canonical base64 (non-zero trailing bits)")
    return data


_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}


def b58_encode(data: bytes) -> str:
    """Base58-btc (Bitcoin alphabet); each leading zero byte becomes ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58_decode(text: str) -> bytes:
    """Decodes base58-btc; refuses characters outside the alphabet. Leading ``1``s are zero bytes."""
    n = 0
    for c in text:
        i = _INDEX.get(c)
        if i is None:
            raise EncodingError(f"invalid base58-btc character {c!r}")
        n = n * 58 + i
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    data = b"\0" * zeros + body
    if b58_encode(data) != text:  # pragma: no cover - base58 is a bijection
        raise EncodingError("non-canonical base58-btc")
    return data


def multibase_decode(text: str) -> bytes:
    """Decodes a multibase base58-btc value (``z`` prefix)."""
    if not text.startswith("z"):
        raise EncodingError(f"multibase value must be base58-btc ('z' prefix): {text[:20]!r}")
    return b58_decode(text[1:])


def multibase_encode(data: bytes) -> str:
    """``z`` + base58-btc."""
    return "z" + b58_encode(data)
