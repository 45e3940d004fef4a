/**
 * did:key (Ed25519 Multikey) identities and the project's key file format
 * (`{"did", "publicKeyMultibase", "secretKeyMultibase"}`, spec/examples/enterprise.key.json).
 */
import { b58Decode, b58Encode, concat } from './encoding.js';
import { ConsentryError, VerificationError } from './errors.js';
import { ed25519PublicKey, ed25519Sign, isStrongPublicKey, randomBytes } from './crypto.js';
import { isObject, parseStrict } from './json.js';

const ED25519_PUB = Uint8Array.from([0xed, 0x01]);
const ED25519_PRIV = Uint8Array.from([0x80, 0x26]);

/** Decodes a `z…` Multikey with the given 2-byte multicodec prefix to its 32-byte key. */
function decodeMultikey(mb: string, prefix: Uint8Array, code: string, what: string): Uint8Array {
  if (!mb.startsWith('z')) throw new VerificationError(code, `${what}: not multibase base58btc (must start with z)`);
  const raw = b58Decode(mb.slice(1), code, what);
  if (b58Encode(raw) !== mb.slice(1)) throw new VerificationError(code, `${what}: non-canonical base58`);
  if (raw.length !== 34 || raw[0] !== prefix[0] || raw[1] !== prefix[1]) {
    throw new VerificationError(code, `${what}: not an Ed25519 Multikey (multicodec ${prefix[0].toString(16)} ${prefix[1].toString(16)} and 32 bytes)`);
  }
  return raw.slice(2);
}

/** Keys already decoded and checked (decompressing a point to check it is costly in JS). */
const PARSED = new Map<string, DidKey>();

/** An Ed25519 `did:key`, decoded and checked (canonical base58, multicodec ed25519-pub, strong key). */
export class DidKey {
  /** `did:key:z6Mk…`. */
  readonly did: string;
  /** The Multikey `z6Mk…` (the part after `did:key:`). */
  readonly multibase: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;

  private constructor(multibase: string, publicKey: Uint8Array) {
    this.multibase = multibase;
    this.did = `did:key:${multibase}`;
    this.publicKey = publicKey;
  }

  /**
   * Parses `did:key:z6Mk…`. Refuses versioned forms and non-base58btc text (code `invalidDid`),
   * other multicodecs, wrong lengths, non-canonical base58 and weak (small-order, non-canonical or
   * off-curve) keys (code `invalidPublicKey`), as the did:key resolution errors are named.
   */
  static parse(did: string): DidKey {
    const hit = typeof did === 'string' ? PARSED.get(did) : undefined;
    if (hit) return hit;
    const k = DidKey.#parse(did);
    if (PARSED.size > 4096) PARSED.clear();
    PARSED.set(did, k);
    return k;
  }

  static #parse(did: string): DidKey {
    if (typeof did !== 'string' || !did.startsWith('did:key:z')) throw new VerificationError('invalidDid', `not a did:key:z…: ${String(did).slice(0, 80)}`);
    const mb = did.slice('did:key:'.length);
    if (mb.includes(':') || mb.includes('#') || mb.includes('/') || mb.includes('?')) {
      throw new VerificationError('invalidDid', `unsupported did:key form (versioned, path, query or fragment): ${did.slice(0, 80)}`);
    }
    b58Decode(mb.slice(1), 'invalidDid', 'did:key');
    const pub = decodeMultikey(mb, ED25519_PUB, 'invalidPublicKey', 'did:key');
    if (!isStrongPublicKey(pub)) throw new VerificationError('invalidPublicKey', `did:key is a weak Ed25519 key (small order, non-canonical or not on the curve): ${did}`);
    return new DidKey(mb, pub);
  }

  /** The did:key of a 32-byte Ed25519 public key (refuses weak keys). */
  static fromPublicKey(pub: Uint8Array): DidKey {
    if (!isStrongPublicKey(pub)) throw new VerificationError('invalidPublicKey', 'weak or invalid Ed25519 public key');
    return new DidKey(`z${b58Encode(concat(ED25519_PUB, pub))}`, Uint8Array.from(pub));
  }

  /**
   * Resolves a did:key DID URL `did:key:z…#z…`; the fragment must be the key's own multibase
   * (else `code`, default `verification-method`).
   */
  static fromVerificationMethod(vm: string, code = 'verification-method'): DidKey {
    if (typeof vm !== 'string') throw new VerificationError(code, 'verification method is not a string');
    const hash = vm.indexOf('#');
    if (hash < 0) throw new VerificationError(code, `verification method has no fragment: ${vm.slice(0, 100)}`);
    let key: DidKey;
    try {
      key = DidKey.parse(vm.slice(0, hash));
    } catch (e) {
      const inner = e as VerificationError;
      throw new VerificationError(code, `${vm.slice(0, 120)}: ${inner.message}`, undefined, inner.code);
    }
    if (vm.slice(hash + 1) !== key.multibase) throw new VerificationError(code, `fragment of ${vm.slice(0, 120)} names no key of that DID`);
    return key;
  }

  /** The DID URL of the key's verification method, `did:key:z…#z…`. */
  get verificationMethod(): string {
    return `${this.did}#${this.multibase}`;
  }

  toString(): string {
    return this.did;
  }
}

