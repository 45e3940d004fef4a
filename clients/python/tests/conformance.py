"""Runs every case of spec/vectors/conformance.json (format consentry-conformance/v1) with this
library and prints the number passed per kind.

    python tests/conformance.py [path/to/conformance.json]

Exit status 0 when every case passes. Also run by pytest (tests/test_conformance.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import struct
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from consentry import log as tlog
from consentry._time import parse_datetime_stamp
from consentry.dataintegrity import create_proof, verify_proof
from consentry.errors import (
    ConsentryError,
    GrantInvalid,
    InvalidKey,
    JsonError,
    LogVerificationError,
    ProofError,
    SignatureError,
    StatusError,
)
from consentry.grant import verify_grant
from consentry.jsonstrict import canonicalize, number_to_string, parse
from consentry.jws import verify_jws_with_key, verify_vc_jwt
from consentry.keys import DidKey, KeyPair, PublicKey
from consentry.status import check_credential_status, decode_list, read_entry

ROOT = Path(__file__).resolve().parents[3]


class Mismatch(Exception):
    """The operation succeeded with another value than the case expects."""


def _did_reason(e: InvalidKey) -> str:
    m = e.message
    return "invalidDid" if m.startswith("invalidDid") else "invalidPublicKey"


def reason_of(e: Exception) -> str:
    """Maps a library error to the suite's reason code for its kind."""
    if isinstance(e, JsonError):
        return e.reason
    if isinstance(e, InvalidKey):
        return _did_reason(e)
    if isinstance(e, ProofError):
        if e.code == "verification-method" and e.message.startswith("invalidPublicKey"):
            return "invalidPublicKey"
        return e.code
    if isinstance(e, GrantInvalid):
        return e.reasons[0].code
    if isinstance(e, StatusError):
        return e.code
    if isinstance(e, ConsentryError):
        return e.code
    return type(e).__name__


def _at(case: dict[str, Any]) -> datetime | None:
    return parse_datetime_stamp(case["at"]) if "at" in case else None


def run_jcs(c: dict[str, Any]) -> None:
    out = canonicalize(parse(c["input"])).decode("utf-8")
    if out != c["canonical"]:
        raise Mismatch(f"{out!r} != {c['canonical']!r}")


def run_jcs_number(c: dict[str, Any]) -> None:
    (f,) = struct.unpack(">d", bytes.fromhex(c["ieee754Hex"]))
    out = number_to_string(f)
    if out != c["canonical"]:
        raise Mismatch(f"{out} != {c['canonical']}")


def run_jcs_numbers(c: dict[str, Any]) -> None:
    rows = 0
    with open(ROOT / c["file"], newline="") as fh:
        for row in csv.reader(fh):
            if row[0] == "ieee754_hex":
                continue
            rows += 1
            (f,) = struct.unpack(">d", bytes.fromhex(row[0]))
            if number_to_string(f) != row[1]:
                raise Mismatch(f"row {row}: {number_to_string(f)}")
            if canonicalize(parse(row[2])).decode() != row[1]:
                raise Mismatch(f"row {row}: canonicalizing the source text")
    if rows != c["rows"]:
        raise Mismatch(f"{rows} rows, expected {c['rows']}")


def run_did_key(c: dict[str, Any]) -> None:
    k = DidKey.parse(c["did"])
    if k.public_key.raw.hex() != c["publicKeyHex"]:
        raise Mismatch("public key differs")


def run_ed25519_sign(c: dict[str, Any]) -> None:
    sig = KeyPair(bytes.fromhex(c["secretKeyHex"])).sign(bytes.fromhex(c["messageHex"]))
    if sig.hex() != c["signatureHex"]:
        raise Mismatch("signature differs")


def run_ed25519_verify(c: dict[str, Any]) -> None:
    try:
        pk = PublicKey(bytes.fromhex(c["publicKeyHex"]))
    except InvalidKey as e:
        raise ConsentryError(e.message, "weak-key") from None
    try:
        pk.verify(bytes.fromhex(c["messageHex"]), bytes.fromhex(c["signatureHex"]))
    except SignatureError as e:
        raise ConsentryError(e.message, "invalid-signature") from None


def run_di_verify(c: dict[str, Any]) -> None:
    verify_proof(c["document"], now=_at(c))


def run_di_sign(c: dict[str, Any]) -> None:
    from consentry.encoding import multibase_decode

    seed = multibase_decode(c["secretKeyMultibase"])
    if seed[:2] != b"\x80\x26" or len(seed) != 34:
        raise Mismatch("not an Ed25519 Multikey seed")
    key = KeyPair(seed[2:])
    signed = create_proof(parse(c["unsigned"]), key, parse_datetime_stamp(c["created"]))
    if signed["proof"]["proofValue"] != c["proofValue"]:
        raise Mismatch(f"proofValue {signed['proof']['proofValue']} != {c['proofValue']}")
    verify_proof(signed, now=parse_datetime_stamp(c["created"]), check_issuer=False)


