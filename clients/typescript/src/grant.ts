/**
 * The Consentry grant (spec/grant.md): a `CreditDataAuthorization` Verifiable Credential. Build
 * it, sign it in either envelope, and verify it with every rule of §4 (all violations reported).
 */
import { Catalog } from './catalog.js';
import {
  type Envelope,
  checkVcDataModel,
  issuerOf,
  signDataIntegrity,
  signVcJwt,
  verifyCredentialWindow,
} from './credential.js';
import type { DidKey, KeyPair } from './did.js';
import { type Reason, VerificationError } from './errors.js';
import { sha256Hex } from './crypto.js';
import { fromUtf8 } from './encoding.js';
import { type Json, type JsonObject, isObject, trimAsciiWhitespace } from './json.js';
import { formatUtcSeconds, parseDate } from './datetime.js';

/** The grant's JSON-LD context. */
export const GRANT_CONTEXT = 'https://w3id.org/consentry/v1';
/** The grant's credential type. */
export const GRANT_TYPE = 'CreditDataAuthorization';

/** `raw` records or `derived` results; `raw` covers `derived`. */
export type Granularity = 'raw' | 'derived';
/** A category and its granularity. */
export interface CategoryGrant {
  code: string;
  granularity: Granularity;
}
/** The grant's terms (`credentialSubject`, spec/grant.md §3). */
export interface GrantTerms {
  enterprise: { uscc: string; name: string };
  grantee: { uscc: string; name: string; role: 'platform' | 'node' };
  onwardRecipients?: { uscc: string; name: string; role: 'bank'; categories: CategoryGrant[] }[];
  categories: CategoryGrant[];
  purposes: string[];
  dataPeriod: { from: string; until: string };
  usage: { mode: 'one-off' } | { mode: 'periodic'; maxReleases: number; per: 'day' | 'week' | 'month' };
  letters?: { id: string; sha256: string }[];
  catalogVersion?: string;
}
/** One status entry (`BitstringStatusListEntry`). */
export interface StatusEntry {
  id?: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: 'revocation' | 'suspension';
  statusListIndex: string;
  statusListCredential: string;
}
/** A status slot allocated by the node (`POST /v1/status/slots`): the list-pair base and an index. */
export interface StatusSlot {
  /** `<base>`, for example `https://node.example/status/1`. */
  statusList: string;
  /** The index in both lists. */
  statusIndex: number | string;
}

/** What `buildGrant` needs. */
export interface GrantDraft {
  /** `urn:uuid:…`; a random v4 UUID if omitted. */
  id?: string;
  /** The enterprise's did:key (the signer). */
  issuer: string | DidKey | KeyPair;
  terms: GrantTerms;
  validFrom: Date | number;
  validUntil: Date | number;
  status: StatusSlot;
  /** Attach the newest letter of every provider that the grantee's non-public categories need (default true when `terms.letters` is absent). */
  attachLetters?: boolean;
  catalog?: Catalog;
}

/** A random version-4 UUID as `urn:uuid:…` (lowercase). */
export function randomGrantId(): string {
  return `urn:uuid:${globalThis.crypto.randomUUID()}`;
}

/** The two status entries of a slot. */
export function statusEntries(slot: StatusSlot): StatusEntry[] {
  const i = String(slot.statusIndex);
  return (['revocation', 'suspension'] as const).map((p) => ({
    id: `${slot.statusList}/${p}#${i}`,
    type: 'BitstringStatusListEntry' as const,
    statusPurpose: p,
    statusListIndex: i,
    statusListCredential: `${slot.statusList}/${p}`,
  }));
}

/**
 * Builds the unsigned grant credential. Throws a `VerificationError` with every violation if
 * the terms break a rule (like `consentry grant new`).
 */