/** The key file's JSON form. */
export interface KeyFileJson {
  did: string;
  publicKeyMultibase: string;
  secretKeyMultibase: string;
}

/**
 * An Ed25519 key pair with its did:key: a participant's identity. The secret seed never appears in
 * `toString()`, `inspect` or JSON unless `toJson()` is called.
 */
export class KeyPair {
  readonly #seed: Uint8Array;
  /** The public identity. */
  readonly didKey: DidKey;

  private constructor(seed: Uint8Array) {
    this.#seed = Uint8Array.from(seed);
    this.didKey = DidKey.fromPublicKey(ed25519PublicKey(this.#seed));
  }

  /** A new key from the platform's CSPRNG. */
  static generate(): KeyPair {
    return new KeyPair(randomBytes(32));
  }
  /** The key of a 32-byte secret seed. */
  static fromSeed(seed: Uint8Array): KeyPair {
    if (seed.length !== 32) throw new ConsentryError('invalid-key', 'an Ed25519 seed has 32 bytes');
    return new KeyPair(seed);
  }
  /**
   * Reads the key file format (`secretKeyMultibase`, or its alias `privateKeyMultibase`). The
   * public key and the DID must match the secret; unknown members are refused.
   */
  static fromJson(text: string | KeyFileJson): KeyPair {
    const v = typeof text === 'string' ? parseStrict(text, 'invalid-key') : (text as unknown);
    if (!isObject(v)) throw new ConsentryError('invalid-key', 'a key file is a JSON object');
    const allowed = new Set(['did', 'publicKeyMultibase', 'secretKeyMultibase', 'privateKeyMultibase']);
    for (const k of Object.keys(v)) if (!allowed.has(k)) throw new ConsentryError('invalid-key', `unknown member ${k} in key file`);
    const secret = v.secretKeyMultibase ?? v.privateKeyMultibase;
    if (typeof secret !== 'string' || typeof v.publicKeyMultibase !== 'string' || typeof v.did !== 'string') {
      throw new ConsentryError('invalid-key', 'a key file has string members did, publicKeyMultibase and secretKeyMultibase');
    }
    const seed = decodeMultikey(secret, ED25519_PRIV, 'invalid-key', 'secretKeyMultibase');
    const pair = new KeyPair(seed);
    if (v.publicKeyMultibase !== pair.didKey.multibase) throw new ConsentryError('invalid-key', 'publicKeyMultibase is not the public key of secretKeyMultibase');
    if (v.did !== pair.didKey.did) throw new ConsentryError('invalid-key', `did ${v.did} does not match the key (expected ${pair.didKey.did})`);
    return pair;
  }
  /** Reads a key file (Node only). */
  static async load(path: string): Promise<KeyPair> {
    const fs = await import('node:fs/promises' as string);
    return KeyPair.fromJson(await fs.readFile(path, 'utf8'));
  }
  /** The key file JSON (contains the secret). */
  toJson(): KeyFileJson {
    return {
      did: this.didKey.did,
      publicKeyMultibase: this.didKey.multibase,
      secretKeyMultibase: `z${b58Encode(concat(ED25519_PRIV, this.#seed))}`,
    };
  }
  /** Writes the key file, readable by its owner only (Node only). */
  async save(path: string): Promise<void> {
    const fs = await import('node:fs/promises' as string);
    await fs.writeFile(path, `${JSON.stringify(this.toJson(), null, 2)}\n`, { mode: 0o600 });
  }
  /** `did:key:z6Mk…`. */
  get did(): string {
    return this.didKey.did;
  }
  /** The key's verification method, `did:key:z…#z…`. */
  get verificationMethod(): string {
    return this.didKey.verificationMethod;
  }
  /** The 32-byte public key. */
  get publicKey(): Uint8Array {
    return this.didKey.publicKey;
  }
  /** Ed25519 signature of `msg`. */
  sign(msg: Uint8Array): Promise<Uint8Array> {
    return ed25519Sign(this.#seed, msg);
  }
  toString(): string {
    return `KeyPair(${this.didKey.did})`;
  }
  /** Hides the secret from JSON.stringify. */
  toJSON(): { did: string } {
    return { did: this.didKey.did };
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
