#!/usr/bin/env python3
"""Writes spec/vectors/conformance.json: one list of self-contained cases, drawn from the vectors in
spec/vectors and spec/examples, that the Rust core and every client library run (spec/vectors/conformance.md).

    scripts/conformance.py          write the manifest
    scripts/conformance.py --check  exit 1 if the manifest is not what this script writes

Standard library only. Every case carries its inputs inline (the one exception, `jcs-numbers`, names
a CSV file of 7,124 rows), so that a runner needs no knowledge of the vector folders' own formats.
"""

import base64
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V = os.path.join(ROOT, "spec", "vectors")
OUT = os.path.join(V, "conformance.json")

# The order of the group (ℓ) of the Ed25519 base point (RFC 8032 §5.1).
L = 2**252 + 27742317777372353535851937790883648493
# An instant after every signed vector was made and inside the grant examples' validity.
AT = "2026-12-01T00:00:00Z"


def text(*path):
    with open(os.path.join(*path), encoding="utf-8") as f:
        return f.read()


def load(*path):
    return json.loads(text(*path))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def s_plus_l(sig):
    """The same R with S + ℓ: the same point equation, a signature a strict verifier refuses."""
    s = int.from_bytes(sig[32:], "little") + L
    return sig[:32] + s.to_bytes(32, "little")