export function buildGrant(draft: GrantDraft, catalog: Catalog = draft.catalog ?? Catalog.builtin()): JsonObject {
  const issuer = typeof draft.issuer === 'string' ? draft.issuer : draft.issuer.did;
  const terms: GrantTerms = { ...draft.terms };
  if (terms.letters === undefined && draft.attachLetters !== false) terms.letters = catalog.lettersFor(terms.categories.map((c) => c.code));
  const grant = {
    '@context': ['https://www.w3.org/ns/credentials/v2', GRANT_CONTEXT],
    id: draft.id ?? randomGrantId(),
    type: ['VerifiableCredential', GRANT_TYPE],
    issuer,
    validFrom: formatUtcSeconds(draft.validFrom),
    validUntil: formatUtcSeconds(draft.validUntil),
    credentialSubject: terms,
    credentialStatus: statusEntries(draft.status),
  } as unknown as JsonObject;
  checkVcDataModel(grant);
  const v = checkGrantDocument(grant, catalog);
  if (!issuer.startsWith('did:key:')) v.push({ code: 'issuer', message: `${issuer} is not a did:key` });
  if (v.length) throw VerificationError.of(v);
  return grant;
}

/** Signs a grant: `data-integrity` (eddsa-jcs-2022, JSON text) or `vc-jwt` (compact JWS). */
export async function signGrant(grant: JsonObject, key: KeyPair, envelope: Envelope = 'data-integrity', at: Date | number = Date.now()): Promise<string> {
  return envelope === 'data-integrity' ? JSON.stringify(await signDataIntegrity(grant, key, at)) : signVcJwt(grant, key, at);
}

// --- USCC (GB 32100-2015 with GB 11714-1997) ---

const USCC_SET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** A character's value in USCC_SET by char code (ASCII), -1 if not in it. */
const USCC_VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < USCC_SET.length; i++) t[USCC_SET.charCodeAt(i)] = i;
  return t;
})();
const ORG_W = [3, 7, 9, 10, 5, 8, 4, 2];

/** Why a USCC is invalid, or null if it is valid (spec/grant.md §6.1). */
export function usccProblem(code: unknown): string | null {
  if (typeof code !== 'string') return 'not a string';
  if (code.length !== 18) return `length ${code.length}, not 18`;
  for (let i = 0; i < 18; i++) {
    const c = code.charCodeAt(i);
    if (c >= 128 || USCC_VALUE[c] < 0) return `character ${JSON.stringify(String.fromCodePoint(code.codePointAt(i) as number))} is not allowed`;
  }
  for (let i = 2; i < 8; i++) {
    const c = code.charCodeAt(i);
    if (c < 48 || c > 57) return 'positions 3–8 (administrative division) must be digits';
  }
  let s = 0;
  for (let i = 0; i < 8; i++) {
    const c = code.charCodeAt(8 + i);
    const v = c >= 48 && c <= 57 ? c - 48 : c - 55;
    s += v * ORG_W[i];
  }
  const c17 = 11 - (s % 11);
  const want17 = c17 === 10 ? 'X' : c17 === 11 ? '0' : String(c17);
  if (code[16] !== want17) return `organization-code check character is ${code[16]}, expected ${want17}`;
  let t = 0;
  let w = 1;
  for (let i = 0; i < 17; i++) {
    t += USCC_VALUE[code.charCodeAt(i)] * w;
    w = (w * 3) % 31;
  }
  const c18 = (31 - (t % 31)) % 31;
  if (code[17] !== USCC_SET[c18]) return `final check character is ${code[17]}, expected ${USCC_SET[c18]}`;
  return null;
}

// --- rules ---

const GRANT_MEMBERS = ['@context', 'id', 'type', 'issuer', 'validFrom', 'validUntil', 'credentialSubject', 'credentialStatus', 'name', 'description'];
const UUID_RE = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Shape = 'string' | 'number' | 'array' | 'object';
/** The members an object of the terms may have: name, JSON type, required. Built once, at load. */
interface Members {
  names: Set<string>;
  list: [string, Shape, boolean][];
}
function members(spec: Record<string, [Shape, boolean]>): Members {
  return { names: new Set(Object.keys(spec)), list: Object.entries(spec).map(([k, [shape, required]]) => [k, shape, required]) };
}
const SUBJECT_MEMBERS = members({
  enterprise: ['object', true],
  grantee: ['object', true],
  onwardRecipients: ['array', false],
  categories: ['array', true],
  purposes: ['array', true],
  dataPeriod: ['object', true],
  usage: ['object', true],
  letters: ['array', false],
  catalogVersion: ['string', false],
});
const CATEGORY_MEMBERS = members({ code: ['string', true], granularity: ['string', true] });
const PARTY_MEMBERS = members({ uscc: ['string', true], name: ['string', true] });
const GRANTEE_MEMBERS = members({ uscc: ['string', true], name: ['string', true], role: ['string', true] });
const RECIPIENT_MEMBERS = members({ uscc: ['string', true], name: ['string', true], role: ['string', true], categories: ['array', true] });
const PERIOD_MEMBERS = members({ from: ['string', true], until: ['string', true] });
const ONE_OFF_MEMBERS = members({ mode: ['string', true] });
const PERIODIC_MEMBERS = members({ mode: ['string', true], maxReleases: ['number', true], per: ['string', true] });
const LETTER_MEMBERS = members({ id: ['string', true], sha256: ['string', true] });

