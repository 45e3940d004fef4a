/**
 * W3C Bitstring Status List v1.0: decode a list, read an entry (most significant bit first), verify
 * a status list credential, check a credential's status, with a TTL cache for platforms.
 */
import { b64urlDecode } from './encoding.js';
import { VerificationError, fail } from './errors.js';
import { type JsonObject, isObject, parseStrict } from './json.js';
import { type VerifiedProof, verifyCredential } from './credential.js';
import type { StatusEntry, VerifiedGrant } from './grant.js';

/** Minimum number of entries of a list (W3C §6.1: 131,072 = 16 KiB of bits). */
export const MIN_ENTRIES = 131072;

async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) fail('MALFORMED_VALUE_ERROR', 'encodedList is not GZIP');
  try {
    const ds = new DecompressionStream('gzip');
    const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(ds);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    fail('MALFORMED_VALUE_ERROR', `encodedList does not decompress: ${(e as Error).message}`);
  }
}

/** A decoded status list. */
export class StatusList {
  constructor(
    /** The expanded bitstring. */
    readonly bits: Uint8Array,
    /** Bits per entry. */
    readonly statusSize: number = 1,
  ) {}
  /** Decodes `u` + base64url(GZIP(bitstring)); refuses lists shorter than 131,072 entries. */
  static async decode(encodedList: string, statusSize = 1): Promise<StatusList> {
    if (typeof encodedList !== 'string' || !encodedList.startsWith('u')) fail('MALFORMED_VALUE_ERROR', 'encodedList is not multibase base64url (u…)');
    if (!Number.isInteger(statusSize) || statusSize < 1 || statusSize > 32) fail('MALFORMED_VALUE_ERROR', 'statusSize must be 1–32');
    let gz: Uint8Array;
    try {
      gz = b64urlDecode(encodedList.slice(1), 'MALFORMED_VALUE_ERROR', 'encodedList');
    } catch (e) {
      throw new VerificationError('MALFORMED_VALUE_ERROR', (e as Error).message);
    }
    const bits = await gunzip(gz);
    const list = new StatusList(bits, statusSize);
    if (list.length < MIN_ENTRIES) fail('STATUS_LIST_LENGTH_ERROR', `the list has ${list.length} entries, fewer than ${MIN_ENTRIES}`);
    return list;
  }
  /** Number of entries. */
  get length(): number {
    return Math.floor((this.bits.length * 8) / this.statusSize);
  }
  /** The entry at `index` (bit 0 is the most significant bit of byte 0). */
  get(index: number): number {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.length) fail('RANGE_ERROR', `index ${index} is outside the list of ${this.length} entries`);
    let v = 0;
    for (let k = 0; k < this.statusSize; k++) {
      const bit = index * this.statusSize + k;
      v = (v << 1) | ((this.bits[bit >> 3] >> (7 - (bit & 7))) & 1);
    }
    return v;
  }
}

/** A verified status list credential. */
export interface VerifiedStatusList {
  id: string;
  purpose: string;
  list: StatusList;
  issuer: string;
  proof: VerifiedProof;
  validUntil?: number;
}

/**
 * Verifies a `BitstringStatusListCredential` (its proof, in either envelope) and decodes its list.
 * `expectedIssuer`, when given, must be the list's signer (a node's did:key).
 */
export async function verifyStatusListCredential(text: string, opts: { now?: number; expectedIssuer?: string } = {}): Promise<VerifiedStatusList> {
  const now = opts.now ?? Date.now();
  const proof = await verifyCredential(text, now);
  const doc = proof.document;
  const types = Array.isArray(doc.type) ? doc.type : [doc.type];
  if (!types.includes('BitstringStatusListCredential')) fail('STATUS_VERIFICATION_ERROR', 'not a BitstringStatusListCredential');
  if (opts.expectedIssuer && proof.signer.did !== opts.expectedIssuer) fail('STATUS_VERIFICATION_ERROR', `status list signed by ${proof.signer.did}, not ${opts.expectedIssuer}`);
  const cs = doc.credentialSubject;
  if (!isObject(cs) || cs.type !== 'BitstringStatusList' || typeof cs.statusPurpose !== 'string' || typeof cs.encodedList !== 'string') fail('STATUS_VERIFICATION_ERROR', 'credentialSubject is not a BitstringStatusList');
  const size = cs.statusSize === undefined ? 1 : cs.statusSize;
  if (typeof size !== 'number') fail('MALFORMED_VALUE_ERROR', 'statusSize is not a number');
  if (typeof doc.validUntil === 'string' && Date.parse(doc.validUntil) < now) fail('STATUS_VERIFICATION_ERROR', 'the status list credential has expired');
  const list = await StatusList.decode(cs.encodedList, size);
  return { id: String(doc.id ?? ''), purpose: cs.statusPurpose, list, issuer: proof.signer.did, proof, validUntil: typeof doc.validUntil === 'string' ? Date.parse(doc.validUntil) : undefined };
}

/** Reads one status entry against a verified list: its purpose must be the list's, its URL the list's id. */
export function statusOf(entry: StatusEntry | JsonObject, list: VerifiedStatusList, checkUrl = true): number {
  if (entry.statusPurpose !== list.purpose) fail('STATUS_VERIFICATION_ERROR', `entry purpose ${String(entry.statusPurpose)} is not the list's ${list.purpose}`);
  if (checkUrl && list.id && entry.statusListCredential !== list.id) fail('STATUS_VERIFICATION_ERROR', `entry points at ${String(entry.statusListCredential)}, not ${list.id}`);
  const idx = entry.statusListIndex;
  if (typeof idx !== 'string' || !/^(0|[1-9][0-9]*)$/.test(idx)) fail('RANGE_ERROR', 'statusListIndex is not a base-10 string');
  return list.list.get(Number(idx));
}

