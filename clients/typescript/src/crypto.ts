/**
 * Hashes and strict Ed25519.
 *
 * Ed25519 verification is RFC 8032 §5.1.7 *strict* (the semantics of ed25519-dalek
 * `verify_strict`): S must be < L, the public key A and the commitment R must be canonical
 * encodings (y < p) of points that are not of small order. These checks are done here, on the
 * bytes; the curve equation is then checked by the platform's WebCrypto Ed25519 (native code in
 * Node and modern browsers), falling back to @noble/ed25519 in its strict mode (`zip215: false`)
 * where WebCrypto has no Ed25519.
 */
import * as ed from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { concat, hexEncode, utf8 } from './encoding.js';
import { ConsentryError } from './errors.js';

/** A copy as a plain ArrayBuffer-backed view (what WebCrypto's typings want). */
const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof ArrayBuffer ? (b as Uint8Array<ArrayBuffer>) : new Uint8Array(b));

ed.hashes.sha512 = sha512;

/** Node's own crypto module when running under Node ≥ 20.16 (synchronous lookup), else undefined. */
type NodeHash = { update(d: Uint8Array | string, encoding?: 'utf8'): NodeHash; digest(): Uint8Array };
type NodeKeyObject = object;
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as
  | {
      createHash(alg: string): NodeHash;
      hash?: {
        (alg: string, data: Uint8Array | string, outputEncoding: 'buffer'): Uint8Array;
        (alg: string, data: Uint8Array | string, outputEncoding: 'hex'): string;
      };
      createPublicKey(k: { key: Uint8Array; format: 'der'; type: 'spki' }): NodeKeyObject;
      verify(alg: null, data: Uint8Array, key: NodeKeyObject, sig: Uint8Array): boolean;
    }
  | undefined;

/**
 * SHA-256 of bytes (or of the UTF-8 of a string): OpenSSL's under Node (4–8× faster than the
 * pure-JS one on a 2 KB grant), @noble/hashes elsewhere.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  if (nodeCrypto?.hash) {
    // Node ≥ 20.12: one-shot, a string hashed as UTF-8 without an intermediate Uint8Array.
    return new Uint8Array(nodeCrypto.hash('sha256', data, 'buffer')); // a copy, not a view of Node's pool
  }
  if (nodeCrypto) {
    const h = nodeCrypto.createHash('sha256');
    if (typeof data === 'string') h.update(data, 'utf8');
    else h.update(data);
    return new Uint8Array(h.digest()); // a copy, not a view of Node's pool
  }
  return nobleSha256(typeof data === 'string' ? utf8(data) : data);
}
/** Lowercase hex SHA-256 of bytes (or of the UTF-8 of a string): under Node written by OpenSSL's side, no byte copy. */
export function sha256Hex(data: Uint8Array | string): string {
  if (nodeCrypto?.hash) return nodeCrypto.hash('sha256', data, 'hex');
  return hexEncode(sha256(data));
}
/** HMAC-SHA256. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}

/** The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
const L_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** True if the 32-byte little-endian scalar is < L. */
export function scalarIsCanonical(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i] < L_LE[i]) return true;
    if (s[i] > L_LE[i]) return false;
  }
  return false; // equal to L
}

