/**
 * Verifiable Credentials secured with Data Integrity `eddsa-jcs-2022` or as VC-JWT
 * (`application/vc+jwt`, compact JWS, EdDSA), and the generic compact-JWS signing used by client
 * assertions and signed requests. Error codes are those of spec/grant.md §2.3 and §5.
 */
import { b58Decode, b58Encode, b64urlDecode, b64urlEncode, concat, fromUtf8, utf8 } from './encoding.js';
import { VerificationError, fail } from './errors.js';
import { ed25519Verify, sha256 } from './crypto.js';
import { DidKey, KeyPair } from './did.js';
import { type Json, type JsonObject, canonicalize, isObject, parseStrict, parseStrictTrimmed, trimAsciiWhitespace } from './json.js';
import { formatUtcSeconds, parseDateTimeStamp } from './datetime.js';

/** The VC Data Model 2.0 context. */
export const CREDENTIALS_V2 = 'https://www.w3.org/ns/credentials/v2';
/** Clock skew allowed for proof times and JWT claims: 5 minutes. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Which envelope secured a credential. */
export type Envelope = 'data-integrity' | 'vc-jwt';

/** A credential whose proof verified. */
export interface VerifiedProof {
  /** The envelope. */
  envelope: Envelope;
  /** The unsecured document: for Data Integrity without `proof` and under the proof's `@context`; for a JWT the payload without registered claims. */
  document: JsonObject;
  /** The key that signed. */
  signer: DidKey;
  /** `created` or `iat`, ms since the epoch (undefined for a JWT without `iat`). */
  signedAt?: number;
  /** The issuer's id, if any. */
  issuer?: string;
  /** True if the issuer is exactly the signer's did:key. */
  issuerBound: boolean;
  /**
   * The instants (ms, both inclusive; ±Infinity when unbounded) within which this proof's own time
   * checks pass again as they did here: `created` − skew … `expires` − 1 ms (Data Integrity), the
   * later of `nbf` and `iat` − skew … `exp` + skew − 1 ms (VC-JWT, whole seconds). What a
   * `VerifiedGrantCache` re-checks on a hit.
   */
  timeBounds: { from: number; until: number };
}

/** The `issuer` of a credential: a string, or the `id` of an object. */
export function issuerOf(doc: JsonObject): string | undefined {
  const i = doc.issuer;
  if (typeof i === 'string') return i;
  if (isObject(i) && typeof i.id === 'string') return i.id;
  return undefined;
}

function hashData(proofOptions: JsonObject, document: JsonObject): Uint8Array {
  let p: string;
  let d: string;
  try {
    p = canonicalize(proofOptions);
    d = canonicalize(document);
  } catch (e) {
    fail('canonicalization', e instanceof Error ? e.message : String(e));
  }
  return concat(sha256(p), sha256(d));
}

