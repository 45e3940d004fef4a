#!/usr/bin/env bash
# Cross-language interoperability of the three client libraries and the Rust core (issue #14):
#
#  (a) grants: each library signs spec/examples/grant.unsigned.json with spec/examples/enterprise.key.json
#      (its DID is the grant's issuer) in both envelopes; every signed grant must verify in all three
#      libraries and in `consentry grant verify`, and a tampered copy (maxReleases 4 -> 40 after
#      signing) must be refused by all four;
#  (b) receipts: the Java live scenario runs against a fresh testbed (clients/testbed.sh) and writes
#      the receipt bundle of its release (tlog-proof, leaf hash, index, the node's log vkey, the
#      inclusion promise); the Python, TypeScript and Java CLIs must accept it and refuse tampered
#      copies (another leaf hash; a changed checkpoint root).
#
# Prints a matrix and exits non-zero on any disagreement.
#
# Assumes each library was already built by its own test.sh (clients/python/.venv,
# clients/typescript/dist, clients/java/target/classes and test-classes): run after
#   clients/python/test.sh && clients/typescript/test.sh && clients/java/test.sh
# The binary is $CONSENTRY_BIN (else target/debug/consentry). Set CROSS_SKIP_LIVE=1 to skip (b).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export CONSENTRY_BIN="${CONSENTRY_BIN:-$root/target/debug/consentry}"

KEY="$root/spec/examples/enterprise.key.json"
UNSIGNED="$root/spec/examples/grant.unsigned.json"
SIGN_AT=2026-11-30T08:00:00Z   # as spec/examples/grant.signed.*: the outputs can be compared with them
VERIFY_AT=2027-01-01T00:00:00Z # inside the grant's validity window

for need in "$here/python/.venv/bin/python" "$here/typescript/dist/cli.js" "$here/java/target/classes/cn/consentry/client/cli/Cli.class" "$CONSENTRY_BIN"; do
    if [[ ! -e "$need" ]]; then
        echo "cross.sh: $need is missing: run the libraries' test.sh first (and set CONSENTRY_BIN)" >&2
        exit 2
    fi
done

cli() { # lang args...
    local lang="$1"
    shift
    case "$lang" in
    python) "$here/python/.venv/bin/python" -m consentry "$@" ;;
    typescript) node "$here/typescript/dist/cli.js" "$@" ;;
    java) java -cp "$here/java/target/classes:/usr/share/java/bcprov.jar" cn.consentry.client.cli.Cli "$@" ;;
    esac
}

verify_grant() { # verifier file -> exit status
    if [[ "$1" == rust ]]; then
        "$CONSENTRY_BIN" grant verify --at "$VERIFY_AT" "$2" >/dev/null 2>&1
    else
        cli "$1" verify-grant --at "$VERIFY_AT" "$2" >/dev/null 2>&1
    fi
}