function exactMembers(o: Json | undefined, where: string, spec: Members, out: Reason[]): o is JsonObject {
  if (!isObject(o)) {
    out.push({ code: 'malformed-terms', message: `${where} must be a JSON object` });
    return false;
  }
  let ok = true;
  for (const k of Object.keys(o)) {
    if (!spec.names.has(k)) {
      out.push({ code: 'malformed-terms', message: `${where}: unknown member ${k}` });
      ok = false;
    }
  }
  for (const [k, shape, required] of spec.list) {
    const v = o[k];
    if (v === undefined) {
      if (required) {
        out.push({ code: 'malformed-terms', message: `${where}: missing member ${k}` });
        ok = false;
      }
      continue;
    }
    const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    if (actual !== shape) {
      out.push({ code: 'malformed-terms', message: `${where}.${k} must be a JSON ${shape}` });
      ok = false;
    }
  }
  return ok;
}
function oneOf(v: Json, allowed: string[], where: string, out: Reason[]): boolean {
  if (typeof v === 'string' && allowed.includes(v)) return true;
  out.push({ code: 'malformed-terms', message: `${where}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}` });
  return false;
}

/** Checks the shape of `credentialSubject` (code `malformed-terms`); returns the terms if well-formed. */
function checkTermsShape(cs: Json | undefined, out: Reason[]): GrantTerms | null {
  const before = out.length;
  if (cs === undefined) {
    out.push({ code: 'malformed-terms', message: 'credentialSubject: missing' });
    return null;
  }
  if (!isObject(cs)) {
    out.push({ code: 'malformed-terms', message: 'credentialSubject must be a single JSON object' });
    return null;
  }
  const top = exactMembers(cs, 'credentialSubject', SUBJECT_MEMBERS, out);
  if (!top) return null;
  const cats = (list: Json[], where: string) =>
    list.forEach((c, i) => {
      if (exactMembers(c, `${where}[${i}]`, CATEGORY_MEMBERS, out)) oneOf(c.granularity, ['raw', 'derived'], `${where}[${i}].granularity`, out);
    });
  exactMembers(cs.enterprise, 'enterprise', PARTY_MEMBERS, out);
  if (exactMembers(cs.grantee, 'grantee', GRANTEE_MEMBERS, out)) oneOf(cs.grantee.role, ['platform', 'node'], 'grantee.role', out);
  ((cs.onwardRecipients as Json[] | undefined) ?? []).forEach((r, i) => {
    const w = `onwardRecipients[${i}]`;
    if (exactMembers(r, w, RECIPIENT_MEMBERS, out)) {
      oneOf(r.role, ['bank'], `${w}.role`, out);
      cats(r.categories as Json[], `${w}.categories`);
    }
  });
  cats(cs.categories as Json[], 'categories');
  (cs.purposes as Json[]).forEach((p, i) => {
    if (typeof p !== 'string') out.push({ code: 'malformed-terms', message: `purposes[${i}] must be a string` });
  });
  exactMembers(cs.dataPeriod, 'dataPeriod', PERIOD_MEMBERS, out);
  const u = cs.usage;
  if (isObject(u)) {
    if (u.mode === 'one-off') exactMembers(u, 'usage', ONE_OFF_MEMBERS, out);
    else if (u.mode === 'periodic') {
      if (exactMembers(u, 'usage', PERIODIC_MEMBERS, out)) {
        const n = u.maxReleases as number;
        if (!Number.isInteger(n) || n < 0 || n > 4294967295) out.push({ code: 'malformed-terms', message: 'usage.maxReleases must be a whole number from 0 to 4294967295' });
        oneOf(u.per, ['day', 'week', 'month'], 'usage.per', out);
      }
    } else oneOf(u.mode ?? null, ['one-off', 'periodic'], 'usage.mode', out);
  }
  ((cs.letters as Json[] | undefined) ?? []).forEach((l, i) => exactMembers(l, `letters[${i}]`, LETTER_MEMBERS, out));
  return out.length === before ? (cs as unknown as GrantTerms) : null;
}