/**
 * Checks a verified credential's status entry that names the given verified status list credential
 * (none naming it is `STATUS_VERIFICATION_ERROR`). Returns the status value.
 */
export function checkCredentialStatus(credential: JsonObject, list: VerifiedStatusList): number {
  const cs = credential.credentialStatus;
  const entries = (Array.isArray(cs) ? cs : cs === undefined ? [] : [cs]).filter(isObject);
  if (entries.length === 0) fail('STATUS_VERIFICATION_ERROR', 'the credential has no credentialStatus');
  const mine = entries.filter((e) => e.statusListCredential === list.id);
  // An entry is read only against the list it names.
  if (mine.length === 0) fail('STATUS_VERIFICATION_ERROR', `no credentialStatus entry names ${String(list.id)}`);
  return statusOf(mine[0], list, false);
}

/** How to fetch a status list credential's text by URL. */
export type StatusListFetcher = (url: string) => Promise<string>;

/** The status of a grant. */
export interface GrantStatus {
  revoked: boolean;
  suspended: boolean;
}

/**
 * Fetches, verifies and caches status list credentials (by URL, for `ttlMs`, default 60 s), and
 * checks a grant's revocation and suspension bits: what a platform runs on every request.
 */
export class StatusListCache {
  /** By URL: when fetched, the verification under way or done, and its result once it succeeded. */
  readonly #cache = new Map<string, { at: number; list: Promise<VerifiedStatusList>; value?: VerifiedStatusList }>();
  constructor(
    private readonly fetcher: StatusListFetcher = async (url) => {
      const r = await fetch(url, { headers: { Accept: 'application/vc+ld+json, application/json' } });
      if (!r.ok) throw new VerificationError('STATUS_RETRIEVAL_ERROR', `GET ${url}: HTTP ${r.status}`);
      return r.text();
    },
    private readonly opts: { ttlMs?: number; expectedIssuer?: string } = {},
  ) {}
  /** A verified list by URL (from the cache while fresh). */
  async get(url: string, now: number = Date.now()): Promise<VerifiedStatusList> {
    const hit = this.#cache.get(url);
    if (hit && now - hit.at < (this.opts.ttlMs ?? 60_000)) return hit.list;
    const list = (async () => {
      let text: string;
      try {
        text = await this.fetcher(url);
      } catch (e) {
        if (e instanceof VerificationError) throw e;
        throw new VerificationError('STATUS_RETRIEVAL_ERROR', `GET ${url}: ${(e as Error).message}`);
      }
      const v = await verifyStatusListCredential(text, { now, expectedIssuer: this.opts.expectedIssuer });
      if (v.id && v.id !== url) fail('STATUS_VERIFICATION_ERROR', `the list at ${url} says it is ${v.id}`);
      return v;
    })();
    const entry: { at: number; list: Promise<VerifiedStatusList>; value?: VerifiedStatusList } = { at: now, list };
    this.#cache.set(url, entry);
    list.then(
      (v) => {
        entry.value = v;
      },
      () => {
        if (this.#cache.get(url) === entry) this.#cache.delete(url);
      },
    );
    return list;
  }
  /** The verified list at `url` if the cache holds it, fresh at `now`, already verified (what `get` would resolve to at once), else undefined. */
  #ready(url: string, now: number): VerifiedStatusList | undefined {
    const hit = this.#cache.get(url);
    return hit !== undefined && hit.value !== undefined && now - hit.at < (this.opts.ttlMs ?? 60_000) ? hit.value : undefined;
  }
  /** Forgets every cached list. */
  clear(): void {
    this.#cache.clear();
  }
  /**
   * Reads both status bits of a verified grant. With both lists cached, fresh and verified (every
   * request but the first of each TTL) this reads them at once, without waiting on the lists' promises.
   */
  async grantStatus(grant: VerifiedGrant, now: number = Date.now()): Promise<GrantStatus> {
    const st = this.#statusNow(grant, now);
    if (st !== undefined) return st;
    const [r, s] = await Promise.all([this.get(grant.revocation.statusListCredential, now), this.get(grant.suspension.statusListCredential, now)]);
    return { revoked: statusOf(grant.revocation, r) === 1, suspended: statusOf(grant.suspension, s) === 1 };
  }
  /** `grantStatus` when both lists are ready (`#ready`), else undefined. */
  #statusNow(grant: VerifiedGrant, now: number): GrantStatus | undefined {
    const r = this.#ready(grant.revocation.statusListCredential, now);
    const s = r && this.#ready(grant.suspension.statusListCredential, now);
    if (r === undefined || s === undefined) return undefined;
    return { revoked: statusOf(grant.revocation, r) === 1, suspended: statusOf(grant.suspension, s) === 1 };
  }
  /** Throws `grant-revoked` / `grant-suspended` unless the grant is active (see `grantStatus`). */
  async assertActive(grant: VerifiedGrant, now: number = Date.now()): Promise<void> {
    const st = this.#statusNow(grant, now) ?? (await this.grantStatus(grant, now));
    if (st.revoked) fail('grant-revoked', `grant ${grant.id} is revoked`);
    if (st.suspended) fail('grant-suspended', `grant ${grant.id} is suspended`);
  }
}

/** Parses a JSON text strictly (re-exported helper for status list texts). */
export function parseStatusListText(text: string): JsonObject {
  const v = parseStrict(text);
  if (!isObject(v)) fail('STATUS_VERIFICATION_ERROR', 'not a JSON object');
  return v;
}
