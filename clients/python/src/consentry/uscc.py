"""The Unified Social Credit Code check (GB 32100-2015 with GB 11714-1997), spec/grant.md §6.1."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_W18 = [pow(3, i, 31) for i in range(17)]
_W17 = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_error(code: str) -> str | None:
    """None if ``code`` is a valid USCC, else the reason (length, character, division digits,
    organization-code check or final check)."""
    if len(code) != 18:
        return f"must have 18 characters, not {len(code)}"
    for c in code:
        if c not in CHARSET:
            return f"character {c!r} is not in the USCC character set"
    if not code[2:8].isdigit():
        return "positions 3–8 (administrative division) must be digits"
    total = 0
    for c, w in zip(code[8:16], _W17):
        v = int(c) if c.isdigit() else ord(c) - ord("A") + 10
        total += v * w
    c17 = 11 - total % 11
    expected17 = "X" if c17 == 10 else "0" if c17 == 11 else str(c17)
    if code[16] != expected17:
        return f"organization-code check character is {code[16]!r}, expected {expected17!r}"
    s = sum(CHARSET.index(c) * w for c, w in zip(code[:17], _W18))
    c18 = (31 - s % 31) % 31
    if code[17] != CHARSET[c18]:
        return f"final check character is {code[17]!r}, expected {CHARSET[c18]!r}"
    return None


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is a valid USCC."""
    return uscc_error(code) is None