function checkStatus(value: Json | undefined, out: Reason[]): StatusEntry[] | null {
  const bad = (m: string) => {
    out.push({ code: 'credential-status', message: m });
    return null;
  };
  if (!Array.isArray(value)) return bad('a grant needs an array with a revocation and a suspension entry');
  let rev: StatusEntry | undefined;
  let sus: StatusEntry | undefined;
  const before = out.length;
  for (const e of value) {
    if (!isObject(e)) {
      bad('a status entry must be an object');
      continue;
    }
    const allowed = ['id', 'type', 'statusPurpose', 'statusListIndex', 'statusListCredential'];
    const unknown = Object.keys(e).filter((k) => !allowed.includes(k));
    if (unknown.length) {
      bad(`unknown member ${unknown[0]} in a status entry`);
      continue;
    }
    if (e.type !== 'BitstringStatusListEntry') {
      bad('status entry type must be BitstringStatusListEntry');
      continue;
    }
    if (e.statusPurpose !== 'revocation' && e.statusPurpose !== 'suspension') {
      bad(`status purpose ${JSON.stringify(e.statusPurpose)} is not revocation or suspension`);
      continue;
    }
    const idx = e.statusListIndex;
    if (typeof idx !== 'string' || !/^(0|[1-9][0-9]*)$/.test(idx) || BigInt(idx) > 18446744073709551615n) {
      bad(`statusListIndex ${JSON.stringify(idx)} must be a base-10 string without sign or leading zeros that fits in 64 bits`);
      continue;
    }
    const url = e.statusListCredential;
    if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) {
      bad('statusListCredential must be an http(s) URL without whitespace');
      continue;
    }
    if (e.id !== undefined && (typeof e.id !== 'string' || e.id === url)) {
      bad('status entry id must be a string other than statusListCredential');
      continue;
    }
    const entry = e as unknown as StatusEntry;
    if (entry.statusPurpose === 'revocation') {
      if (rev) bad('more than one revocation entry');
      rev = entry;
    } else {
      if (sus) bad('more than one suspension entry');
      sus = entry;
    }
  }
  if (out.length > before) return null;
  if (!rev || !sus) {
    if (!rev) bad('no revocation entry');
    if (!sus) bad('no suspension entry');
    return null;
  }
  const rb = rev.statusListCredential.endsWith('/revocation') ? rev.statusListCredential.slice(0, -'/revocation'.length) : null;
  const sb = sus.statusListCredential.endsWith('/suspension') ? sus.statusListCredential.slice(0, -'/suspension'.length) : null;
  if (rev.statusListIndex !== sus.statusListIndex || rb === null || rb !== sb) {
    return bad('revocation and suspension must share one index in <base>/revocation and <base>/suspension');
  }
  return [rev, sus];
}

