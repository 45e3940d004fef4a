// Consentry portal cryptography, in the browser (WebCrypto) — and in Node.js, which has the same API.
//
// * Ed25519 keys through WebCrypto; the private key is kept in IndexedDB as a *non-extractable*
//   CryptoKey: page scripts can sign with it but never read it.
// * Key files of `consentry key new`: {did, publicKeyMultibase, secretKeyMultibase}, base58btc
//   multibase of 0xed01 ‖ public key and 0x8026 ‖ 32-byte seed.
// * did:key, base58btc, base64url, RFC 8785 JCS, eddsa-jcs-2022 (W3C vc-di-eddsa) proofs, compact JWS
//   for signed requests, passphrase-encrypted backups (PBKDF2-SHA256 → AES-256-GCM).
//
// Nothing here talks to the network.

const subtle = globalThis.crypto.subtle;
const ED = { name: 'Ed25519' };
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (s) => enc.encode(s);
export const fromUtf8 = (b) => dec.decode(b);

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// ---------------------------------------------------------------- hex, base64, base64url, base58btc

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(s) {
  if (typeof s !== 'string' || s.length % 2 || /[^0-9a-f]/i.test(s)) throw new Error('not hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function binary(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

/** Standard base64 with padding (RFC 4648 §4). */
export function base64(bytes) {
  return btoa(binary(bytes));
}

/** Decodes canonical padded base64; anything else (bad characters, missing padding, non-zero unused bits) throws. */
export function fromBase64(s) {
  if (typeof s !== 'string' || s.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error('not canonical base64');
  const raw = atob(s);
  const out = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  if (base64(out) !== s) throw new Error('not canonical base64');
  return out;
}

/** base64url without padding (RFC 7515 §2). */
export function base64url(bytes) {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error('not base64url');
  const std = s.replace(/-/g, '+').replace(/_/g, '/');
  const out = fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
  if (base64url(out) !== s) throw new Error('not canonical base64url');
  return out;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** base58btc (Bitcoin alphabet); each leading zero byte becomes a leading '1'. */
export function base58(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  return '1'.repeat(zeros) + digits.reverse().map((d) => B58[d]).join('');
}

export function fromBase58(s) {
  if (typeof s !== 'string') throw new Error('not base58');
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  const bytes = [];
  for (let i = zeros; i < s.length; i++) {
    let carry = B58.indexOf(s[i]);
    if (carry < 0) throw new Error(`invalid base58 character ${JSON.stringify(s[i])}`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  return Uint8Array.from([...new Array(zeros).fill(0), ...bytes.reverse()]);
}

// ---------------------------------------------------------------- RFC 8785 JSON Canonicalization Scheme

/**
 * JSON.parse with the node's number rule (src/crypto/json, issue #17): an integer literal whose value
 * no IEEE double holds (9007199254740993) is refused, since JCS would round it and two documents would
 * share one signature; one that is exactly a double (1000000000000000000000 = 1e21) is read as that
 * double. Uses the reviver's source text (JSON.parse source text access); where a browser lacks it,
 * this is plain JSON.parse.
 */
export function parseJson(text) {
  return JSON.parse(text, function reviver(key, value, context) {
    const src = context && typeof context.source === 'string' ? context.source : null;
    if (typeof value === 'number' && src && /^-?\d{16,}$/.test(src) && BigInt(src) !== BigInt(value)) {
      throw new Error(`JSON: integer ${src} is not exactly an IEEE double: JCS would round it to ${String(value)} (RFC 8785 §3.2.2.3)`);
    }
    return value;
  });
}

/**
 * The RFC 8785 canonical JSON text of a JSON value (as JSON.parse makes it). Members are sorted by
 * their names' UTF-16 code units (JavaScript's default string order); numbers are written as
 * ECMAScript's Number.prototype.toString writes them, which is the form JCS specifies; strings are
 * written as JSON.stringify writes them (RFC 8785 §3.2.2.2).
 */
export function canonicalize(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error('JCS: NaN and Infinity are not JSON');
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      if (/\p{Surrogate}/u.test(value)) throw new Error('JCS: lone surrogate in a string');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
      const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
      return `{${keys.map((k) => `${canonicalize(k)}:${canonicalize(value[k])}`).join(',')}}`;
    }
    default:
      throw new Error(`JCS: a ${typeof value} is not JSON`);
  }
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
}

/** SHA-256 (hex) of the JCS form of a value: how letter digests are made (spec/grant.md §7). */
export async function jcsDigest(value) {
  return hex(await sha256(utf8(canonicalize(value))));
}

// ---------------------------------------------------------------- Ed25519, did:key, key files

const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const ED25519_PRIV = Uint8Array.of(0x80, 0x26);

/** The Multikey (z…) of a 32-byte Ed25519 public key. */
export function multikey(publicKey) {
  return `z${base58(concat(ED25519_PUB, publicKey))}`;
}

/** The did:key of a 32-byte Ed25519 public key. */
export function didKey(publicKey) {
  return `did:key:${multikey(publicKey)}`;
}

/** The verification method (DID URL) of a did:key: `<did>#<multibase>`. */
export function verificationMethod(did) {
  return `${did}#${did.slice('did:key:'.length)}`;
}

/** The 32-byte public key of an Ed25519 did:key (or of its verification method). */
export function publicKeyOfDid(did) {
  const m = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)(?:#(z[1-9A-HJ-NP-Za-km-z]+))?$/.exec(did);
  if (!m || (m[2] && m[2] !== m[1])) throw new Error(`not an Ed25519 did:key: ${did}`);
  const raw = fromBase58(m[1].slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error(`not an Ed25519 did:key: ${did}`);
  if (multikey(raw.slice(2)) !== m[1]) throw new Error(`non-canonical did:key: ${did}`);
  return raw.slice(2);
}

export async function importPublicKey(raw) {
  return subtle.importKey('raw', raw, ED, true, ['verify']);
}

export async function verifyEd25519(publicKeyRaw, signature, message) {
  if (signature.length !== 64) return false;
  const k = await importPublicKey(publicKeyRaw);
  return subtle.verify(ED, k, signature, message);
}

/** A key file as `consentry key new` writes it, from a seed and its public key. */
export function keyFileFromSeed(seed, publicKey) {
  return {
    did: didKey(publicKey),
    publicKeyMultibase: multikey(publicKey),
    secretKeyMultibase: `z${base58(concat(ED25519_PRIV, seed))}`,
  };
}

/**
 * Reads a key file ({did, publicKeyMultibase, secretKeyMultibase}) into a *non-extractable* signing
 * key. The pair is checked by signing and verifying a test message.
 */
export async function importKeyFile(file, { extractable = false } = {}) {
  if (!file || typeof file !== 'object') throw new KeyFileError('not-a-key-file');
  const { did, publicKeyMultibase: pmb, secretKeyMultibase: smb } = file;
  if (typeof did !== 'string' || typeof pmb !== 'string' || typeof smb !== 'string') throw new KeyFileError('not-a-key-file');
  let pub;
  let seed;
  try {
    pub = publicKeyOfDid(did);
    if (pmb !== did.slice('did:key:'.length)) throw new Error('publicKeyMultibase is not the DID\'s key');
    if (!smb.startsWith('z')) throw new Error('secretKeyMultibase must be base58btc (z…)');
    const raw = fromBase58(smb.slice(1));
    if (raw.length !== 34 || raw[0] !== 0x80 || raw[1] !== 0x26) throw new Error('secretKeyMultibase is not an Ed25519 seed (0x8026)');
    seed = raw.slice(2);
  } catch (e) {
    throw new KeyFileError('not-a-key-file', e.message);
  }
  const jwk = { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x: base64url(pub) };
  seed.fill(0);
  const privateKey = await subtle.importKey('jwk', jwk, ED, extractable, ['sign']);
  jwk.d = '';
  const publicKey = await importPublicKey(pub);
  const probe = utf8(`consentry key check ${did}`);
  const sig = new Uint8Array(await subtle.sign(ED, privateKey, probe));
  if (!(await subtle.verify(ED, publicKey, sig, probe))) throw new KeyFileError('key-mismatch', 'the secret key does not belong to the DID');
  return { did, publicKeyRaw: pub, privateKey, publicKey };
}

export class KeyFileError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

/** Signs bytes with a key ({privateKey}); returns the 64-byte signature. */
export async function sign(key, bytes) {
  return new Uint8Array(await subtle.sign(ED, key.privateKey, bytes));
}

// ---------------------------------------------------------------- passphrase-encrypted backups

/** PBKDF2 iterations of new backups (OWASP 2023 for PBKDF2-HMAC-SHA256). */
export const BACKUP_ITERATIONS = 600000;
const BACKUP_FORMAT = 'consentry-key-backup';

async function backupKey(passphrase, salt, iterations) {
  const base = await subtle.importKey('raw', utf8(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Encrypts a key file under a passphrase: PBKDF2-SHA256 (600,000 iterations, random salt) → AES-256-GCM (random IV). */
export async function makeBackup(keyFile, passphrase, iterations = BACKUP_ITERATIONS) {
  if (typeof passphrase !== 'string' || passphrase.length < 10) throw new KeyFileError('weak-passphrase');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await backupKey(passphrase, salt, iterations);
  const ct = await subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(`${BACKUP_FORMAT}/v1\n${keyFile.did}`) },
    key,
    utf8(JSON.stringify(keyFile)),
  );
  return {
    format: BACKUP_FORMAT,
    version: 1,
    did: keyFile.did,
    kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: base64url(salt) },
    cipher: { name: 'AES-GCM', iv: base64url(iv) },
    ciphertext: base64url(new Uint8Array(ct)),
  };
}

export function isBackup(obj) {
  return !!obj && obj.format === BACKUP_FORMAT;
}

/** Decrypts a backup into its key file. A wrong passphrase or a changed file fails (AES-GCM tag). */
export async function openBackup(backup, passphrase) {
  if (!isBackup(backup) || backup.version !== 1 || backup.kdf?.name !== 'PBKDF2' || backup.kdf?.hash !== 'SHA-256' || backup.cipher?.name !== 'AES-GCM') {
    throw new KeyFileError('not-a-backup');
  }
  const it = backup.kdf.iterations;
  if (!Number.isInteger(it) || it < BACKUP_ITERATIONS || it > 10000000) throw new KeyFileError('not-a-backup', 'unexpected iteration count');
  let plain;
  try {
    const key = await backupKey(passphrase, fromBase64url(backup.kdf.salt), it);
    plain = await subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64url(backup.cipher.iv), additionalData: utf8(`${BACKUP_FORMAT}/v1\n${backup.did}`) },
      key,
      fromBase64url(backup.ciphertext),
    );
  } catch {
    throw new KeyFileError('wrong-passphrase');
  }
  const file = JSON.parse(fromUtf8(new Uint8Array(plain)));
  if (file.did !== backup.did) throw new KeyFileError('not-a-backup', 'the backup names another key');
  return file;
}

/**
 * A new key: generated extractable only long enough to write its encrypted backup, then imported
 * again as non-extractable; only that one is returned (and stored by the caller).
 */
export async function createKeyWithBackup(passphrase) {
  if (typeof passphrase !== 'string' || passphrase.length < 10) throw new KeyFileError('weak-passphrase');
  const pair = await subtle.generateKey(ED, true, ['sign', 'verify']);
  const jwk = await subtle.exportKey('jwk', pair.privateKey);
  const seed = fromBase64url(jwk.d);
  const pub = fromBase64url(jwk.x);
  jwk.d = '';
  const file = keyFileFromSeed(seed, pub);
  seed.fill(0);
  const backup = await makeBackup(file, passphrase);
  const key = await importKeyFile(file);
  file.secretKeyMultibase = '';
  return { key, backup };
}

// ---------------------------------------------------------------- key storage (IndexedDB)

const DB = 'consentry-portal';
const STORE = 'keys';

function openDb() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'did' });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function tx(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const out = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(out && 'result' in out ? out.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** Stores a key; refuses an extractable private key. */
export async function storeKey(key, meta = {}) {
  if (key.privateKey.extractable) throw new Error('refusing to store an extractable private key');
  const rec = { did: key.did, privateKey: key.privateKey, publicKey: key.publicKey, publicKeyRaw: key.publicKeyRaw, created: new Date().toISOString(), ...meta };
  await tx('readwrite', (s) => s.put(rec));
  return rec;
}

/** The stored keys, oldest first. */
export async function listKeys() {
  const all = (await tx('readonly', (s) => s.getAll())) || [];
  return all.sort((a, b) => String(a.created).localeCompare(String(b.created)));
}

export async function getKey(did) {
  return tx('readonly', (s) => s.get(did));
}

export async function updateKeyMeta(did, meta) {
  const rec = await getKey(did);
  if (!rec) return;
  await tx('readwrite', (s) => s.put({ ...rec, ...meta }));
}

export async function deleteKey(did) {
  await tx('readwrite', (s) => s.delete(did));
}

// ---------------------------------------------------------------- eddsa-jcs-2022 (W3C vc-di-eddsa §3.3)

export async function proofHashData(proofConfig, document) {
  return concat(await sha256(utf8(canonicalize(proofConfig))), await sha256(utf8(canonicalize(document))));
}

/**
 * Create Proof (eddsa-jcs-2022), exactly as vc-di-eddsa §3.3.1: the proof options carry the
 * document's @context; hashData = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document)); the Ed25519
 * signature over hashData is the proofValue, z + base58btc.
 */
export async function createProof(document, key, created) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(created)) throw new Error('created must be YYYY-MM-DDTHH:MM:SSZ');
  const unsecured = { ...document };
  delete unsecured.proof;
  const proof = {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-jcs-2022',
    created,
    verificationMethod: verificationMethod(key.did),
    proofPurpose: 'assertionMethod',
  };
  if (unsecured['@context'] !== undefined) proof['@context'] = unsecured['@context'];
  const sig = await sign(key, await proofHashData(proof, unsecured));
  return { ...unsecured, proof: { ...proof, proofValue: `z${base58(sig)}` } };
}

/** Verify Proof (eddsa-jcs-2022), vc-di-eddsa §3.3.2; returns the signer's DID or throws. */
export async function verifyProof(secured) {
  const proof = secured?.proof;
  if (!proof || typeof proof !== 'object' || Array.isArray(proof)) throw new Error('missing-proof');
  if (proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') throw new Error('wrong-cryptosuite');
  const { proofValue, ...options } = proof;
  if (typeof proofValue !== 'string' || !proofValue.startsWith('z')) throw new Error('proof-value');
  const sig = fromBase58(proofValue.slice(1));
  if (sig.length !== 64 || `z${base58(sig)}` !== proofValue) throw new Error('proof-value');
  const unsecured = { ...secured };
  delete unsecured.proof;
  if (options['@context'] !== undefined) {
    const pc = [].concat(options['@context']);
    const dc = [].concat(unsecured['@context'] ?? []);
    if (pc.some((c, i) => JSON.stringify(c) !== JSON.stringify(dc[i]))) throw new Error('context-mismatch');
    unsecured['@context'] = options['@context'];
  }
  if (options.proofPurpose !== 'assertionMethod') throw new Error('proof-purpose');
  const pub = publicKeyOfDid(options.verificationMethod);
  const ok = await verifyEd25519(pub, sig, await proofHashData(options, unsecured));
  if (!ok) throw new Error('bad-signature');
  return options.verificationMethod.split('#')[0];
}

// ---------------------------------------------------------------- compact JWS (RFC 7515), signed requests

export const REQUEST_TYP = 'consentry-request+jwt';
export const ASSERTION_TYP = 'consentry-assertion+jwt';

export async function signJws(payload, typ, key) {
  const header = { alg: 'EdDSA', typ, kid: verificationMethod(key.did) };
  const h64 = base64url(utf8(JSON.stringify(header)));
  const p64 = base64url(utf8(JSON.stringify(payload)));
  const sig = await sign(key, utf8(`${h64}.${p64}`));
  return `${h64}.${p64}.${base64url(sig)}`;
}

export function jti() {
  return hex(randomBytes(16));
}

/**
 * A signed request (consentry-request+jwt): the participant's own statement of an action
 * (register, revoke, suspend, resume, accept-key …) addressed to the node, as src/node/auth.rs
 * `make_request` makes it: claims … plus action, aud (the node's DID), iat and a 32-character jti.
 */
export async function signedRequest(key, nodeDid, action, claims = {}) {
  const payload = { ...claims, action, aud: nodeDid, iat: Math.floor(Date.now() / 1000), jti: jti() };
  return signJws(payload, REQUEST_TYP, key);
}

/** A client assertion for one API request (Authorization: Bearer …), as src/node/auth.rs `make`. */
export async function clientAssertion(key, nodeDid, method, pathAndQuery) {
  const iat = Math.floor(Date.now() / 1000);
  const claims = { iss: key.did, aud: nodeDid, iat, exp: iat + 120, jti: jti(), htm: method.toUpperCase(), htu: pathAndQuery };
  return signJws(claims, ASSERTION_TYP, key);
}

/** Decodes a compact JWS without verifying it (to show what a request says). */
export function decodeJws(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(fromUtf8(fromBase64url(h))), payload: JSON.parse(fromUtf8(fromBase64url(p))) };
}

/** The text a participant signs to open a portal session (src/portal/session.rs `login_text`). */
export function loginText(nodeDid, challenge) {
  return `consentry-portal-login\n${nodeDid}\n${challenge}\n`;
}

/**
 * Key recovery, the enterprise's half: the new key's `accept-key` signed request, which the node
 * operator passes to `consentry admin recover-key` after checking the enterprise's identity offline.
 * The node accepts it for 10 minutes after it is made.
 */
export async function recoveryRequest(newKey, nodeDid, uscc) {
  return signedRequest(newKey, nodeDid, 'accept-key', { uscc });
}
