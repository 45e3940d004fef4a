#!/usr/bin/env bash
# Regenerates every example in this folder from enterprise.key.json (which it never replaces).
# Ed25519 signatures and RFC 8785 canonicalization are deterministic, so re-running this script
# reproduces the committed files byte for byte: `git diff --exit-code spec/examples` after it.
#
#   bash spec/examples/make.sh            # uses target/debug/consentry (run `cargo build` first)
#   CONSENTRY=/path/to/consentry bash spec/examples/make.sh
#
# Needs bash and python3 (standard library only). See README.md for what each file shows.
set -euo pipefail
cd "$(dirname "$0")"
consentry() { "${CONSENTRY:-../../target/debug/consentry}" "$@"; }
DID=$(python3 -c 'import json; print(json.load(open("enterprise.key.json"))["did"])')

# Flags shared by the valid grant and the bank-raw refusal; only --bank differs.
grant_new() {
  consentry grant new \
    --id urn:uuid:3f9a6c2e-8a1b-4c55-9d0e-7b2f1a4c5d60 \
    --issuer "$DID" \
    --enterprise 91330100716105852F --enterprise-name 杭州示例科技有限公司 \
    --grantee 91440300708461136T --grantee-name 示例融资信用服务平台 \
    --bank "$1" \
    --category TAX-03=raw --category SOC-01=derived --category REG-01=raw \
    --purpose credit-approval --purpose post-loan-management \
    --data-from 2024-01-01 --data-until 2026-10-31 \
    --periodic 4/month \
    --valid-from 2026-12-01T00:00:00Z --valid-until 2027-12-01T00:00:00Z \
    --status-list https://node.example/status/1 --status-index 4242
}

# 1. The valid grant, unsigned, then in both envelopes.
grant_new '911000001000013428:示例银行:TAX-03=derived,REG-01=raw' > grant.unsigned.json
consentry vc sign --key enterprise.key.json --created 2026-11-30T08:00:00Z grant.unsigned.json \
  > grant.signed.di.json
consentry vc sign --key enterprise.key.json --format jwt --created 2026-11-30T08:00:00Z grant.unsigned.json \
  > grant.signed.jwt

# 2. Rules family: a bank given raw records of a non-public category. `grant new` refuses it
#    (exit 1) and prints the reasons; the refused terms are written out by editing the valid grant.
{ grant_new '911000001000013428:示例银行:TAX-03=raw,REG-01=raw' 2>&1 || echo "exit status $?"; } \
  > grant.invalid.bank-raw.txt
python3 - <<'EOF'
import json
g = json.load(open("grant.unsigned.json"))
g["credentialSubject"]["onwardRecipients"][0]["categories"][0]["granularity"] = "raw"
open("grant.invalid.bank-raw.json", "w").write(json.dumps(g, ensure_ascii=False, indent=2) + "\n")
EOF
consentry vc sign --key enterprise.key.json --created 2026-11-30T08:00:00Z grant.invalid.bank-raw.json \
  > grant.invalid.bank-raw.di.json

# 3. Credential family (VC Data Model 2.0): validFrom after validUntil, properly signed.
python3 - <<'EOF'
import json
g = json.load(open("grant.unsigned.json"))
g["validFrom"], g["validUntil"] = g["validUntil"], g["validFrom"]
open("grant.invalid.window.json", "w").write(json.dumps(g, ensure_ascii=False, indent=2) + "\n")
EOF
consentry vc sign --key enterprise.key.json --created 2026-11-30T08:00:00Z grant.invalid.window.json \
  > grant.invalid.window.di.json
rm grant.invalid.window.json

# 4. Proof family: the signed grant with one term changed after signing (4 releases a month -> 40).
python3 - <<'EOF'
import json
g = json.load(open("grant.signed.di.json"))
g["credentialSubject"]["usage"]["maxReleases"] = 40
open("grant.invalid.tampered.di.json", "w").write(json.dumps(g, ensure_ascii=False, indent=2) + "\n")
EOF

# 5. Proof family, VC-JWT: algorithm confusion. Same payload, header alg HS256, "signed" with HMAC
#    keyed by the enterprise's public key bytes. Verifiers pin alg to EdDSA and refuse it unread.
python3 - <<'EOF'
import base64, hashlib, hmac, json
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58decode(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    return n.to_bytes((n.bit_length() + 7) // 8, "big")
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
did = json.load(open("enterprise.key.json"))["did"]
public = b58decode(did[len("did:key:z"):])[2:]  # drop the 0xed01 multicodec prefix
payload = open("grant.signed.jwt").read().strip().split(".")[1]
header = b64(json.dumps({"alg": "HS256", "typ": "vc+jwt", "kid": did + "#" + did[len("did:key:"):]},
                        separators=(",", ":")).encode())
signature = b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
open("grant.invalid.alg-hs256.jwt", "w").write(f"{header}.{payload}.{signature}\n")
EOF