function checkTerms(t: GrantTerms, catalog: Catalog, out: Reason[]): void {
  const push = (code: string, message: string) => out.push({ code, message });
  const banks = t.onwardRecipients ?? [];
  for (const [party, name] of [['enterprise', t.enterprise.name], ['grantee', t.grantee.name], ...banks.map((r) => ['onward recipient', r.name])] as [string, string][]) {
    if (name.trim() === '') push('malformed-terms', `${party} name is empty`);
  }
  const uscc = (party: string, code: string) => {
    const p = usccProblem(code);
    if (p) push('invalid-uscc', `${party} USCC ${code}: ${p}`);
  };
  uscc('enterprise', t.enterprise.uscc);
  uscc('grantee', t.grantee.uscc);
  const parties = new Set([t.enterprise.uscc]);
  if (parties.has(t.grantee.uscc)) push('duplicate-participant', `${t.grantee.uscc} appears twice among the parties`);
  parties.add(t.grantee.uscc);
  if (t.catalogVersion !== undefined && !catalog.hasCatalogVersion(t.catalogVersion)) push('unknown-catalog-version', `catalogVersion ${JSON.stringify(t.catalogVersion)} is not a catalog version this node holds derived forms for`);
  if (t.categories.length === 0) push('no-categories', 'the grantee has no categories');
  const seen = new Set<string>();
  for (const c of t.categories) {
    if (seen.has(c.code)) push('duplicate-category', `category ${c.code} appears twice`);
    seen.add(c.code);
    if (!catalog.category(c.code)) push('unknown-category', `category ${c.code} is not in the catalog`);
  }
  if (banks.length > 0 && t.grantee.role !== 'platform') push('recipients-without-platform', 'onward recipients need a platform grantee');
  for (const r of banks) {
    uscc('onward recipient', r.uscc);
    if (parties.has(r.uscc)) push('duplicate-participant', `${r.uscc} appears twice among the parties`);
    parties.add(r.uscc);
    const s = new Set<string>();
    for (const c of r.categories) {
      if (s.has(c.code)) push('duplicate-category', `category ${c.code} (for ${r.uscc}) appears twice`);
      s.add(c.code);
      const cat = catalog.category(c.code);
      if (!cat) {
        push('unknown-category', `category ${c.code} is not in the catalog`);
        continue;
      }
      if (c.granularity === 'raw' && !cat.public) push('bank-raw-non-public', `bank ${r.uscc} may not receive raw records of non-public category ${c.code}: banks get derived results only`);
      const g = t.categories.find((x) => x.code === c.code);
      if (!g || (g.granularity === 'derived' && c.granularity === 'raw')) push('recipient-not-covered', `bank ${r.uscc}: ${c.code} (${c.granularity}) is not covered by the grantee's categories`);
    }
    if (r.categories.length === 0) push('no-categories', `bank ${r.uscc} has no categories`);
  }
  if (t.purposes.length === 0) push('no-purposes', 'no purposes');
  const ps = new Set<string>();
  for (const p of t.purposes) {
    if (ps.has(p)) push('duplicate-purpose', `purpose ${p} appears twice`);
    ps.add(p);
    if (!catalog.hasPurpose(p)) push('unknown-purpose', `purpose ${p} is not in the catalog`);
  }
  const providers = new Set<string>();
  const ls = new Set<string>();
  for (const l of t.letters ?? []) {
    if (ls.has(l.id)) push('duplicate-letter', `letter ${l.id} is cited twice`);
    ls.add(l.id);
    const known = catalog.letter(l.id);
    if (!known) push('unknown-letter', `authorization letter ${l.id} is unknown`);
    else if (l.sha256 !== known.sha256) push('letter-digest', `authorization letter ${l.id}: digest ${l.sha256} is not the letter's digest ${known.sha256}`);
    else providers.add(known.provider);
  }
  for (const c of t.categories) {
    const cat = catalog.category(c.code);
    if (!cat || cat.public) continue;
    for (const p of cat.providers) if (!providers.has(p)) push('missing-letter', `non-public category ${c.code} needs the authorization letter of ${p}`);
  }
  const from = parseDate(t.dataPeriod.from);
  const until = parseDate(t.dataPeriod.until);
  if (!from || !until) push('data-period', 'dataPeriod: from and until must be dates YYYY-MM-DD');
  else if (t.dataPeriod.from > t.dataPeriod.until) push('data-period', 'dataPeriod: from is after until');
  if (t.usage.mode === 'periodic' && t.usage.maxReleases === 0) push('usage-rate', 'a periodic grant needs maxReleases ≥ 1');
}

/**
 * The rules of spec/grant.md §4 except time (steps 3's did:key half and 4 of §5): every violation,
 * in order. The document must already pass the VC Data Model checks.
 */
