#!/usr/bin/env python3
"""Cross-checks consentry's working-day calendar against the independent `chinesecalendar` package
(https://github.com/LKI/chinese-calendar), which carries its own transcription of the State Council's
yearly holiday notices.

Input on stdin: the output of `consentry calendar days FROM UNTIL` (date TAB kind). Prints one line
per disagreement and a summary `calendar: N checked, M failed`; exits 1 on any disagreement."""
import datetime
import sys

import chinese_calendar

checked = failed = 0
for line in sys.stdin:
    date_text, kind = line.rstrip("\n").split("\t")
    d = datetime.date.fromisoformat(date_text)
    working = chinese_calendar.is_workday(d)
    on_holiday, name = chinese_calendar.get_holiday_detail(d)
    if kind in ("workday", "make-up-workday"):
        ok = working and (kind == "workday") == (d.weekday() < 5)
    elif kind == "holiday":
        ok = not working and name is not None
    elif kind == "weekend":
        ok = not working and name is None and d.weekday() >= 5
    else:
        ok = False
    checked += 1
    if not ok:
        failed += 1
        print(f"{d}: consentry says {kind}, chinesecalendar says workday={working} holiday={name}")
print(f"calendar: {checked} checked, {failed} failed")
sys.exit(1 if failed else 0)