def run_vc_jwt(c: dict[str, Any]) -> None:
    verify_vc_jwt(c["jwt"], now=_at(c))


def run_jws(c: dict[str, Any]) -> None:
    try:
        verify_jws_with_key(c["jws"], bytes.fromhex(c["publicKeyHex"]))
    except InvalidKey as e:
        raise ConsentryError(e.message, "weak-key") from None
    except ProofError as e:
        if e.code == "bad-signature":
            raise ConsentryError(e.message, "invalid-signature") from None
        raise


def run_grant(c: dict[str, Any]) -> None:
    g = verify_grant(c["grant"], now=_at(c))
    if "grantId" in c and g.id != c["grantId"]:
        raise Mismatch(f"grant id {g.id}")
    if "envelope" in c and g.envelope != c["envelope"]:
        raise Mismatch(f"envelope {g.envelope}")


def run_status_list(c: dict[str, Any]) -> None:
    size = c.get("statusSize", 1)
    v = read_entry(decode_list(c["encodedList"], size), c["index"], size)
    if v != c["value"]:
        raise Mismatch(f"value {v} != {c['value']}")


def run_status_check(c: dict[str, Any]) -> None:
    v = check_credential_status(c["credential"], c["statusListCredential"], now=_at(c))
    if v != c["status"]:
        raise Mismatch(f"status {v} != {c['status']}")


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return tlog.leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return tlog.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def run_merkle_root(c: dict[str, Any]) -> None:
    r = _mth([bytes.fromhex(x) for x in c["leavesHex"]])
    if r.hex() != c["rootHex"]:
        raise Mismatch("root differs")


def run_merkle_inclusion(c: dict[str, Any]) -> None:
    tlog.verify_inclusion(
        c["index"], c["treeSize"], bytes.fromhex(c["leafHashHex"]),
        [bytes.fromhex(x) for x in c["proofHex"]], bytes.fromhex(c["rootHex"]),
    )


def run_merkle_consistency(c: dict[str, Any]) -> None:
    r1, r2 = bytes.fromhex(c["root1Hex"]), bytes.fromhex(c["root2Hex"])
    if len(r1) != 32 or len(r2) != 32:
        raise LogVerificationError("root hashes must be 32 bytes")
    tlog.verify_consistency(c["size1"], c["size2"], r1, r2, [bytes.fromhex(x) for x in c["proofHex"]])


RUNNERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "jcs": run_jcs,
    "jcs-number": run_jcs_number,
    "jcs-numbers": run_jcs_numbers,
    "did-key": run_did_key,
    "ed25519-sign": run_ed25519_sign,
    "ed25519-verify": run_ed25519_verify,
    "data-integrity-verify": run_di_verify,
    "data-integrity-sign": run_di_sign,
    "vc-jwt-verify": run_vc_jwt,
    "jws-verify": run_jws,
    "grant-verify": run_grant,
    "status-list": run_status_list,
    "status-check": run_status_check,
    "merkle-root": run_merkle_root,
    "merkle-inclusion": run_merkle_inclusion,
    "merkle-consistency": run_merkle_consistency,
}


def run_case(c: dict[str, Any]) -> str | None:
    """None if the case passes, else why not."""
    fn = RUNNERS.get(c["kind"])
    if fn is None:
        return f"unknown kind {c['kind']}"
    try:
        fn(c)
    except Mismatch as e:
        return f"accepted with another value: {e}"
    except Exception as e:  # noqa: BLE001 - every error is a refusal to compare
        if c["expect"] == "accept":
            return f"refused: {type(e).__name__}: {e}"
        if "reason" in c and reason_of(e) != c["reason"]:
            return f"refused with {reason_of(e)!r} ({e}), expected {c['reason']!r}"
        return None
    return None if c["expect"] == "accept" else "accepted, expected a refusal"


def run(path: Path) -> tuple[Counter[str], Counter[str], list[str]]:
    """Runs every case; returns (passed per kind, total per kind, failures)."""
    suite = json.loads(path.read_text("utf-8"))
    if suite.get("format") != "consentry-conformance/v1":
        raise SystemExit(f"{path}: not consentry-conformance/v1")
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures: list[str] = []
    for c in suite["cases"]:
        total[c["kind"]] += 1
        why = run_case(c)
        if why is None:
            passed[c["kind"]] += 1
        else:
            failures.append(f"{c['id']}: {why}")
    for kind, n in suite.get("counts", {}).items():
        if total[kind] != n:
            failures.append(f"{kind}: the manifest counts {n} cases, found {total[kind]}")
    return passed, total, failures


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else ROOT / "spec" / "vectors" / "conformance.json"
    passed, total, failures = run(path)
    for kind in sorted(total):
        print(f"{kind:24} {passed[kind]:4}/{total[kind]}")
    print(f"{'total':24} {sum(passed.values()):4}/{sum(total.values())}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