export function checkGrantDocument(doc: JsonObject, catalog: Catalog = Catalog.builtin()): Reason[] {
  const out: Reason[] = [];
  for (const k of Object.keys(doc)) if (!GRANT_MEMBERS.includes(k)) out.push({ code: 'unexpected-member', message: `top-level member ${k} is not allowed in a grant` });
  const ctx = Array.isArray(doc['@context']) ? doc['@context'] : [doc['@context']];
  const types = Array.isArray(doc.type) ? doc.type : [doc.type];
  if (!ctx.includes(GRANT_CONTEXT) || !types.includes(GRANT_TYPE)) out.push({ code: 'not-a-grant', message: `not a grant: @context must contain ${GRANT_CONTEXT} and type ${GRANT_TYPE}` });
  if (doc.id === undefined) out.push({ code: 'grant-id', message: 'id: missing' });
  else if (typeof doc.id !== 'string' || !UUID_RE.test(doc.id)) out.push({ code: 'grant-id', message: `id ${JSON.stringify(doc.id)} is not urn:uuid: with a lowercase hyphenated UUID` });
  const issuer = issuerOf(doc) ?? '';
  if (!issuer.startsWith('did:key:')) out.push({ code: 'issuer', message: `${issuer} is not a did:key` });
  if (doc.validFrom === undefined || doc.validUntil === undefined) out.push({ code: 'validity-window', message: 'validFrom and validUntil are both required' });
  checkStatus(doc.credentialStatus, out);
  const terms = checkTermsShape(doc.credentialSubject, out);
  if (terms) checkTerms(terms, catalog, out);
  return out;
}

/** A grant whose proof, credential and rules verified (spec/grant.md §8). Holds no status. */
export interface VerifiedGrant {
  /** `urn:uuid:…`. */
  id: string;
  /** SHA-256 (hex) of the exact bytes verified, surrounding ASCII whitespace removed. */
  sha256: string;
  /** The signer (the issuer). */
  signer: DidKey;
  /** `created` or `iat` (ms). */
  signedAt?: number;
  envelope: Envelope;
  /** The enterprise's USCC. */
  enterprise: string;
  terms: GrantTerms;
  validFrom: number;
  validUntil: number;
  revocation: StatusEntry;
  suspension: StatusEntry;
  /** The verified document. */
  document: JsonObject;
}

/** Options of `verifyGrant`. */
export interface VerifyGrantOptions {
  /** The instant to verify at (ms, default now). */
  now?: number;
  catalog?: Catalog;
}

/**
 * Verifies a grant as received (spec/grant.md §5): the proof in either envelope, the VC Data Model,
 * issuer = signer, every rule, the validity window. Throws a `VerificationError` whose `reasons`
 * list every violation of the rules family (one reason for the proof and credential families).
 */
export async function verifyGrant(input: string | Uint8Array, opts: VerifyGrantOptions = {}): Promise<VerifiedGrant> {
  const text = decoded(input);
  return (await verifyText(text, sha256Hex(trimAsciiWhitespace(text)), opts.now ?? Date.now(), opts.catalog ?? Catalog.builtin())).grant;
}

/**
 * The input as text: bytes decoded as strict UTF-8 (invalid bytes are `malformed-json`; a byte-order
 * mark is kept, so it is refused as the Rust core and the Java library refuse it). A grant is verified
 * and digested as this text without surrounding ASCII whitespace.
 */
function decoded(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : fromUtf8(input, 'malformed-json', 'input');
}

/** A verified grant and the instants (ms, inclusive) within which every time check of its verification passes again. */
interface Bounded {
  grant: VerifiedGrant;
  from: number;
  until: number;
}
/** A `VerifiedGrantCache` entry: the exact text verified (trimmed) and what its verification gave. */
interface Entry extends Bounded {
  text: string;
}

