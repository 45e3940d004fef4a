#!/usr/bin/env bash
# Cross-check consentry against the independent Python implementation (tests/interop/vc_check.py).
# Usage: tests/interop/run.sh [PATH_TO_CONSENTRY]   (default target/debug/consentry, built if missing)
# Env: PYTHON (default python3). Exits non-zero on any failed check.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-python3}"
VC="$HERE/vc_check.py"
VECTORS="$REPO/spec/vectors"

BIN="${1:-target/debug/consentry}"
case "$BIN" in /*) ;; *) BIN="$REPO/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
    if [[ "$BIN" == "$REPO/target/debug/consentry" ]]; then
        echo "interop: $BIN missing, running cargo build" >&2
        (cd "$REPO" && cargo build --quiet)
    else
        echo "interop: consentry binary not found: $BIN" >&2
        exit 2
    fi
fi

if ! "$PY" -c 'import rfc8785, nacl.signing, jsonschema' 2>/dev/null; then
    echo "interop: installing Python dependencies from $HERE/requirements.txt" >&2
    "$PY" -m pip install --quiet -r "$HERE/requirements.txt"
fi

T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
cd "$T"

PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
# expect_rc WANT NAME CMD...: run CMD, compare its exit code with WANT; show its output on failure.
expect_rc() {
    local want="$1" name="$2" rc=0
    shift 2
    "$@" >"$T/out.txt" 2>&1 || rc=$?
    if [[ "$rc" == "$want" ]]; then
        ok "$name"
    else
        fail "$name (exit $rc, want $want)"
        sed 's/^/       | /' "$T/out.txt" | head -20
    fi
}
pyv()    { "$PY" "$VC" "$@"; }
jget()   { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }

# --- 0. the Python implementation against the official/derived vectors
expect_rc 0 "vc_check.py selftest (spec/vectors)" pyv selftest --vectors "$VECTORS"

# --- inputs: a key, a generic credential, a grant
"$BIN" key new --out k.json >/dev/null 2>key.err || { cat key.err >&2; echo "interop: consentry key new failed" >&2; exit 1; }
DID="$(jget k.json 'd["did"]')"
CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$PY" - "$VECTORS/vc-jose-cose/unsecured-credential.spec-example.json" "$DID" >generic.json <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
doc["issuer"] = sys.argv[2]
print(json.dumps(doc, indent=2, ensure_ascii=False))
EOF
"$BIN" grant new \
    --enterprise 91330100716105852F --enterprise-name "杭州示例科技有限公司" \
    --issuer "$DID" \
    --grantee 91440300708461136T --grantee-name "深圳示例金融服务平台" \
    --category TAX-03=raw --category SOC-01 --category REG-01=raw \
    --bank "911000001000013428:示例银行股份有限公司:TAX-03=derived" \
    --purpose credit-approval --periodic 4/month \
    --data-from 2025-01-01 --data-until 2025-12-31 \
    --status-list https://node.example/status/1 --status-index 4242 \
    >grant.json 2>grant.err || { cat grant.err >&2; echo "interop: consentry grant new failed" >&2; exit 1; }
echo "interop: key $DID, created $CREATED"

# flip one character inside credentialSubject (the enterprise USCC) of a DI document or a JWT
tamper() {  # tamper IN OUT
    "$PY" - "$1" "$2" <<'EOF'
import base64, sys
src, dst = sys.argv[1], sys.argv[2]
old, new = "91330100716105852F", "91330100716105852G"
text = open(src, encoding="utf-8").read()
if text.lstrip().startswith("{"):
    assert text.count(old) == 1, "expected the enterprise USCC exactly once"
    out = text.replace(old, new)
else:
    h, p, s = text.strip().split(".")
    payload = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode("utf-8")
    assert payload.count(old) == 1, "expected the enterprise USCC exactly once"
    p2 = base64.urlsafe_b64encode(payload.replace(old, new).encode("utf-8")).decode().rstrip("=")
    out = f"{h}.{p2}.{s}\n"
open(dst, "w", encoding="utf-8").write(out)
EOF
}

# --- 1. consentry-made -> Python-verified
for doc in generic grant; do
    for fmt in di jwt; do
        ext=$([[ $fmt == di ]] && echo json || echo jwt)
        if "$BIN" vc sign --key k.json --format "$fmt" --created "$CREATED" "$doc.json" >"rs.$doc.$ext" 2>"rs.$doc.$fmt.err"; then
            expect_rc 0 "consentry-signed $doc ($fmt) verifies in Python" pyv verify --issuer-must-match "rs.$doc.$ext"
        else
            fail "consentry vc sign --format $fmt $doc.json"; sed 's/^/       | /' "rs.$doc.$fmt.err"
        fi
    done
done
for ext in json jwt; do
    fmt=$([[ $ext == json ]] && echo di || echo jwt)
    tamper "rs.grant.$ext" "rs.grant.tampered.$ext"
    expect_rc 1 "consentry-signed grant ($fmt) with one credentialSubject character flipped: Python rejects" \
        pyv verify "rs.grant.tampered.$ext"
done

# --- 2. Python-made -> consentry-verified
for doc in generic grant; do
    pyv sign --key k.json --format di --created "$CREATED" "$doc.json" >"py.$doc.json"
    pyv sign --key k.json --format jwt --created "$CREATED" "$doc.json" >"py.$doc.jwt"
done
for ext in json jwt; do
    fmt=$([[ $ext == json ]] && echo di || echo jwt)
    expect_rc 0 "Python-signed generic ($fmt): consentry vc verify" "$BIN" vc verify "py.generic.$ext"
    expect_rc 0 "Python-signed grant ($fmt): consentry vc verify" "$BIN" vc verify "py.grant.$ext"
    expect_rc 0 "Python-signed grant ($fmt): consentry grant verify" "$BIN" grant verify "py.grant.$ext"
    tamper "py.grant.$ext" "py.grant.tampered.$ext"
    expect_rc 1 "Python-signed grant ($fmt), one character flipped: consentry vc verify rejects" \
        "$BIN" vc verify "py.grant.tampered.$ext"
    expect_rc 1 "Python-signed grant ($fmt), one character flipped: consentry grant verify rejects" \
        "$BIN" grant verify "py.grant.tampered.$ext"
done

# --- 3. same key, document and created: identical output
compare() {  # compare NAME RUST_FILE PY_FILE
    "$PY" - "$2" "$3" <<'EOF'
import base64, json, sys
a_text, b_text = (open(f, encoding="utf-8").read() for f in sys.argv[1:3])
if a_text.lstrip().startswith("{"):
    a, b = json.loads(a_text), json.loads(b_text)
    if a["proof"]["proofValue"] != b["proof"]["proofValue"]:
        sys.exit(f"proofValue differs: consentry {a['proof']['proofValue']} python {b['proof']['proofValue']}")
    if a != b:
        sys.exit("documents differ after JSON parsing")
    print("identical after parsing; same proofValue" + ("; byte-identical" if a_text == b_text else ""))
else:
    def parts(t):
        h, p, _ = t.strip().split(".")
        return [base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)) for x in (h, p)]
    (ha, pa), (hb, pb) = parts(a_text), parts(b_text)
    if json.loads(ha) != json.loads(hb):
        sys.exit(f"JWS headers differ: {ha!r} vs {hb!r}")
    if json.loads(pa) != json.loads(pb):
        sys.exit("JWT payloads differ after JSON parsing")
    notes = ["payload bytes " + ("identical" if pa == pb else "differ"),
             "header bytes " + ("identical" if ha == hb else "differ (member order only)")]
    print("header and payload equal after parsing; " + "; ".join(notes))
EOF
}
for doc in generic grant; do
    for ext in json jwt; do
        fmt=$([[ $ext == json ]] && echo di || echo jwt)
        if msg="$(compare "$doc" "rs.$doc.$ext" "py.$doc.$ext" 2>&1)"; then
            ok "same key/doc/created, $doc ($fmt): $msg"
        else
            fail "same key/doc/created, $doc ($fmt): $msg"
        fi
    done
done

# RFC 8785 edge cases end to end: the derived tricky-JCS credential, re-issued by this key
"$PY" - "$VECTORS/derived/eddsa-jcs-2022.tricky-jcs.unsigned.json" "$DID" >tricky.json <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
old = '"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"'
assert text.count(old) == 1
sys.stdout.write(text.replace(old, '"' + sys.argv[2] + '"'))  # keep every other byte (number spellings)
EOF
"$BIN" vc sign --key k.json --format di --created "$CREATED" tricky.json >rs.tricky.json
pyv sign --key k.json --format di --created "$CREATED" tricky.json >py.tricky.json
if msg="$(compare tricky rs.tricky.json py.tricky.json 2>&1)"; then
    ok "tricky-JCS credential (di): $msg"
else
    fail "tricky-JCS credential (di): $msg"
fi
expect_rc 0 "consentry-signed tricky-JCS credential (di) verifies in Python" pyv verify rs.tricky.json
expect_rc 0 "Python-signed tricky-JCS credential (di): consentry vc verify" "$BIN" vc verify py.tricky.json

# The tricky credential holds 1e+20. RFC 8785 would write that double as the integer literal
# 100000000000000000000, which Python's rfc8785 (and vc_check.py) refuse as beyond +/-(2^53-1).
# consentry therefore writes VC-JWT payloads with ordinary JSON number spelling (1e20), so every
# token it makes is readable by such verifiers: Python must accept it.
"$BIN" vc sign --key k.json --format jwt --created "$CREATED" tricky.json >rs.tricky.jwt
expect_rc 0 "consentry-signed tricky-JCS credential (jwt) verifies in Python" pyv verify rs.tricky.jwt

# --- 4. Bitstring Status List: the grant's own credentialStatus entries against lists made here
# (a BitstringStatusListCredential per purpose, signed by vc_check.py with the same key)
make_list() {  # make_list URL PURPOSE SET_INDEX_OR_-1 OUT
    "$PY" - "$HERE" "$1" "$2" "$3" "$4" <<'EOF'
import base64, gzip, json, sys
sys.path.insert(0, sys.argv[1])
import vc_check as vc
url, purpose, idx, out = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
bits = bytearray(131072 // 8)
if idx >= 0:
    bits[idx >> 3] |= 0x80 >> (idx & 7)  # index 0 = most significant bit of byte 0
encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")
key = vc.Key.load("k.json")
doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
       "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did,
       "validFrom": "2025-01-01T00:00:00Z",
       "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList",
                             "statusPurpose": purpose, "encodedList": encoded}}
open(out, "w").write(json.dumps(vc.di_sign(doc, key, "2025-01-01T00:00:00Z"), indent=2))
EOF
}
REV=https://node.example/status/1/revocation
SUS=https://node.example/status/1/suspension
make_list "$REV" revocation -1 rev.clear.json
make_list "$REV" revocation 4242 rev.set.json
make_list "$SUS" suspension -1 sus.clear.json
make_list "$SUS" suspension 4243 sus.neighbour.json
expect_rc 0 "status-check consentry-signed grant (di): both lists clear -> active" \
    pyv status-check rs.grant.json --list "$REV=rev.clear.json" --list "$SUS=sus.clear.json"
expect_rc 0 "status-check consentry-signed grant (jwt): only neighbour bit 4243 set -> active" \
    pyv status-check rs.grant.jwt --list "$REV=rev.clear.json" --list "$SUS=sus.neighbour.json"
expect_rc 1 "status-check consentry-signed grant (di): bit 4242 set in the revocation list -> revoked" \
    pyv status-check rs.grant.json --list "$REV=rev.set.json" --list "$SUS=sus.clear.json"
expect_rc 1 "status-check consentry-signed grant (di): lists swapped -> STATUS_VERIFICATION_ERROR" \
    pyv status-check rs.grant.json --list "$REV=sus.clear.json" --list "$SUS=rev.clear.json"

# --- 5. both verifiers agree on the vectors

for f in eddsa-jcs-2022/signedJCS.json derived/eddsa-jcs-2022.sig-1-leading-zero-byte.json \
         derived/eddsa-jcs-2022.sig-2-leading-zero-bytes.json derived/eddsa-jcs-2022.tricky-jcs.signed.json \
         vc-jose-cose/derived-eddsa-vc.jwt derived/bsl.status-list-credential.signed.json; do
    expect_rc 0 "consentry vc verify accepts $f" "$BIN" vc verify "$VECTORS/$f"
done
for f in "$VECTORS"/derived/*.reject.* "$VECTORS/eddsa-rdfc-2022/signedDataInt.json"; do
    expect_rc 1 "consentry vc verify rejects ${f#"$VECTORS/"}" "$BIN" vc verify "$f"
done

# --- 6. spec/grant.schema.json: the examples and what `consentry grant new` makes conform; the shapes
# the verifier refuses (positional arrays, stray members) do not.
SCHEMA="$REPO/spec/grant.schema.json"
expect_rc 0 "schema accepts spec/examples/grant.unsigned.json" pyv schema "$SCHEMA" "$REPO/spec/examples/grant.unsigned.json"
expect_rc 0 "schema accepts spec/examples/grant.signed.di.json" pyv schema "$SCHEMA" "$REPO/spec/examples/grant.signed.di.json"
expect_rc 0 "schema accepts the grant consentry grant new made here" pyv schema "$SCHEMA" grant.json
"$PY" - grant.json <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
g["credentialSubject"]["dataPeriod"] = ["2024-01-01", "2026-10-31"]
json.dump(g, open("grant.positional.json", "w"), ensure_ascii=False)
g = json.load(open(sys.argv[1]))
g["termsOfUse"] = [{"type": "ODRLPolicy"}]
json.dump(g, open("grant.stray.json", "w"), ensure_ascii=False)
EOF
expect_rc 1 "schema refuses a positional dataPeriod" pyv schema "$SCHEMA" grant.positional.json
expect_rc 1 "schema refuses a stray top-level member" pyv schema "$SCHEMA" grant.stray.json

echo "interop: $PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
