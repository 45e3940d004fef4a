#!/usr/bin/env python3
"""Checks demo/records.jsonl (or FILE) without Rust: the rules of `parse_import` in src/node/data.rs
that can be checked from the file alone, plus the data set's own promises.

    python3 demo/check_records.py [FILE]

Per line: strict JSON (no duplicate member names, integers within ±(2^53 − 1), finite numbers); the
members uscc, category, date, provider (strings) and fields (an object); a valid Unified Social
Credit Code (GB 32100-2015 check and the GB 11714-1997 organization-code check, computed here
independently of make_records.py); a category of spec/catalog.json and one of its providers; a real
calendar date YYYY-MM-DD. Over the file: every enterprise has records in every category, and the
monthly categories cover 2024-01 .. 2026-10 without gaps. Exit status 1 on the first kind of problem,
with every problem listed.
"""

import collections
import datetime
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MONTHLY = ("TAX-03", "TAX-06", "SOC-01", "SOC-02", "HPF-01", "UTL-01", "UTL-02", "UTL-03", "CUS-02")
INDICATOR_FIELDS = ("status", "grade", "rating", "level", "result", "creditGrade")  # derive() in src/node/data.rs


def uscc_problem(code: str):
    if len(code) != 18:
        return f"length {len(code)}"
    bad = [c for c in code if c not in CHARSET]
    if bad:
        return f"characters {bad} outside GB 32100"
    if not code[2:8].isdigit():
        return "positions 3-8 are not a division code"
    s = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(code[8:16], (3, 7, 9, 10, 5, 8, 4, 2)))
    c9 = {10: "X", 11: "0"}.get(11 - s % 11, str(11 - s % 11))
    if code[16] != c9:
        return f"organization-code check is {code[16]}, expected {c9}"
    s = sum(CHARSET.index(c) * w for c, w in zip(code[:17], [pow(3, i, 31) for i in range(17)]))
    c18 = CHARSET[(31 - s % 31) % 31]
    if code[17] != c18:
        return f"check character is {code[17]}, expected {c18}"
    return None


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"duplicate member names {sorted(dup)}")
    return dict(pairs)


def strict_int(text):
    v = int(text)
    if abs(v) > 2**53 - 1:
        raise ValueError(f"integer {text} beyond ±(2^53 − 1)")
    return v


def refuse_constant(text):
    raise ValueError(f"{text} is not JSON")


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "demo" / "records.jsonl"
    catalog = json.loads((ROOT / "spec" / "catalog.json").read_text("utf-8"))
    providers = {c["code"]: set(c["providers"]) for c in catalog["categories"]}
    problems = []
    seen = collections.defaultdict(set)  # (uscc, category) -> months
    per_cat = collections.Counter()
    n = 0
    for i, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        n += 1
        try:
            r = json.loads(line, object_pairs_hook=no_duplicates, parse_int=strict_int, parse_constant=refuse_constant)
        except ValueError as err:
            problems.append(f"line {i}: {err}")
            continue
        if not isinstance(r, dict) or not all(isinstance(r.get(k), str) for k in ("uscc", "category", "date", "provider")):
            problems.append(f"line {i}: needs uscc, category, date, provider (strings)")
            continue
        if not isinstance(r.get("fields"), dict):
            problems.append(f"line {i}: fields must be an object")
        if set(r) - {"uscc", "category", "date", "provider", "fields"}:
            problems.append(f"line {i}: unexpected members {sorted(set(r) - {'uscc', 'category', 'date', 'provider', 'fields'})}")
        u, cat, date, prov = r["uscc"], r["category"], r["date"], r["provider"]
        if (why := uscc_problem(u)) is not None:
            problems.append(f"line {i}: uscc {u}: {why}")
            continue  # not an enterprise of the set: keep it out of the coverage checks
        if cat not in providers:
            problems.append(f"line {i}: unknown category {cat}")
        elif prov not in providers[cat]:
            problems.append(f"line {i}: {cat} is provided by {'/'.join(sorted(providers[cat]))}, not {prov}")
        try:
            ok = re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and datetime.date.fromisoformat(date)
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"line {i}: date {date!r} is not YYYY-MM-DD")
        for k, v in (r.get("fields") or {}).items():
            if not re.fullmatch(r"[a-z][A-Za-z0-9]*", k):
                problems.append(f"line {i}: field name {k!r} is not camelCase")
            if k in INDICATOR_FIELDS and not isinstance(v, str):
                problems.append(f"line {i}: indicator field {k} should be a string, got {v!r}")
            if isinstance(v, (dict, list)):
                problems.append(f"line {i}: field {k} is nested; derive() only reads top-level values")
        seen[(u, cat)].add(date[:7])
        per_cat[cat] += 1
    usccs = sorted({u for u, _ in seen})
    for u in usccs:
        for cat in providers:
            if (u, cat) not in seen:
                problems.append(f"{u}: no records in {cat}")
        for cat in MONTHLY:
            want = {f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13) if (y, m) <= (2026, 10)}
            if want - seen.get((u, cat), set()):
                problems.append(f"{u}: {cat} misses months {sorted(want - seen[(u, cat)])}")
    for p in problems:
        print(p, file=sys.stderr)
    groups = collections.Counter()
    for cat, k in per_cat.items():
        groups[cat.split("-")[0]] += k
    print(f"{path}: {n} records, {len(usccs)} enterprises, {len(per_cat)}/{len(providers)} categories; "
          + ", ".join(f"{g} {k}" for g, k in sorted(groups.items())))
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