/** Verifies `text` (surrounding ASCII whitespace ignored), whose trimmed form's SHA-256 is `digest`. */
async function verifyText(text: string, digest: string, now: number, catalog: Catalog): Promise<Bounded> {
  const { proof: v, validFrom, validUntil } = await verifyCredentialWindow(text, now);
  const reasons: Reason[] = [];
  if (!v.issuerBound) reasons.push({ code: 'issuer', message: `issuer ${v.issuer} did not sign; ${v.signer.did} did` });
  reasons.push(...checkGrantDocument(v.document, catalog));
  if (validFrom !== undefined && validUntil !== undefined) {
    const w = windowReason(validFrom, validUntil, now);
    if (w) reasons.push(w);
  }
  if (reasons.length) throw VerificationError.of(reasons);
  const status = v.document.credentialStatus as unknown as StatusEntry[];
  const terms = v.document.credentialSubject as unknown as GrantTerms;
  const grant: VerifiedGrant = {
    id: v.document.id as string,
    sha256: digest,
    signer: v.signer,
    signedAt: v.signedAt,
    envelope: v.envelope,
    enterprise: terms.enterprise.uscc,
    terms,
    validFrom: validFrom as number,
    validUntil: validUntil as number,
    revocation: status.find((s) => s.statusPurpose === 'revocation') as StatusEntry,
    suspension: status.find((s) => s.statusPurpose === 'suspension') as StatusEntry,
    document: v.document,
  };
  return { grant, from: Math.max(grant.validFrom, v.timeBounds.from), until: Math.min(grant.validUntil, v.timeBounds.until) };
}

/** Options of a `VerifiedGrantCache`: what every grant in it is verified with, fixed for its life. */
export interface VerifiedGrantCacheOptions {
  /** The catalog (default the built-in one). */
  catalog?: Catalog;
  /** The most grants kept (default 200,000, as the Rust node's); when reached the cache starts afresh. */
  capacity?: number;
}

/**
 * Verified grants by their exact trimmed text, for a platform that verifies the same grant on every
 * request (as the Rust node's `GrantCache`, which keys them by the SHA-256 of those bytes).
 *
 * `verify(input, { now })` resolves to what `verifyGrant(input, { now, catalog })` would, with the
 * catalog given at construction. A hit skips the proof and the rules, never the time: the validity
 * window and the proof's own times (`created`/`expires`, or `nbf`/`iat`/`exp`, with the skew) are
 * checked again at every call's `now` (as two numbers fixed at verification), and outside them the
 * grant is verified afresh, so the call rejects with the very `VerificationError` the uncached call
 * would (`expired`, `not-yet-valid`, …). Status is never cached here: check it on every request
 * (`StatusListCache.assertActive`). Failures are never cached. When `capacity` grants are held the
 * cache starts afresh (empties itself, like the Rust node's). A hit resolves to the same object
 * every time: treat it as read-only. For one event loop (no locking; concurrent misses for one
 * grant each verify it, either result is kept).
 *
 * A hit is found without hashing or encoding the text: a cheap fingerprint (its length and every
 * 32nd UTF-16 code unit, mixed with a per-cache random seed) picks a bucket, and only an entry
 * whose text is equal to the input, code unit for code unit, is a hit. That is as exact as a
 * digest of the UTF-8 bytes (UTF-8 is one-to-one on well-formed text, and text with a lone
 * surrogate is never cached) without its cost: the SHA-256 is computed on a miss only, for
 * `VerifiedGrant.sha256`. Each entry holds its text (a Data Integrity grant's document already
 * refers to it). A bucket keeps at most 4 texts (the oldest goes), so many texts sharing a
 * fingerprint cost at most 4 comparisons per call.
 */
export class VerifiedGrantCache {
  /** The default capacity. */
  static readonly DEFAULT_CAPACITY = 200_000;
  /** The most texts kept per fingerprint. */
  static readonly #BUCKET = 4;
  /** The catalog every grant here is verified with. */
  readonly catalog: Catalog;
  /** The most grants kept. */
  readonly capacity: number;
  /** Calls answered from the cache. */
  hits = 0;
  /** Calls that ran the full verification. */
  misses = 0;
  readonly #map = new Map<number, Entry[]>();
  #count = 0;
  readonly #seed = Math.floor(Math.random() * 0x40000000);

