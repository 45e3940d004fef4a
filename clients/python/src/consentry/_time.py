"""XML Schema ``dateTimeStamp`` parsing and the ``YYYY-MM-DDTHH:MM:SSZ`` form this library writes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DTS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$"
)


def parse_datetime_stamp(value: str) -> datetime:
    """Parses a dateTimeStamp (time zone required, upper-case ``T``/``Z``, no ``24:00:00``).

    Raises ``ValueError`` with the reason.
    """
    m = _DTS.match(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a dateTimeStamp (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm))")
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    if m.group(8) == "Z":
        tz = timezone.utc
    else:
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 14 or om > 59 or (oh == 14 and om):
            raise ValueError(f"{value!r}: time-zone offset beyond ±14:00")
        off = timedelta(hours=oh, minutes=om)
        tz = timezone(-off if m.group(9) == "-" else off)
    try:
        return datetime(y, mo, d, h, mi, s, micro, tzinfo=tz)
    except ValueError as e:
        raise ValueError(f"{value!r} is not a valid date-time: {e}") from None


def shift(t: datetime, d: timedelta) -> datetime:
    """``t + d``, clamped to the representable range (``datetime.min`` / ``datetime.max`` in UTC)."""
    try:
        return t + d
    except OverflowError:
        return (datetime.max if d > timedelta(0) else datetime.min).replace(tzinfo=timezone.utc)


def format_utc(t: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, whole seconds."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(timezone.utc)