def cases():
    out = []

    def add(id_, kind, expect="accept", reason=None, **fields):
        c = {"id": id_, "kind": kind}
        c.update(fields)
        c["expect"] = expect
        if reason:
            c["reason"] = reason
        out.append(c)

    # --- RFC 8785 JCS -------------------------------------------------------------------------
    jcs = os.path.join(V, "jcs-rfc8785")
    for name in sorted(os.listdir(os.path.join(jcs, "input"))):
        add(f"jcs/cyberphone/{name}", "jcs", input=text(jcs, "input", name), canonical=text(jcs, "output", name))
    add(
        "jcs/derived/tricky-jcs",
        "jcs",
        input=text(V, "derived", "eddsa-jcs-2022.tricky-jcs.unsigned.json"),
        canonical=text(V, "derived", "eddsa-jcs-2022.tricky-jcs.canonical.txt"),
    )
    add(
        "jcs/w3c/eddsa-jcs-2022-unsigned",
        "jcs",
        input=text(V, "eddsa-jcs-2022", "unsigned.json"),
        canonical=text(V, "eddsa-jcs-2022", "canonDocJCS.txt"),
    )
    for s in load(jcs, "rfc8785-appendix-b-numbers.json")["samples"]:
        hexv = s["ieee754Hex"]
        if "expected" in s and s["expected"] is not None:
            add(f"jcs/rfc8785-appendix-b/{hexv}", "jcs-number", ieee754Hex=hexv, canonical=s["expected"])
        else:
            add(f"jcs/rfc8785-appendix-b/{hexv}", "jcs-number", "reject", "not-a-finite-number", ieee754Hex=hexv)
    add(
        "jcs/derived/es6-number-sample",
        "jcs-numbers",
        file="spec/vectors/derived/jcs-numbers.es6.csv",
        rows=sum(1 for line in text(V, "derived", "jcs-numbers.es6.csv").splitlines() if line and line[0] in "0123456789abcdef")
        - 0,
    )
    # Strict I-JSON (RFC 7493): what a canonicalizer must refuse rather than guess.
    for id_, doc, reason in [
        ("duplicate-member", '{"a":1,"a":2}', "duplicate-key"),
        ("duplicate-member-nested", '{"a":{"b":1,"c":2,"b":3}}', "duplicate-key"),
        ("duplicate-member-escaped", '{"a":1,"\\u0061":2}', "duplicate-key"),
        ("integer-2^53+1", "[9007199254740993]", "unsafe-integer"),
        ("integer-20-digits", '{"n":12345678901234567891}', "unsafe-integer"),
        ("trailing-comma", '{"a":1,}', "invalid-json"),
        ("single-quotes", "{'a':1}", "invalid-json"),
        ("nan", "[NaN]", "invalid-json"),
        ("leading-zero", "[01]", "invalid-json"),
    ]:
        add(f"json-strict/{id_}", "jcs", "reject", reason, input=doc)
    for id_, doc, canon in [
        ("integer-2^53", "[9007199254740992]", "[9007199254740992]"),
        ("integer-2^60-exact", "[1152921504606846976]", "[1152921504606847000]"),
        ("exponent-integer", "[1E2]", "[100]"),
        ("negative-zero", "[-0]", "[0]"),
    ]:
        add(f"json-strict/{id_}", "jcs", input=doc, canonical=canon)

    # --- did:key ------------------------------------------------------------------------------
    ccg = load(V, "did-key", "ed25519-x25519.ccg-did-method-key.json")
    b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

    def unb58(s):
        n = 0
        for ch in s:
            n = n * 58 + b58.index(ch)
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
        return b"\0" * (len(s) - len(s.lstrip("1"))) + raw

    for did, v in ccg.items():
        vk = v["verificationKeyPair"]
        pk = unb58(vk["publicKeyBase58"]) if "publicKeyBase58" in vk else unb64url(vk["publicKeyJwk"]["x"])
        add(f"did-key/ccg/{did[8:20]}", "did-key", did=did, publicKeyHex=pk.hex())
    weak = "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj"
    add("did-key/weak-identity-point", "did-key", "reject", "invalidPublicKey", did=weak)
    first = next(iter(ccg.values()))
    x25519 = first["keyAgreementKeyPair"]["id"].split("#")[-1]
    add("did-key/x25519-multicodec", "did-key", "reject", "invalidPublicKey", did=f"did:key:{x25519}")
    add("did-key/not-did-key", "did-key", "reject", "invalidDid", did="did:web:example.com")
    add("did-key/not-base58btc", "did-key", "reject", "invalidDid", did="did:key:f6Mk")
    add("did-key/truncated", "did-key", "reject", "invalidPublicKey", did=next(iter(ccg))[:-4])

    # --- Ed25519 (RFC 8032) -------------------------------------------------------------------
    for t in load(V, "rfc8032", "section-7.1-tests-1-3.json")["tests"]:
        n = t["name"].lower().replace(" ", "-")
        add(f"ed25519/rfc8032/{n}/sign", "ed25519-sign", secretKeyHex=t["secretKeyHex"], messageHex=t["messageHex"], signatureHex=t["signatureHex"])
        add(f"ed25519/rfc8032/{n}/verify", "ed25519-verify", publicKeyHex=t["publicKeyHex"], messageHex=t["messageHex"], signatureHex=t["signatureHex"])
        sig = bytes.fromhex(t["signatureHex"])
        add(
            f"ed25519/rfc8032/{n}/s-plus-l",
            "ed25519-verify",
            "reject",
            "invalid-signature",
            publicKeyHex=t["publicKeyHex"],
            messageHex=t["messageHex"],
            signatureHex=s_plus_l(sig).hex(),
        )
        flipped = bytearray(bytes.fromhex(t["messageHex"]) or b"\0")
        flipped[0] ^= 1
        add(
            f"ed25519/rfc8032/{n}/other-message",
            "ed25519-verify",
            "reject",
            "invalid-signature",
            publicKeyHex=t["publicKeyHex"],
            messageHex=bytes(flipped).hex(),
            signatureHex=t["signatureHex"],
        )
    identity = "01" + "00" * 31
    add(
        "ed25519/identity-key-forgery",
        "ed25519-verify",
        "reject",
        "weak-key",
        publicKeyHex=identity,
        messageHex="6869",
        signatureHex=identity + "00" * 32,
    )

    # --- eddsa-jcs-2022 -----------------------------------------------------------------------
    w3c = os.path.join(V, "eddsa-jcs-2022")
    d = os.path.join(V, "derived")
    add("data-integrity/w3c/signed", "data-integrity-verify", document=text(w3c, "signedJCS.json"), at=AT)
    for name in ["sig-1-leading-zero-byte", "sig-2-leading-zero-bytes", "tricky-jcs.signed"]:
        add(f"data-integrity/derived/{name}", "data-integrity-verify", document=text(d, f"eddsa-jcs-2022.{name}.json"), at=AT)
    add(
        "data-integrity/derived/s-plus-l",
        "data-integrity-verify",
        "reject",
        "bad-signature",
        document=text(d, "eddsa-jcs-2022.reject.malleable-s-plus-l.json"),
        at=AT,
    )
    add(
        "data-integrity/derived/weak-key",
        "data-integrity-verify",
        "reject",
        "invalidPublicKey",
        document=text(d, "eddsa-jcs-2022.reject.weak-key-identity.json"),
        at=AT,
    )
    signed = json.loads(text(w3c, "signedJCS.json"))
    signed["credentialSubject"]["alumniOf"] = "Example University (tampered)" if "alumniOf" in signed.get("credentialSubject", {}) else "x"
    add("data-integrity/w3c/tampered", "data-integrity-verify", "reject", "bad-signature", document=json.dumps(signed, ensure_ascii=False), at=AT)
    key = load(w3c, "keyPair.json")
    cfg = load(w3c, "proofConfigJCS.json")
    add(
        "data-integrity/w3c/sign",
        "data-integrity-sign",
        unsigned=text(w3c, "unsigned.json"),
        secretKeyMultibase=key["privateKeyMultibase"],
        created=cfg["created"],
        proofValue=json.loads(text(w3c, "signedJCS.json"))["proof"]["proofValue"],
    )
    for name in ["sig-1-leading-zero-byte", "sig-2-leading-zero-bytes"]:
        doc = json.loads(text(d, f"eddsa-jcs-2022.{name}.json"))
        add(
            f"data-integrity/derived/{name}/sign",
            "data-integrity-sign",
            unsigned=text(w3c, "unsigned.json"),
            secretKeyMultibase=key["privateKeyMultibase"],
            created=doc["proof"]["created"],
            proofValue=doc["proof"]["proofValue"],
        )
    tricky = json.loads(text(d, "eddsa-jcs-2022.tricky-jcs.signed.json"))
    add(
        "data-integrity/derived/tricky-jcs/sign",
        "data-integrity-sign",
        unsigned=text(d, "eddsa-jcs-2022.tricky-jcs.unsigned.json"),
        secretKeyMultibase=key["privateKeyMultibase"],
        created=tricky["proof"]["created"],
        proofValue=tricky["proof"]["proofValue"],
    )

    # --- VC-JWT and JWS -----------------------------------------------------------------------
    add("vc-jwt/derived/eddsa", "vc-jwt-verify", jwt=text(V, "vc-jose-cose", "derived-eddsa-vc.jwt").strip(), at=AT)
    add(
        "vc-jwt/derived/weak-key",
        "vc-jwt-verify",
        "reject",
        "invalidPublicKey",
        jwt=text(d, "vc-jwt.reject.weak-key-identity.jwt").strip(),
        at=AT,
    )
    good = text(ROOT, "spec", "examples", "grant.signed.jwt").strip()
    add("vc-jwt/examples/grant", "vc-jwt-verify", jwt=good, at=AT)
    h, p, s = good.split(".")
    # The last character of a 64-byte signature carries 4 unused bits: set one, same bytes decoded.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(s[-1])
    assert last & 0xF == 0
    add(
        "vc-jwt/non-canonical-base64url-signature",
        "vc-jwt-verify",
        "reject",
        "jws-base64",
        jwt=f"{h}.{p}.{s[:-1]}{alphabet[last | 1]}",
        at=AT,
    )
    add("vc-jwt/padded-base64url", "vc-jwt-verify", "reject", "jws-base64", jwt=f"{h}.{p}.{s}==", at=AT)
    sig = unb64url(s)
    add("vc-jwt/s-plus-l", "vc-jwt-verify", "reject", "bad-signature", jwt=f"{h}.{p}.{b64url(s_plus_l(sig))}", at=AT)
    hdr = json.loads(unb64url(h))
    hdr["alg"] = "none"
    add(
        "vc-jwt/alg-none",
        "vc-jwt-verify",
        "reject",
        "jws-algorithm",
        jwt=f"{b64url(json.dumps(hdr, separators=(',', ':')).encode())}.{p}.",
        at=AT,
    )
    jwk = load(V, "rfc8037", "a2-public.jwk.json")
    a4 = text(V, "rfc8037", "a4-compact.jws").strip()
    add("jws/rfc8037-a4", "jws-verify", jws=a4, publicKeyHex=unb64url(jwk["x"]).hex())
    add(
        "jws/rfc8037-a4-s-plus-l",
        "jws-verify",
        "reject",
        "invalid-signature",
        jws=text(d, "rfc8037-a4.reject.malleable-s-plus-l.jws").strip(),
        publicKeyHex=unb64url(jwk["x"]).hex(),
    )

    # --- Grants (spec/grant.md, spec/examples) ------------------------------------------------
    ex = os.path.join(ROOT, "spec", "examples")
    grant_id = json.loads(text(ex, "grant.signed.di.json"))["id"]
    add("grant/examples/signed-di", "grant-verify", grant=text(ex, "grant.signed.di.json"), at=AT, grantId=grant_id, envelope="di")
    add("grant/examples/signed-jwt", "grant-verify", grant=text(ex, "grant.signed.jwt").strip(), at=AT, grantId=grant_id, envelope="jwt")
    for name, reason in [
        ("bank-raw.di.json", "bank-raw-non-public"),
        ("window.di.json", "vc-data-model"),
        ("tampered.di.json", "bad-signature"),
        ("alg-hs256.jwt", "jws-algorithm"),
    ]:
        add(f"grant/examples/invalid-{name}", "grant-verify", "reject", reason, grant=text(ex, f"grant.invalid.{name}").strip(), at=AT)
    add("grant/examples/signed-di-after-validity", "grant-verify", "reject", "expired", grant=text(ex, "grant.signed.di.json"), at="2028-01-01T00:00:00Z")

    # --- Bitstring Status List ----------------------------------------------------------------
    for lst in load(V, "bitstring-status-list", "expected-bits.json")["lists"]:
        if not lst.get("meetsMinimum131072", True):
            add(f"status-list/w3c/{lst['name']}", "status-list", "reject", "STATUS_LIST_LENGTH_ERROR", encodedList=lst["encodedList"], statusSize=1, index=0)
            continue
        for c in lst["checks"]:
            add(f"status-list/w3c/{lst['name']}/{c['index']}", "status-list", encodedList=lst["encodedList"], statusSize=1, index=c["index"], value=c["bit"])
    for lst in load(V, "derived", "bsl.lists.json")["lists"]:
        for c in lst["checks"]:
            if c.get("error") == "MALFORMED":
                # The W3C name of the error (Bitstring Status List §3.2).
                c["error"] = "MALFORMED_VALUE_ERROR"
            if "error" in c:
                add(
                    f"status-list/derived/{lst['name']}/{c['index']}",
                    "status-list",
                    "reject",
                    c["error"],
                    encodedList=lst["encodedList"],
                    statusSize=lst["statusSize"],
                    index=c["index"],
                )
            else:
                add(
                    f"status-list/derived/{lst['name']}/{c['index']}",
                    "status-list",
                    encodedList=lst["encodedList"],
                    statusSize=lst["statusSize"],
                    index=c["index"],
                    value=c["value"],
                )
    slc = text(d, "bsl.status-list-credential.signed.json")
    for name, expect, status, reason in [
        ("credential-active-idx6", "accept", 0, None),
        ("credential-revoked-idx7", "accept", 1, None),
        ("credential-wrong-purpose", "reject", None, "STATUS_VERIFICATION_ERROR"),
    ]:
        fields = {"credential": text(d, f"bsl.{name}.signed.json"), "statusListCredential": slc, "at": AT}
        if status is not None:
            fields["status"] = status
        add(f"status-check/derived/{name}", "status-check", expect, reason, **fields)
    tampered = json.loads(slc)
    tampered["credentialSubject"]["encodedList"] = load(V, "derived", "bsl.lists.json")["lists"][1]["encodedList"]
    add(
        "status-check/derived/list-tampered",
        "status-check",
        "reject",
        "bad-signature",
        credential=text(d, "bsl.credential-active-idx6.signed.json"),
        statusListCredential=json.dumps(tampered, ensure_ascii=False),
        at=AT,
    )

    # --- Merkle trees (RFC 6962 / RFC 9162) ---------------------------------------------------
    mv = load(V, "merkle", "rfc6962_vectors.json")
    leaves = mv["leaf_inputs"]
    for size, root in sorted(mv["roots_by_size"].items(), key=lambda kv: int(kv[0])):
        add(f"merkle/root/{size}", "merkle-root", leavesHex=leaves[: int(size)], rootHex=root)
    import hashlib

    def leaf_hash(hexs):
        return hashlib.sha256(b"\0" + bytes.fromhex(hexs)).hexdigest()

    for p in mv["inclusion"]:
        size = p["tree_size"]
        add(
            f"merkle/inclusion/{p['leaf_index']}-of-{size}",
            "merkle-inclusion",
            leafHashHex=leaf_hash(leaves[p["leaf_index"]]),
            index=p["leaf_index"],
            treeSize=size,
            proofHex=p["proof"],
            rootHex=mv["roots_by_size"][str(size)],
        )
    for p in mv["consistency"]:
        add(
            f"merkle/consistency/{p['size1']}-to-{p['size2']}",
            "merkle-consistency",
            size1=p["size1"],
            size2=p["size2"],
            root1Hex=mv["roots_by_size"][str(p["size1"])],
            root2Hex=mv["roots_by_size"][str(p["size2"])],
            proofHex=p["proof"],
        )
    for p in load(V, "merkle", "probes_inclusion.json")["probes"]:
        add(
            "merkle/probe/" + p["file"].removeprefix("testdata/").removesuffix(".json"),
            "merkle-inclusion",
            "reject" if p["want_err"] else "accept",
            leafHashHex=p["leaf_hash"],
            index=p["leaf_index"],
            treeSize=p["tree_size"],
            proofHex=p["proof"],
            rootHex=p["root"],
        )
    for p in load(V, "merkle", "probes_consistency.json")["probes"]:
        # A root that is not a 32-byte SHA-256 value is refused before any comparison (the probes'
        # source compares such garbage roots as byte strings and accepts two equal ones).
        garbage = any(len(h) != 64 for h in [p["root1"], p["root2"], *p["proof"]])
        add(
            "merkle/probe/" + p["file"].removeprefix("testdata/").removesuffix(".json"),
            "merkle-consistency",
            "reject" if p["want_err"] or garbage else "accept",
            size1=p["size1"],
            size2=p["size2"],
            root1Hex=p["root1"],
            root2Hex=p["root2"],
            proofHex=p["proof"],
        )
    return out


def manifest():
    cs = cases()
    ids = [c["id"] for c in cs]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SystemExit(f"duplicate case ids: {sorted(dup)}")
    kinds = {}
    for c in cs:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    return {
        "format": "consentry-conformance/v1",
        "about": "Cases every implementation runs (spec/vectors/conformance.md). Generated by scripts/conformance.py from spec/vectors and spec/examples; do not edit by hand.",
        "counts": dict(sorted(kinds.items())),
        "total": len(cs),
        "cases": cs,
    }


def main():
    body = json.dumps(manifest(), ensure_ascii=False, indent=1) + "\n"
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != body:
                print(f"{OUT} is not what scripts/conformance.py writes: run it", file=sys.stderr)
                sys.exit(1)
        print("conformance manifest up to date")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(body)
    m = json.loads(body)
    print(f"wrote {OUT}: {m['total']} cases {m['counts']}")


if __name__ == "__main__":
    main()