function contextList(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function checkIssuerForSigning(doc: JsonObject, key: KeyPair): void {
  const issuer = issuerOf(doc);
  if (issuer !== undefined && issuer.startsWith('did:key:') && issuer !== key.did) {
    throw new VerificationError('issuer-mismatch', `issuer ${issuer} is not the signing key's DID ${key.did}`);
  }
}

/**
 * Adds an `eddsa-jcs-2022` Data Integrity proof (vc-di-eddsa §3.3.1, with the document's
 * `@context` copied into the proof). Deterministic for a given key, document and `created`.
 */
export async function signDataIntegrity(unsecured: JsonObject, key: KeyPair, created: Date | number = Date.now()): Promise<JsonObject> {
  if (!isObject(unsecured)) fail('not-an-object', 'only a JSON object can be secured');
  if ('proof' in unsecured) fail('already-signed', 'the document already has a proof; remove it to re-sign');
  checkIssuerForSigning(unsecured, key);
  const proof: JsonObject = {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-jcs-2022',
    created: formatUtcSeconds(created),
    verificationMethod: key.verificationMethod,
    proofPurpose: 'assertionMethod',
  };
  if (unsecured['@context'] !== undefined) proof['@context'] = unsecured['@context'];
  const sig = await key.sign(hashData(proof, unsecured));
  return { ...unsecured, proof: { ...proof, proofValue: `z${b58Encode(sig)}` } };
}

function requiredStr(proof: JsonObject, name: string): string {
  const v = proof[name];
  if (typeof v !== 'string') fail('proof-option', `proof option ${name} is missing or not a string`);
  return v;
}

/**
 * Verifies an `eddsa-jcs-2022` proof (vc-di-eddsa §3.3.2 plus the checks of spec/grant.md
 * §2.3.1). Does not check the credential itself (see `verifyCredential`).
 */
export async function verifyDataIntegrity(secured: JsonObject, now: number = Date.now()): Promise<VerifiedProof> {
  if (!isObject(secured)) fail('unknown-envelope', 'a Data Integrity document is a JSON object');
  const proof = secured.proof;
  if (proof === undefined) fail('missing-proof', 'the document has no proof');
  if (Array.isArray(proof)) fail('proof-set', 'proof sets and chains are not accepted');
  if (!isObject(proof)) fail('proof-option', 'proof is not an object');
  const proofValue = requiredStr(proof, 'proofValue');
  const type = requiredStr(proof, 'type');
  if (type !== 'DataIntegrityProof') fail('proof-type', `proof type ${JSON.stringify(type)} is not DataIntegrityProof`);
  const suite = requiredStr(proof, 'cryptosuite');
  if (suite !== 'eddsa-jcs-2022') fail('wrong-cryptosuite', `cryptosuite ${JSON.stringify(suite)} is not eddsa-jcs-2022`);
  if (!proofValue.startsWith('z')) fail('proof-value', 'proofValue is not multibase base58btc');
  const sig = b58Decode(proofValue.slice(1), 'proof-value', 'proofValue');
  if (sig.length !== 64) fail('proof-value', `proofValue decodes to ${sig.length} bytes, not 64`);
  const proofCtx = proof['@context'];
  if (proofCtx !== undefined) {
    const p = contextList(proofCtx);
    const d = secured['@context'];
    if (d === undefined) fail('context-mismatch', "the proof's @context is not a prefix of the document's");
    const dl = contextList(d);
    if (p.length > dl.length || p.some((x, i) => canonicalize(x) !== canonicalize(dl[i]))) {
      fail('context-mismatch', "the proof's @context is not a prefix of the document's");
    }
  }
  const createdText = requiredStr(proof, 'created');
  const created = parseDateTimeStamp(createdText, 'proof-created', 'created');
  if (created > now + CLOCK_SKEW_MS) fail('proof-created-in-future', `proof created ${createdText} is in the future`);
  let until = Infinity;
  if (proof.expires !== undefined) {
    if (typeof proof.expires !== 'string') fail('proof-option', 'expires is not a string');
    const at = parseDateTimeStamp(proof.expires, 'proof-expired', 'expires');
    if (at <= now) fail('proof-expired', `proof expired at ${proof.expires}`);
    until = at - 1;
  }
  const purpose = requiredStr(proof, 'proofPurpose');
  if (purpose !== 'assertionMethod') fail('proof-purpose', `proofPurpose ${JSON.stringify(purpose)} is not assertionMethod`);
  const signer = DidKey.fromVerificationMethod(requiredStr(proof, 'verificationMethod'));
  const options: JsonObject = {};
  for (const k of Object.keys(proof)) if (k !== 'proofValue') options[k] = proof[k];
  const document: JsonObject = {};
  for (const k of Object.keys(secured)) if (k !== 'proof') document[k] = secured[k];
  if (proofCtx !== undefined && '@context' in document) document['@context'] = proofCtx;
  if (!(await ed25519Verify(signer.publicKey, hashData(options, document), sig))) fail('bad-signature', 'signature does not verify');
  return finish('data-integrity', document, signer, created, { from: created - CLOCK_SKEW_MS, until });
}

function finish(envelope: Envelope, document: JsonObject, signer: DidKey, signedAt: number | undefined, timeBounds: { from: number; until: number }): VerifiedProof {
  const issuer = issuerOf(document);
  const issuerBound = issuer === signer.did;
  if (issuer !== undefined && issuer.startsWith('did:key:') && !issuerBound) {
    fail('issuer-mismatch', `issuer ${issuer} is not the signer ${signer.did}`);
  }
  return { envelope, document, signer, signedAt, issuer, issuerBound, timeBounds };
}

/** What a compact JWS's header must say about media types. */
export interface JwsMediaTypes {
  /** Accepted `typ` values (case-insensitive). */
  typ: string[];
  /** Whether `typ` may be absent. */
  typOptional: boolean;
  /** Accepted `cty` values when present (empty: any). */
  cty: string[];
}

/** A compact JWS whose EdDSA signature verified. */
export interface VerifiedJws {
  header: JsonObject;
  payload: Uint8Array;
  signer: DidKey;
}

function mediaType(header: JsonObject, param: string, accepted: string[], optional: boolean): void {
  const v = header[param];
  if (v === undefined && (optional || accepted.length === 0)) return;
  if (typeof v === 'string' && accepted.some((a) => a.toLowerCase() === v.toLowerCase())) return;
  fail('jws-media-type', `JWS ${param} ${v === undefined ? '(missing)' : JSON.stringify(v)} refused: expected ${accepted[0]}`);
}

/**
 * Verifies a compact JWS signed with EdDSA by the did:key in `kid` (strict Ed25519, canonical
 * base64url, I-JSON header, `alg` pinned to EdDSA before anything else is read, no `crit`).
 */
export async function verifyJws(token: string, types: JwsMediaTypes): Promise<VerifiedJws> {
  // Trailing CR/LF removed by a loop: the expression /[\r\n]+$/ is tried at every position.
  let end = token.length;
  while (end > 0 && (token.charCodeAt(end - 1) === 0x0a || token.charCodeAt(end - 1) === 0x0d)) end--;
  const t = end === token.length ? token : token.slice(0, end);
  const parts = t.split('.');
  if (parts.length !== 3) fail('jws-format', 'expected header.payload.signature');
  const [h64, p64, s64] = parts;
  const header = parseStrict(b64urlDecode(h64, 'jws-base64', 'JWS header'));
  if (!isObject(header)) fail('jws-header', 'the JWS header is not a JSON object');
  const alg = typeof header.alg === 'string' ? header.alg : '(missing)';
  if (alg !== 'EdDSA') fail('jws-algorithm', `JWS alg ${JSON.stringify(alg)} refused: only EdDSA is accepted`);
  if (header.crit !== undefined) fail('jws-crit', 'JWS crit is not supported');
  mediaType(header, 'typ', types.typ, types.typOptional);
  mediaType(header, 'cty', types.cty, true);
  if (typeof header.kid !== 'string') fail('jws-missing-kid', 'the JWS header has no kid');
  const signer = DidKey.fromVerificationMethod(header.kid);
  const sig = b64urlDecode(s64, 'jws-base64', 'JWS signature');
  if (sig.length !== 64) fail('bad-signature', 'signature does not verify');
  const payload = b64urlDecode(p64, 'jws-base64', 'JWS payload');
  if (!(await ed25519Verify(signer.publicKey, utf8(`${h64}.${p64}`), sig))) fail('bad-signature', 'signature does not verify');
  return { header, payload, signer };
}

/** Signs `payload` as a compact JWS `{"alg":"EdDSA","typ":typ,"kid":<vm>}`. */
export async function signJws(payload: Uint8Array | string, typ: string, key: KeyPair): Promise<string> {
  const h64 = b64urlEncode(utf8(JSON.stringify({ alg: 'EdDSA', typ, kid: key.verificationMethod })));
  const p64 = b64urlEncode(typeof payload === 'string' ? utf8(payload) : payload);
  const sig = await key.sign(utf8(`${h64}.${p64}`));
  return `${h64}.${p64}.${b64urlEncode(sig)}`;
}

const VC_JWT_TYPES: JwsMediaTypes = { typ: ['vc+jwt', 'application/vc+jwt'], typOptional: true, cty: ['vc', 'application/vc'] };
const REGISTERED = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'];

function numericDate(claims: JsonObject, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) >= 1e15) fail('jwt-claim', `${name} is not a NumericDate`);
  return Math.floor(v);
}

