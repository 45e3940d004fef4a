"""A small command line over the library, for scripts and the cross-language checks
(clients/cross.sh)::

    python -m consentry sign-grant --key KEYFILE --envelope di|jwt [--at RFC3339] UNSIGNED.json
    python -m consentry verify-grant FILE [--at RFC3339]
    python -m consentry verify-receipt BUNDLE.json

``sign-grant`` prints the signed grant (Data Integrity as JCS, or the compact VC-JWT).
``verify-grant`` and ``verify-receipt`` exit 0 when valid, 1 with the reasons on stderr when not,
2 on a usage error. The receipt bundle is the JSON object described in clients/cross.sh:
``{"receipt": <c2sp.org/tlog-proof@v1 text>, "leafHash": <hex>, "logKey": <vkey>,
"index"?: <n>, "promise"?: <the release answer's inclusion promise>}``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import (
    ConsentryError,
    GrantInvalid,
    KeyPair,
    NoteVerifier,
    canonicalize,
    create_proof,
    parse_json,
    sign_vc_jwt,
    verify_grant,
    verify_inclusion_promise,
    verify_receipt,
)
from ._time import parse_datetime_stamp
from .encoding import b64_decode


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def _sign(args: argparse.Namespace) -> int:
    key = KeyPair.load(args.key)
    doc = parse_json(_read(args.file))
    if not isinstance(doc, dict):
        raise SystemExit("sign-grant: the unsigned grant is not a JSON object")
    at = parse_datetime_stamp(args.at) if args.at else None
    if args.envelope == "di":
        print(canonicalize(create_proof(doc, key, at)).decode("utf-8"))
    else:
        print(sign_vc_jwt(doc, key, at))
    return 0


def _verify_grant(args: argparse.Namespace) -> int:
    at = parse_datetime_stamp(args.at) if args.at else None
    try:
        g = verify_grant(_read(args.file), now=at)
    except GrantInvalid as e:
        print("invalid grant", file=sys.stderr)
        for r in e.reasons:
            print(f"  {r.code}: {r.message}", file=sys.stderr)
        return 1
    print(f"valid grant {g.id} signed by {g.signer.did} ({g.envelope}) sha256 {g.sha256}")
    return 0


def _verify_receipt(args: argparse.Namespace) -> int:
    try:
        b: Any = parse_json(_read(args.file))
        if not isinstance(b, dict):
            raise ConsentryError("the bundle is not a JSON object", "bundle")
        log_key = NoteVerifier.parse(b["logKey"])
        leaf = bytes.fromhex(b["leafHash"])
        r = verify_receipt(b["receipt"], leaf, log_key, index=b.get("index"))
        promise = b.get("promise")
        if promise is not None:
            verify_inclusion_promise(promise, log_key)
            if promise.get("index") != r.index or b64_decode(promise.get("leafHash", "")) != leaf:
                raise ConsentryError("the inclusion promise is for another entry than the receipt", "promise")
    except (ConsentryError, KeyError, TypeError, ValueError) as e:
        code = getattr(e, "code", type(e).__name__)
        print(f"invalid receipt: {code}: {e}", file=sys.stderr)
        return 1
    print(f"valid receipt: entry {r.index} in {r.checkpoint.origin} at size {r.checkpoint.size}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m consentry", description="Consentry client library command line")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sign-grant", help="sign an unsigned grant; print it")
    s.add_argument("--key", required=True, help="key file (consentry key new)")
    s.add_argument("--envelope", choices=("di", "jwt"), default="di")
    s.add_argument("--at", help="proof created / iat time (RFC 3339; default now)")
    s.add_argument("file")
    v = sub.add_parser("verify-grant", help="verify a signed grant (either envelope)")
    v.add_argument("--at", help="verify as of this instant (RFC 3339; default now)")
    v.add_argument("file")
    r = sub.add_parser("verify-receipt", help="verify a receipt bundle (JSON)")
    r.add_argument("file")
    args = p.parse_args(argv)
    handler = {"sign-grant": _sign, "verify-grant": _verify_grant, "verify-receipt": _verify_receipt}[args.cmd]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