work="$(mktemp -d)"
tb=""
cleanup() {
    if [[ -n "$tb" ]]; then "$here/testbed.sh" down "$tb" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

LANGS=(python typescript java)
VERIFIERS=(python typescript java rust)
bad=0

# Tampered copy of a signed grant: maxReleases 4 -> 40, signature kept (either envelope).
tamper_grant() { # in out
    python3 - "$1" "$2" <<'PY'
import base64, json, sys
text = open(sys.argv[1]).read().strip()
def swap(s):
    assert '"maxReleases":4' in s, "no maxReleases:4 to tamper with"
    return s.replace('"maxReleases":4', '"maxReleases":40', 1)
if text.startswith("{"):
    out = swap(text)
else:
    h, p, s = text.split(".")
    payload = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode()
    out = ".".join([h, base64.urlsafe_b64encode(swap(payload).encode()).rstrip(b"=").decode(), s])
open(sys.argv[2], "w").write(out + "\n")
PY
}

echo "== grants: signer x envelope -> verifier (valid copy / tampered copy), verified at $VERIFY_AT"
printf '%-24s' "signer/envelope"
for v in "${VERIFIERS[@]}"; do printf '%-18s' "$v"; done
printf '%s\n' "same bytes as spec/examples"
for s in "${LANGS[@]}"; do
    for env in di jwt; do
        f="$work/$s.$env"
        if ! cli "$s" sign-grant --key "$KEY" --envelope "$env" --at "$SIGN_AT" "$UNSIGNED" >"$f" 2>"$f.err"; then
            printf '%-24s signing FAILED: %s\n' "$s/$env" "$(cat "$f.err")"
            bad=1
            continue
        fi
        tamper_grant "$f" "$f.tampered"
        printf '%-24s' "$s/$env"
        for v in "${VERIFIERS[@]}"; do
            cell=""
            if verify_grant "$v" "$f"; then cell="ok"; else cell="FAIL"; bad=1; fi
            if verify_grant "$v" "$f.tampered"; then cell="$cell/ACCEPTED"; bad=1; else cell="$cell/refused"; fi
            printf '%-18s' "$cell"
        done
        if [[ "$env" == di ]]; then
            same="$(python3 -c 'import json,sys; print("yes (JSON)" if json.load(open(sys.argv[1])) == json.load(open(sys.argv[2])) else "no")' "$f" "$root/spec/examples/grant.signed.di.json")"
        else
            same="$(cmp -s <(tr -d '\n' <"$f") <(tr -d '\n' <"$root/spec/examples/grant.signed.jwt") && echo "yes (bytes)" || echo "no (member order of the JWS header or payload differs: still valid)")"
        fi
        printf '%s\n' "$same"
    done
done

if [[ "${CROSS_SKIP_LIVE:-}" == 1 ]]; then
    echo "== receipts: skipped (CROSS_SKIP_LIVE=1)"
else
    echo "== receipts: the Java live scenario's release receipt, verified by each library"
    tb="$work/testbed"
    "$here/testbed.sh" up "$tb" >/dev/null
    bundle="$work/receipt.json"
    (cd "$here/java" && CONSENTRY_TESTBED="$tb/testbed.json" CONSENTRY_RECEIPT_BUNDLE="$bundle" \
        nice mvn -q -o -B -Dmaven.repo.local=/usr/share/maven-repo test -Dtest=LiveScenarioTest \
        -Dsurefire.failIfNoSpecifiedTests=false >"$work/java-live.log" 2>&1) || {
        echo "the Java live scenario failed:" >&2
        cat "$work/java-live.log" >&2
        exit 1
    }
    if [[ ! -s "$bundle" ]]; then
        echo "the Java live scenario wrote no receipt bundle" >&2
        exit 1
    fi
    python3 - "$bundle" "$work" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
w = sys.argv[2]
t = dict(b)
t["leafHash"] = ("1" if b["leafHash"][0] != "1" else "2") + b["leafHash"][1:]
json.dump(t, open(f"{w}/receipt.other-leaf.json", "w"))
# The checkpoint's root line (the one after the size line of the note) with one character changed.
lines = b["receipt"].split("\n")
blank = lines.index("")
root_line = blank + 3
r = lines[root_line]
lines[root_line] = ("A" if r[0] != "A" else "B") + r[1:]
t = dict(b)
t["receipt"] = "\n".join(lines)
json.dump(t, open(f"{w}/receipt.other-root.json", "w"))
print(f"bundle: entry {b['index']} of {b['logKey'].split('+')[0]}")
PY
    printf '%-24s' "receipt bundle"
    for v in "${LANGS[@]}"; do printf '%-18s' "$v"; done
    printf '\n'
    for case in receipt receipt.other-leaf receipt.other-root; do
        printf '%-24s' "$case"
        for v in "${LANGS[@]}"; do
            if cli "$v" verify-receipt "$work/$case.json" >"$work/out" 2>&1; then ok=1; else ok=0; fi
            if [[ "$case" == receipt ]]; then
                if ((ok)); then cell=ok; else cell=FAIL; bad=1; { echo "$v on $case:"; sed 's/^/    /' "$work/out"; } >>"$work/failures"; fi
            else
                if ((ok)); then cell=ACCEPTED; bad=1; else cell=refused; fi
            fi
            printf '%-18s' "$cell"
        done
        printf '\n'
    done
fi

if [[ -s "$work/failures" ]]; then
    cat "$work/failures" >&2
fi
if ((bad)); then
    echo "cross.sh: DISAGREEMENT (see FAIL / ACCEPTED above)" >&2
    exit 1
fi
echo "cross.sh: every library and the Rust core agree"
