"""Strict JSON (I-JSON, RFC 7493) parsing and RFC 8785 (JCS) canonicalization.

:func:`parse` refuses duplicate member names, lone surrogates, ``NaN``/``Infinity``, numbers that
overflow a double, nesting deeper than 128, and integer literals beyond ±(2^53 − 1) that are not
exactly an IEEE double nor the ECMAScript spelling of the double they read as (spec/grant.md
§2.1). Accepted large integers become that double (a ``float``), so they canonicalize as JCS writes
them (``1e+21``).

:func:`canonicalize` is RFC 8785: members sorted by UTF-16 code units, ECMAScript number
formatting, minimal string escapes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import JsonError

MAX_SAFE_INTEGER = (1 << 53) - 1
MAX_DEPTH = 128

JsonValue = Any
"""A parsed JSON value: dict, list, str, int, float, bool or None."""


def _has_surrogate(s: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in s)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise JsonError(f"duplicate member name {k!r}: I-JSON forbids it (RFC 7493 §2.3)", "duplicate-key")
        if _has_surrogate(k):
            raise JsonError("lone surrogate in a member name (RFC 7493 §2.1)")
        out[k] = v
    return out


def _int(lit: str) -> int | float:
    n = int(lit)
    if -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER:
        return n
    f = float(lit)
    if math.isinf(f):
        raise JsonError(f"number {lit} overflows an IEEE double")
    if int(f) == n or number_to_string(f) == lit:
        return f
    raise JsonError(
        f"integer {lit} is not exactly an IEEE double: JCS would round it to "
        f"{int(f)} (RFC 8785 §3.2.2.3)",
        "unsafe-integer",
    )


def _float(lit: str) -> float:
    f = float(lit)
    if math.isinf(f) or math.isnan(f):
        raise JsonError(f"number {lit} overflows an IEEE double")
    return f


def _constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON")


def _check(v: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise JsonError(f"nested deeper than {MAX_DEPTH}")
    if isinstance(v, str):
        if _has_surrogate(v):
            raise JsonError("lone surrogate in a string (RFC 7493 §2.1)")
    elif isinstance(v, dict):
        for x in v.values():
            _check(x, depth + 1)
    elif isinstance(v, list):
        for x in v:
            _check(x, depth + 1)


def parse(text: str | bytes) -> JsonValue:
    """Parses strict I-JSON (UTF-8 bytes or a str). Raises :class:`JsonError` on any violation."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonError(f"not UTF-8: {e}") from None
    if text.startswith("\ufeff"):
        raise JsonError("byte order mark is not allowed")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except JsonError:
        raise
    except RecursionError:
        raise JsonError(f"nested deeper than {MAX_DEPTH}") from None
    except ValueError as e:
        raise JsonError(f"malformed JSON: {e}") from None
    _check(value, 0)
    return value


def number_to_string(f: float) -> str:
    """ECMAScript ``Number::toString`` for a finite double (RFC 8785 §3.2.2.3)."""
    if math.isnan(f) or math.isinf(f):
        raise JsonError("NaN and Infinity cannot be canonicalized", "not-a-finite-number")
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    r = repr(abs(f))
    # repr gives the shortest round-trip digits: split into digits and decimal exponent.
    if "e" in r:
        mant, exp_s = r.split("e")
        exp = int(exp_s)
    else:
        mant, exp = r, 0
    if "." in mant:
        ip, fp = mant.split(".")
    else:
        ip, fp = mant, ""
    digits = (ip + fp).lstrip("0")
    # value = 0.<ip fp> * 10^(len(ip) + exp); strip leading zeros of the digit string
    n = len(ip) + exp - (len(ip + fp) - len((ip + fp).lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = f"e+{e}" if e >= 0 else f"e-{-e}"
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + es
    return sign + s


def _string(s: str) -> str:
    if _has_surrogate(s):
        raise JsonError("lone surrogate cannot be canonicalized")
    return json.dumps(s, ensure_ascii=False)


def _utf16_key(k: str) -> bytes:
    return k.encode("utf-16-be")


def _canon(v: Any, out: list[str], depth: int, sort: bool = True) -> None:
    if depth > MAX_DEPTH:
        raise JsonError(f"nested deeper than {MAX_DEPTH}")
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        if abs(v) > MAX_SAFE_INTEGER:
            f = float(v)
            if int(f) != v:
                raise JsonError(f"integer {v} is not exactly an IEEE double", "unsafe-integer")
            out.append(number_to_string(f))
        else:
            out.append(str(v))
    elif isinstance(v, float):
        out.append(number_to_string(v))
    elif isinstance(v, str):
        out.append(_string(v))
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _canon(x, out, depth + 1, sort)
        out.append("]")
    elif isinstance(v, dict):
        out.append("{")
        for i, k in enumerate(sorted(v, key=_utf16_key) if sort else list(v)):
            if not isinstance(k, str):
                raise JsonError("member names must be strings")
            if i:
                out.append(",")
            out.append(_string(k))
            out.append(":")
            _canon(v[k], out, depth + 1, sort)
        out.append("}")
    else:
        raise JsonError(f"cannot canonicalize a {type(v).__name__}")


def canonicalize(value: JsonValue) -> bytes:
    """The RFC 8785 canonical form of ``value``, as UTF-8 bytes."""
    out: list[str] = []
    _canon(value, out, 0)
    return "".join(out).encode("utf-8")


def serialize_compact(value: JsonValue) -> bytes:
    """Compact JSON in the members' insertion order (JCS strings and numbers, no sorting)."""
    out: list[str] = []
    _canon(value, out, 0, False)
    return "".join(out).encode("utf-8")


def canonicalize_text(text: str | bytes) -> bytes:
    """Parses ``text`` strictly, then canonicalizes it."""
    return canonicalize(parse(text))