/**
 * Signs a credential as a VC-JWT (vc-jose-cose §3.1.1): the credential itself is the payload, plus
 * `iss` and `iat`, written in its RFC 8785 canonical form.
 */
export async function signVcJwt(credential: JsonObject, key: KeyPair, issuedAt: Date | number = Date.now()): Promise<string> {
  if ('proof' in credential) fail('already-signed', 'the document already has a proof');
  checkIssuerForSigning(credential, key);
  const claims: JsonObject = { ...credential };
  const iss = issuerOf(credential);
  if (iss !== undefined) claims.iss = iss;
  claims.iat = Math.floor((typeof issuedAt === 'number' ? issuedAt : issuedAt.getTime()) / 1000);
  return signJws(canonicalize(claims), 'vc+jwt', key);
}

/** Verifies a VC-JWT (spec/grant.md §2.3.2); returns the payload without its registered claims. */
export async function verifyVcJwt(token: string, now: number = Date.now()): Promise<VerifiedProof> {
  const { payload, signer } = await verifyJws(token, VC_JWT_TYPES);
  const doc = parseStrict(fromUtf8(payload, 'malformed-json', 'JWS payload'));
  if (!isObject(doc)) fail('jwt-claim', 'the payload is not a JSON object');
  for (const f of ['vc', 'vp']) if (doc[f] !== undefined) fail('jwt-forbidden-claim', `claim ${f} is not allowed`);
  const issuer = issuerOf(doc);
  if (issuer === undefined) fail('missing-issuer', 'the payload has no issuer');
  if (doc.iss !== undefined) {
    if (typeof doc.iss !== 'string') fail('jwt-claim', 'iss is not a string');
    if (doc.iss !== issuer) fail('jwt-iss-mismatch', `iss ${doc.iss} is not the issuer ${issuer}`);
  }
  const nowS = Math.floor(now / 1000);
  const skew = CLOCK_SKEW_MS / 1000;
  const exp = numericDate(doc, 'exp');
  if (exp !== undefined && nowS >= exp + skew) fail('jwt-expired', `expired at ${exp}`);
  const nbf = numericDate(doc, 'nbf');
  if (nbf !== undefined && nowS + skew < nbf) fail('jwt-not-before', `not valid before ${nbf}`);
  const iat = numericDate(doc, 'iat');
  if (iat !== undefined && nowS + skew < iat) fail('jwt-issued-in-future', `issued in the future (${iat})`);
  const document: JsonObject = {};
  for (const k of Object.keys(doc)) if (!REGISTERED.includes(k)) document[k] = doc[k];
  // The checks above pass exactly while floor(now / 1000) is within [max(nbf, iat) − skew, exp + skew − 1].
  const from = Math.max(nbf ?? -Infinity, iat ?? -Infinity) - skew;
  const timeBounds = { from: from * 1000, until: exp === undefined ? Infinity : (exp + skew) * 1000 - 1 };
  return finish('vc-jwt', document, signer, iat === undefined ? undefined : iat * 1000, timeBounds);
}