/** True if the encoding's y coordinate (sign bit cleared) is < p = 2^255 − 19. */
export function pointIsCanonical(p: Uint8Array): boolean {
  if ((p[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (p[i] !== 0xff) return true;
  return p[0] < 0xed;
}

/**
 * The canonical encodings of the eight points of small order (orders 1, 2, 4, 8), plus the two
 * encodings with the sign bit set on x = 0 (invalid, refused anyway). Non-canonical encodings
 * (y ≥ p) are refused by `pointIsCanonical`.
 */
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000080',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];
const SMALL_ORDER_BYTES = SMALL_ORDER.map((h) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16)));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True if the 32 bytes encode a point of small order (or the identity). */
export function isSmallOrder(p: Uint8Array): boolean {
  // Byte comparisons (mostly decided by the first byte), not a hex string per call.
  for (const bad of SMALL_ORDER_BYTES) if (sameBytes(p, bad)) return true;
  return false;
}

/**
 * True if `pub` is acceptable as an Ed25519 public key: 32 bytes, canonical, not of small order,
 * and a point on the curve.
 */
export function isStrongPublicKey(pub: Uint8Array): boolean {
  if (pub.length !== 32 || !pointIsCanonical(pub) || isSmallOrder(pub)) return false;
  try {
    ed.Point.fromBytes(pub, false);
    return true;
  } catch {
    return false;
  }
}

let subtlePromise: Promise<SubtleCrypto | null> | undefined;
/** The platform's SubtleCrypto if it supports Ed25519, else null (then @noble/ed25519 is used). */
export function subtleEd25519(): Promise<SubtleCrypto | null> {
  subtlePromise ??= (async () => {
    let subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
    if (!subtle) {
      try {
        const nodeCrypto = (await import('node:crypto' as string)) as { webcrypto?: { subtle?: SubtleCrypto } };
        subtle = nodeCrypto.webcrypto?.subtle;
      } catch {
        subtle = undefined;
      }
    }
    if (!subtle) return null;
    try {
      // Probe with RFC 8032 test 1's public key.
      const probe = Uint8Array.from([
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
        0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
      ]);
      await subtle.importKey('raw', probe, { name: 'Ed25519' }, false, ['verify']);
      return subtle;
    } catch {
      return null;
    }
  })();
  return subtlePromise;
}

let forceNoble = false;
/** Forces the pure-JS @noble/ed25519 path (for tests and benchmarks); `false` restores WebCrypto. */
export function useNobleEd25519(on: boolean): void {
  forceNoble = on;
}

const keyCache = new Map<string, Promise<CryptoKey>>();
function importPublic(subtle: SubtleCrypto, pub: Uint8Array): Promise<CryptoKey> {
  const k = hexEncode(pub);
  let p = keyCache.get(k);
  if (!p) {
    if (keyCache.size > 1024) keyCache.clear();
    p = subtle.importKey('raw', buf(pub), { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(k, p);
  }
  return p;
}

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const nodeKeyCache = new Map<string, NodeKeyObject>();
/** The key object used last, checked first: a verifier sees the same key again and again. */
let lastNodeKey: { pub: Uint8Array; key: NodeKeyObject } | undefined;
function nodePublic(pub: Uint8Array): NodeKeyObject {
  if (lastNodeKey && sameBytes(lastNodeKey.pub, pub)) return lastNodeKey.key;
  const k = hexEncode(pub);
  let o = nodeKeyCache.get(k);
  if (!o) {
    if (nodeKeyCache.size > 1024) nodeKeyCache.clear();
    o = nodeCrypto!.createPublicKey({ key: concat(SPKI_PREFIX, pub), format: 'der', type: 'spki' });
    nodeKeyCache.set(k, o);
  }
  lastNodeKey = { pub: pub.slice(), key: o };
  return o;
}

/**
 * Strict Ed25519 verification (RFC 8032 §5.1.7 with S < L, canonical A and R, no small-order A or
 * R). Never throws for a bad signature or key: returns false.
 */
export async function ed25519Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  if (pub.length !== 32 || sig.length !== 64) return false;
  const r = sig.subarray(0, 32);
  if (!scalarIsCanonical(sig.subarray(32))) return false;
  if (!pointIsCanonical(pub) || !pointIsCanonical(r) || isSmallOrder(pub) || isSmallOrder(r)) return false;
  if (nodeCrypto && !forceNoble) {
    // Under Node: OpenSSL's Ed25519 called synchronously (WebCrypto would queue the same call on
    // the thread pool and resolve a promise: ~40–100 µs more per verification on a loaded machine).
    try {
      return nodeCrypto.verify(null, msg, nodePublic(pub), sig);
    } catch {
      return false;
    }
  }
  const subtle = forceNoble ? null : await subtleEd25519();
  if (subtle) {
    try {
      const key = await importPublic(subtle, pub);
      return await subtle.verify({ name: 'Ed25519' }, key, buf(sig), buf(msg));
    } catch {
      return false;
    }
  }
  try {
    return ed.verify(sig, msg, pub, { zip215: false });
  } catch {
    return false;
  }
}

const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const signKeyCache = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/** Ed25519 signature (64 bytes) of `msg` with the 32-byte secret seed. */
export async function ed25519Sign(seed: Uint8Array, msg: Uint8Array): Promise<Uint8Array> {
  if (seed.length !== 32) throw new ConsentryError('invalid-key', 'an Ed25519 secret key has 32 bytes');
  const subtle = forceNoble ? null : await subtleEd25519();
  if (subtle) {
    let k = signKeyCache.get(seed);
    if (!k) {
      k = subtle.importKey('pkcs8', buf(concat(PKCS8_PREFIX, seed)), { name: 'Ed25519' }, false, ['sign']);
      signKeyCache.set(seed, k);
    }
    return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, await k, buf(msg)));
  }
  return ed.sign(msg, seed);
}

/** The public key of a 32-byte secret seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new ConsentryError('invalid-key', 'an Ed25519 secret key has 32 bytes');
  return ed.getPublicKey(seed);
}

/** `n` bytes from the platform's CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  globalThis.crypto.getRandomValues(b);
  return b;
}