  constructor(opts: VerifiedGrantCacheOptions = {}) {
    const capacity = opts.capacity ?? VerifiedGrantCache.DEFAULT_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a whole number ≥ 1, not ${capacity}`);
    this.catalog = opts.catalog ?? Catalog.builtin();
    this.capacity = capacity;
  }

  /** The number of grants held. */
  get size(): number {
    return this.#count;
  }

  /** Forgets every grant. */
  clear(): void {
    this.#map.clear();
    this.#count = 0;
  }

  /** `verifyGrant` with this cache's catalog, at `now` (ms, default now). */
  async verify(input: string | Uint8Array, opts: { now?: number } = {}): Promise<VerifiedGrant> {
    const now = opts.now ?? Date.now();
    const text = decoded(input);
    // The trimmed text's bounds, then its fingerprint read from `text` itself: a substring is a
    // view in V8, which every character read pays for. The substring is made for the comparison.
    let a = 0;
    let b = text.length;
    while (a < b && isAsciiWhitespace(text.charCodeAt(a))) a++;
    while (b > a && isAsciiWhitespace(text.charCodeAt(b - 1))) b--;
    const key = fingerprint(text, a, b, this.#seed);
    const trimmed = a === 0 && b === text.length ? text : text.slice(a, b);
    const bucket = this.#map.get(key);
    if (bucket !== undefined) {
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i];
        if (e.text === trimmed) {
          if (e.from <= now && now <= e.until) {
            this.hits++;
            return e.grant;
          }
          break;
        }
      }
    }
    this.misses++;
    // A lone surrogate has no UTF-8 form: text holding one would digest as if it held U+FFFD.
    // Verified uncached (and refused). A hit above is never such text: only verified text is kept.
    if (!isWellFormed(trimmed)) return verifyGrant(trimmed, { now, catalog: this.catalog });
    const entry = (await verifyText(text, sha256Hex(trimmed), now, this.catalog)) as Entry;
    entry.text = trimmed;
    this.#put(key, entry);
    return entry.grant;
  }

  /** Keeps `entry` under `key`, in place of an entry for the same text (another call's, while this one verified). */
  #put(key: number, entry: Entry): void {
    let bucket = this.#map.get(key);
    if (bucket !== undefined) {
      for (let i = 0; i < bucket.length; i++) {
        if (bucket[i].text === entry.text) {
          bucket[i] = entry;
          return;
        }
      }
    }
    if (this.#count >= this.capacity) {
      this.clear();
      bucket = undefined;
    }
    if (bucket === undefined) {
      bucket = [];
      this.#map.set(key, bucket);
    }
    if (bucket.length >= VerifiedGrantCache.#BUCKET) {
      bucket.shift();
      this.#count--;
    }
    bucket.push(entry);
    this.#count++;
  }
}

/** The ASCII whitespace `trimAsciiWhitespace` removes: space, tab, LF, CR, FF. */
const isAsciiWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;

/**
 * A 30-bit fingerprint of `t` from `a` to `b` (exclusive) for `VerifiedGrantCache`: the length and
 * every 32nd UTF-16 code unit (two different signatures, 86 or 88 characters, differ at 2 or 3 of
 * them), mixed with `seed`. Not a digest: a hit also needs the texts to be equal.
 */
function fingerprint(t: string, a: number, b: number, seed: number): number {
  const n = b - a;
  let h = Math.imul(seed ^ n, 0x9e3779b1);
  for (let i = a + (n & 31); i < b; i += 32) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h & 0x3fffffff;
}

/** True if `s` has no lone surrogate (`String.prototype.isWellFormed` where there is one: Node ≥ 20). */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/\p{Cs}/u.test(s);

function windowReason(from: number, until: number, now: number): Reason | null {
  if (now < from) return { code: 'not-yet-valid', message: `not valid before ${formatUtcSeconds(from)}` };
  if (now > until) return { code: 'expired', message: `expired at ${formatUtcSeconds(until)}` };
  return null;
}

/** Checks a verified grant's validity window again at use (`VerifiedGrant::check_time`). */
export function checkGrantTime(g: VerifiedGrant, now: number = Date.now()): void {
  const w = windowReason(g.validFrom, g.validUntil, now);
  if (w) throw new VerificationError(w.code, w.message);
}