/** Detects the envelope after trimming ASCII whitespace: `{` is Data Integrity, base64url is a JWT. */
export function detectEnvelope(input: string): Envelope {
  const t = trimAsciiWhitespace(input);
  if (t.startsWith('{')) return 'data-integrity';
  if (/^[A-Za-z0-9_-]/.test(t)) return 'vc-jwt';
  fail('unknown-envelope', 'neither a JSON document nor a JWT');
}

/**
 * Verifies a secured credential in either envelope (text or bytes as received) and the VC Data
 * Model checks (spec/grant.md §5 steps 1–2). Throws `VerificationError` with one reason.
 */
export async function verifyCredential(input: string | Uint8Array, now: number = Date.now()): Promise<VerifiedProof> {
  return (await verifyCredentialWindow(input, now)).proof;
}

/** `verifyCredential`, with the `validFrom`/`validUntil` its VC Data Model check read (ms). */
export async function verifyCredentialWindow(input: string | Uint8Array, now: number = Date.now()): Promise<{ proof: VerifiedProof; validFrom?: number; validUntil?: number }> {
  const text = typeof input === 'string' ? input : fromUtf8(input, 'malformed-json', 'input');
  const env = detectEnvelope(text);
  let v: VerifiedProof;
  if (env === 'data-integrity') {
    const doc = parseStrictTrimmed(text);
    if (!isObject(doc)) fail('unknown-envelope', 'not a JSON object');
    v = await verifyDataIntegrity(doc, now);
  } else v = await verifyVcJwt(trimAsciiWhitespace(text), now);
  const { validFrom, validUntil } = checkVcDataModel(v.document);
  return { proof: v, validFrom, validUntil };
}

/** VC Data Model 2.0 checks (code `vc-data-model`). Returns validFrom/validUntil in ms when present. */
export function checkVcDataModel(doc: JsonObject): { validFrom?: number; validUntil?: number } {
  const ctx = doc['@context'];
  if (!Array.isArray(ctx) || ctx[0] !== CREDENTIALS_V2) fail('vc-data-model', `@context must be an ordered list starting with ${CREDENTIALS_V2} (VCDM 2.0 §4.3)`);
  const types = typeof doc.type === 'string' ? [doc.type] : Array.isArray(doc.type) ? doc.type : [];
  if (!types.includes('VerifiableCredential')) fail('vc-data-model', 'type must include VerifiableCredential (VCDM 2.0 §4.5)');
  const issuer = issuerOf(doc);
  if (issuer === undefined || !issuer.includes(':')) fail('vc-data-model', 'issuer must be a URL or an object with an id (VCDM 2.0 §4.7)');
  const cs = doc.credentialSubject;
  if (!(isObject(cs) || (Array.isArray(cs) && cs.length > 0 && cs.every(isObject)))) fail('vc-data-model', 'credentialSubject is required (VCDM 2.0 §4.8)');
  const validFrom = doc.validFrom === undefined ? undefined : parseDateTimeStamp(doc.validFrom, 'vc-data-model', 'validFrom');
  const validUntil = doc.validUntil === undefined ? undefined : parseDateTimeStamp(doc.validUntil, 'vc-data-model', 'validUntil');
  if (validFrom !== undefined && validUntil !== undefined && validFrom > validUntil) fail('vc-data-model', 'validFrom is after validUntil (VCDM 2.0 §4.9)');
  return { validFrom, validUntil };
}
