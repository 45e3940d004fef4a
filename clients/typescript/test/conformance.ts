/** Runs every case of spec/vectors/conformance.json with this library; prints the count passed per kind. */
import fs from 'node:fs';
import path from 'node:path';
import * as C from '../src/index.js';
import { ROOT, SPEC } from './paths.js';

type Case = Record<string, any> & { id: string; kind: string; expect: 'accept' | 'reject'; reason?: string };

function jsonReason(e: unknown): string {
  const m = (e as Error).message;
  if (/duplicate member/.test(m)) return 'duplicate-key';
  if (/cannot be represented exactly/.test(m)) return 'unsafe-integer';
  return 'invalid-json';
}
function codeOf(e: unknown): string[] {
  if (e instanceof C.VerificationError) return [e.code, ...(e.causeCode ? [e.causeCode] : [])];
  if (e instanceof C.ConsentryError) return [e.code];
  return [`exception: ${(e as Error).message}`];
}
const at = (c: Case) => (c.at ? Date.parse(c.at) : Date.now());

/** Runs one case: returns an error message, or null if it passed. */
async function run(c: Case): Promise<string | null> {
  let result: unknown;
  let codes: string[] = [];
  let failed = false;
  try {
    switch (c.kind) {
      case 'jcs': {
        let v;
        try {
          v = C.parseStrict(c.input);
        } catch (e) {
          codes = [jsonReason(e)];
          throw e;
        }
        result = C.canonicalize(v);
        if (c.expect === 'accept' && result !== c.canonical) return `canonical ${JSON.stringify(result)} ≠ ${JSON.stringify(c.canonical)}`;
        break;
      }
      case 'jcs-number': {
        const n = new DataView(C.hexDecode(c.ieee754Hex).buffer).getFloat64(0);
        try {
          result = C.numberToJcs(n);
        } catch (e) {
          codes = ['not-a-finite-number'];
          throw e;
        }
        if (c.expect === 'accept' && result !== c.canonical) return `${result} ≠ ${c.canonical}`;
        break;
      }
      case 'jcs-numbers': {
        const rows = fs.readFileSync(path.join(ROOT, c.file), 'utf8').trim().split('\n').slice(1);
        if (rows.length !== c.rows) return `${rows.length} rows, expected ${c.rows}`;
        for (const row of rows) {
          const [hex, es6, src] = row.split(',');
          const n = new DataView(C.hexDecode(hex).buffer).getFloat64(0);
          if (C.numberToJcs(n) !== es6) return `row ${hex}: ${C.numberToJcs(n)} ≠ ${es6}`;
          const parsed = C.parseStrict(src) as number;
          if (parsed !== n && !(parsed === 0 && n === 0)) return `row ${hex}: parsing ${src} gives ${parsed}`;
          if (C.canonicalize(parsed) !== es6) return `row ${hex}: canonicalizing ${src}`;
        }
        break;
      }
      case 'did-key': {
        const k = C.DidKey.parse(c.did);
        if (c.expect === 'accept' && C.hexEncode(k.publicKey) !== c.publicKeyHex) return 'wrong public key';
        break;
      }
      case 'ed25519-sign': {
        const sig = await C.ed25519Sign(C.hexDecode(c.secretKeyHex), C.hexDecode(c.messageHex));
        if (C.hexEncode(sig) !== c.signatureHex) return 'wrong signature';
        break;
      }
      case 'ed25519-verify': {
        const pub = C.hexDecode(c.publicKeyHex);
        if (!C.isStrongPublicKey(pub)) {
          codes = ['weak-key'];
          throw new Error('weak key');
        }
        if (!(await C.ed25519Verify(pub, C.hexDecode(c.messageHex), C.hexDecode(c.signatureHex)))) {
          codes = ['invalid-signature'];
          throw new Error('invalid signature');
        }
        break;
      }
      case 'data-integrity-verify': {
        const doc = C.parseStrict(c.document);
        await C.verifyDataIntegrity(doc as C.JsonObject, at(c));
        break;
      }
      case 'data-integrity-sign': {
        const key = C.KeyPair.fromJson({ ...keyJsonOf(c.secretKeyMultibase) });
        const signed = await C.signDataIntegrity(C.parseStrict(c.unsigned) as C.JsonObject, key, Date.parse(c.created));
        const pv = (signed.proof as C.JsonObject).proofValue;
        if (pv !== c.proofValue) return `proofValue ${pv} ≠ ${c.proofValue}`;
        break;
      }
      case 'vc-jwt-verify':
        await C.verifyVcJwt(c.jwt, at(c));
        break;
      case 'jws-verify': {
        const pub = C.hexDecode(c.publicKeyHex);
        if (!C.isStrongPublicKey(pub)) {
          codes = ['weak-key'];
          throw new Error('weak key');
        }
        const parts = c.jws.split('.');
        if (parts.length !== 3) throw new C.VerificationError('jws-format', 'not three segments');
        C.b64urlDecode(parts[0], 'jws-base64');
        C.b64urlDecode(parts[1], 'jws-base64');
        const sig = C.b64urlDecode(parts[2], 'jws-base64');
        if (!(await C.ed25519Verify(pub, C.utf8(`${parts[0]}.${parts[1]}`), sig))) {
          codes = ['invalid-signature'];
          throw new Error('invalid signature');
        }
        break;
      }
      case 'grant-verify': {
        const g = await C.verifyGrant(c.grant, { now: at(c) });
        const env = g.envelope === 'data-integrity' ? 'di' : 'jwt';
        if (c.expect === 'accept' && (g.id !== c.grantId || env !== c.envelope)) return `got ${g.id} ${env}`;
        break;
      }
      case 'status-list': {
        const list = await C.StatusList.decode(c.encodedList, c.statusSize);
        const v = list.get(c.index);
        if (c.expect === 'accept' && v !== c.value) return `value ${v} ≠ ${c.value}`;
        break;
      }
      case 'status-check': {
        const cred = await C.verifyCredential(c.credential, at(c));
        const list = await C.verifyStatusListCredential(c.statusListCredential, { now: at(c) });
        const st = C.checkCredentialStatus(cred.document, list);
        if (c.expect === 'accept' && st !== c.status) return `status ${st} ≠ ${c.status}`;
        break;
      }
      case 'merkle-root': {
        const r = C.merkleRoot(c.leavesHex.map((h: string) => C.hexDecode(h)));
        if (C.hexEncode(r) !== c.rootHex) return 'wrong root';
        break;
      }
      case 'merkle-inclusion':
        C.verifyInclusion(C.hexDecode(c.leafHashHex, 'merkle', 'leaf', true), c.index, c.treeSize, c.proofHex.map((h: string) => C.hexDecode(h, 'merkle', 'proof', true)), C.hexDecode(c.rootHex, 'merkle', 'root', true));
        break;
      case 'merkle-consistency':
        C.verifyConsistency(c.size1, c.size2, C.hexDecode(c.root1Hex, 'merkle', 'root', true), C.hexDecode(c.root2Hex, 'merkle', 'root', true), c.proofHex.map((h: string) => C.hexDecode(h, 'merkle', 'proof', true)));
        break;
      default:
        return `unknown kind ${c.kind}`;
    }
  } catch (e) {
    failed = true;
    if (codes.length === 0) codes = codeOf(e);
    if (c.expect === 'accept') return `refused: ${(e as Error).message}`;
  }
  if (c.expect === 'reject') {
    if (!failed) return 'accepted, expected a refusal';
    if (c.reason && !codes.includes(c.reason)) return `refused with ${codes.join('/')}, expected ${c.reason}`;
  }
  return null;
}

function keyJsonOf(secretKeyMultibase: string): C.KeyFileJson {
  // Derive did and public multibase from the seed, then read it through the key-file path.
  const raw = C.b58Decode(secretKeyMultibase.slice(1));
  const k = C.KeyPair.fromSeed(raw.slice(2));
  return { did: k.did, publicKeyMultibase: k.didKey.multibase, secretKeyMultibase };
}

/** Runs the whole manifest. */
export async function runConformance(): Promise<{ passed: Record<string, number>; counts: Record<string, number>; failures: string[] }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(SPEC, 'vectors/conformance.json'), 'utf8'));
  if (manifest.format !== 'consentry-conformance/v1') throw new Error(`unknown format ${manifest.format}`);
  const passed: Record<string, number> = {};
  const failures: string[] = [];
  for (const c of manifest.cases as Case[]) {
    const err = await run(c);
    if (err === null) passed[c.kind] = (passed[c.kind] ?? 0) + 1;
    else failures.push(`${c.id} (${c.kind}, expect ${c.expect}${c.reason ? ` ${c.reason}` : ''}): ${err}`);
  }
  return { passed, counts: manifest.counts, failures };
}
