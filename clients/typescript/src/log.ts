/**
 * The access log (spec/access-log.md): RFC 9162 Merkle proofs, C2SP signed-note checkpoints with
 * witness cosignatures, tlog-proof receipts and inclusion promises. Every failure is a
 * `VerificationError`; nothing here returns a silent "false".
 */
import { b64Decode, b64Encode, bytesEqual, concat, hexDecode, hexEncode, utf8 } from './encoding.js';
import { VerificationError, fail } from './errors.js';
import { ed25519Verify, sha256 } from './crypto.js';
import { DidKey } from './did.js';

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT = sha256(new Uint8Array(0));

/** RFC 9162 leaf hash: SHA-256(0x00 ‖ leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concat(Uint8Array.of(0), leaf));
}
function nodeHash(l: Uint8Array, r: Uint8Array): Uint8Array {
  return sha256(concat(Uint8Array.of(1), l, r));
}
function need32(h: Uint8Array, what: string): void {
  if (h.length !== 32) fail('merkle', `${what} is ${h.length} bytes, not 32`);
}

/** The RFC 9162 root of the given leaf inputs (SHA-256("") for none). */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  let level = leaves.map(leafHash);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

/**
 * Verifies an RFC 9162 §2.1.3.2 inclusion proof of `leafHash` at `index` in a tree of `size` with
 * `root`. Throws `merkle` on failure (wrong length, mismatch, index out of range).
 */
export function verifyInclusion(leafHashBytes: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): void {
  need32(leafHashBytes, 'leaf hash');
  need32(root, 'root');
  proof.forEach((p, i) => need32(p, `proof node ${i}`));
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) fail('merkle', `index ${index} is not in a tree of size ${size}`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leafHashBytes;
  for (const p of proof) {
    if (sn === 0n) fail('merkle', 'inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else r = nodeHash(r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('merkle', 'inclusion proof is too short');
  if (!bytesEqual(r, root)) fail('merkle', 'inclusion proof does not lead to the root');
}

/**
 * Verifies an RFC 9162 §2.1.4.2 consistency proof from (`size1`, `root1`) to (`size2`, `root2`).
 * From size 0 the proof must be empty and `root1` the empty tree's root (C2SP tlog-witness).
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]): void {
  need32(root1, 'first root');
  need32(root2, 'second root');
  proof.forEach((p, i) => need32(p, `proof node ${i}`));
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1) fail('merkle', `sizes ${size1} → ${size2} are not increasing`);
  if (size1 === 0) {
    if (proof.length) fail('merkle', 'a consistency proof from size 0 must be empty');
    if (!bytesEqual(root1, EMPTY_ROOT)) fail('merkle', 'the root of size 0 must be SHA-256("")');
    return;
  }
  if (size1 === size2) {
    if (proof.length) fail('merkle', 'a consistency proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) fail('merkle', 'equal sizes with different roots');
    return;
  }
  if (proof.length === 0) fail('merkle', 'empty consistency proof');
  let path = proof;
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  if ((BigInt(size1) & (BigInt(size1) - 1n)) === 0n) path = [root1, ...proof];
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) fail('merkle', 'consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else sr = nodeHash(sr, c);
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('merkle', 'consistency proof is too short');
  if (!bytesEqual(fr, root1)) fail('merkle', 'consistency proof does not lead to the first root');
  if (!bytesEqual(sr, root2)) fail('merkle', 'consistency proof does not lead to the second root');
}

// --- signed notes, checkpoints, cosignatures ---

/** A note verifier key: a log key (type 0x01) or a witness cosignature key (type 0x04). */
export interface NoteKey {
  name: string;
  keyId: Uint8Array;
  type: 0x01 | 0x04;
  publicKey: Uint8Array;
}

function keyIdOf(name: string, type: number, pub: Uint8Array): Uint8Array {
  return sha256(concat(utf8(name), Uint8Array.of(0x0a, type), pub)).slice(0, 4);
}

/** Parses a vkey `<name>+<8 hex key ID>+<base64(type ‖ public key)>` (types 0x01 Ed25519, 0x04 cosignature/v1). */
export function parseVkey(vkey: string): NoteKey {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey);
  if (!m) fail('checkpoint-key', 'a vkey is <name>+<8 hex key id>+<base64 key>');
  const [, name, idHex, b64] = m;
  if (!name || /[\s+]/.test(name)) fail('checkpoint-key', 'invalid vkey name');
  const raw = b64Decode(b64, 'checkpoint-key', 'vkey');
  if (raw.length !== 33 || (raw[0] !== 0x01 && raw[0] !== 0x04)) fail('checkpoint-key', 'vkey is not an Ed25519 (0x01) or cosignature/v1 (0x04) key');
  const pub = raw.slice(1);
  const id = hexDecode(idHex, 'checkpoint-key', 'vkey key id');
  if (!bytesEqual(id, keyIdOf(name, raw[0], pub))) fail('checkpoint-key', 'vkey key id does not match the key');
  DidKey.fromPublicKey(pub);
  return { name, keyId: id, type: raw[0] as 0x01 | 0x04, publicKey: pub };
}

/** The log key of an origin and a did:key (what `GET /v1/node` gives as `logOrigin` and `did`). */
export function logKeyFromDid(origin: string, did: string): NoteKey {
  const pub = DidKey.parse(did).publicKey;
  return { name: origin, keyId: keyIdOf(origin, 0x01, pub), type: 0x01, publicKey: pub };
}
/** A witness's cosignature key (`name`, Ed25519 public key). */
export function witnessKey(name: string, publicKey: Uint8Array): NoteKey {
  return { name, keyId: keyIdOf(name, 0x04, publicKey), type: 0x04, publicKey };
}
/** The vkey text of a key. */
export function formatVkey(k: NoteKey): string {
  return `${k.name}+${hexEncode(k.keyId)}+${b64Encode(concat(Uint8Array.of(k.type), k.publicKey))}`;
}

/** A checkpoint whose log signature (and witness quorum) verified. */
export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** The note text (signed by the log). */
  text: string;
  /** The note as received. */
  note: string;
  /** Names of the witnesses whose cosignatures verified. */
  witnesses: string[];
  /** Cosignature times by witness name (seconds). */
  cosignedAt: Record<string, number>;
}

/** What a checkpoint must satisfy. */
export interface CheckpointPolicy {
  /** The pinned log key (vkey text or NoteKey). */
  logKey: string | NoteKey;
  /** Witness keys (vkey text or NoteKey). */
  witnesses?: (string | NoteKey)[];
  /** How many distinct witnesses must have cosigned (default 0). */
  quorum?: number;
}

/**
 * Parses and verifies a C2SP checkpoint note under a pinned log key and a witness quorum
 * (spec/access-log.md §5). Signatures by unknown keys are ignored; one by a known key that fails
 * rejects the note.
 */
export async function verifyCheckpoint(note: string, policy: CheckpointPolicy): Promise<Checkpoint> {
  const logKey = typeof policy.logKey === 'string' ? parseVkey(policy.logKey) : policy.logKey;
  if (logKey.type !== 0x01) fail('checkpoint-key', 'the log key must be an Ed25519 (0x01) key');
  const witnesses = (policy.witnesses ?? []).map((w) => (typeof w === 'string' ? parseVkey(w) : w));
  const quorum = policy.quorum ?? 0;
  if (quorum > witnesses.length) fail('checkpoint-quorum', `a quorum of ${quorum} needs at least that many witness keys`);
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) fail('checkpoint', 'note has a control character');
  if (!note.endsWith('\n')) fail('checkpoint', 'note does not end with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('checkpoint', 'note has no signature block');
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split('\n');
  if (sigLines.length === 0 || sigLines.length > 100) fail('checkpoint', 'note needs 1–100 signature lines');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) fail('checkpoint', 'checkpoint text needs origin, size and root');
  const [origin, sizeText, rootB64, ...ext] = lines;
  if (ext.some((l) => l === '')) fail('checkpoint', 'empty extension line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) fail('checkpoint', `size ${JSON.stringify(sizeText)} is not a decimal without leading zeroes`);
  const root = b64Decode(rootB64, 'checkpoint', 'root');
  if (root.length !== 32) fail('checkpoint', 'root is not 32 bytes');
  if (origin !== logKey.name) fail('checkpoint-origin', `checkpoint origin ${origin} is not the pinned log's ${logKey.name}`);
  const seen = new Set<string>();
  let logVerified = false;
  const cosigned = new Map<string, number>();
  const textBytes = utf8(text);
  for (const line of sigLines) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) fail('checkpoint', `malformed signature line ${JSON.stringify(line.slice(0, 60))}`);
    const raw = b64Decode(m[2], 'checkpoint', 'signature');
    if (raw.length < 5) fail('checkpoint', 'signature too short');
    const id = raw.slice(0, 4);
    const tag = `${m[1]} ${hexEncode(id)}`;
    if (seen.has(tag)) fail('checkpoint', `two signatures by ${tag}`);
    seen.add(tag);
    if (m[1] === logKey.name && bytesEqual(id, logKey.keyId)) {
      if (raw.length !== 68 || !(await ed25519Verify(logKey.publicKey, textBytes, raw.slice(4)))) fail('checkpoint-signature', `the log's signature on checkpoint ${origin} ${sizeText} does not verify`);
      logVerified = true;
      continue;
    }
    const w = witnesses.find((k) => k.name === m[1] && bytesEqual(k.keyId, id));
    if (!w) continue;
    if (raw.length !== 76) fail('checkpoint-cosignature', `cosignature by ${w.name} is not 76 bytes`);
    const t = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
    const msg = concat(utf8(`cosignature/v1\ntime ${t}\n`), textBytes);
    if (!(await ed25519Verify(w.publicKey, msg, raw.slice(12)))) fail('checkpoint-cosignature', `cosignature by witness ${w.name} does not verify`);
    cosigned.set(w.name, Number(t));
  }
  if (!logVerified) fail('checkpoint-signature', `checkpoint has no signature by the log key ${formatVkey(logKey)}`);
  if (cosigned.size < quorum) fail('checkpoint-quorum', `${cosigned.size} witness cosignature(s), quorum is ${quorum}`);
  return { origin, size: Number(sizeText), root, text, note, witnesses: [...cosigned.keys()], cosignedAt: Object.fromEntries(cosigned) };
}

/** A verified tlog-proof receipt. */
export interface VerifiedReceipt {
  index: number;
  leafHash: Uint8Array;
  checkpoint: Checkpoint;
}

/**
 * Verifies a C2SP tlog-proof receipt (spec/access-log.md §6.2) for the entry whose leaf hash you
 * hold: strict parsing, the checkpoint under the pinned key and quorum, index < size, inclusion.
 */
export async function verifyReceipt(receipt: string, leafHashBytes: Uint8Array, policy: CheckpointPolicy & { index?: number }): Promise<VerifiedReceipt> {
  const lines = receipt.split('\n');
  let i = 0;
  if (lines[i++] !== 'c2sp.org/tlog-proof@v1') fail('receipt', 'not a c2sp.org/tlog-proof@v1 receipt');
  if (lines[i]?.startsWith('extra ')) {
    const extra = b64Decode(lines[i].slice(6), 'receipt', 'extra');
    if (extra.length === 0) fail('receipt', 'empty extra');
    i++;
  }
  const im = /^index (0|[1-9][0-9]*)$/.exec(lines[i++] ?? '');
  if (!im || !Number.isSafeInteger(Number(im[1]))) fail('receipt', 'missing or malformed index line');
  const index = Number(im[1]);
  if (policy.index !== undefined && index !== policy.index) fail('receipt', `receipt is for index ${index}, not ${policy.index}`);
  const proof: Uint8Array[] = [];
  while (i < lines.length && lines[i] !== '') {
    if (proof.length >= 64) fail('receipt', 'more than 64 proof lines');
    const h = b64Decode(lines[i++], 'receipt', 'proof hash');
    if (h.length !== 32) fail('receipt', 'a proof hash is not 32 bytes');
    proof.push(h);
  }
  if (lines[i++] !== '') fail('receipt', 'no blank line before the checkpoint');
  const note = lines.slice(i).join('\n');
  const checkpoint = await verifyCheckpoint(note, policy);
  if (index >= checkpoint.size) fail('receipt', `index ${index} is not below the checkpoint size ${checkpoint.size}`);
  try {
    verifyInclusion(leafHashBytes, index, checkpoint.size, proof, checkpoint.root);
  } catch (e) {
    throw new VerificationError('receipt-inclusion', `receipt for entry ${index}: ${(e as Error).message}`);
  }
  return { index, leafHash: leafHashBytes, checkpoint };
}

/** An inclusion promise as a release answer carries it (spec/access-log.md §6.1). */
export interface InclusionPromise {
  type: 'inclusion-promise';
  origin: string;
  index: number;
  leafHash: string;
  timeMs: number;
  signer: string;
  signature: string;
  proof?: string;
}

/**
 * Verifies an inclusion promise's signature by the log key (its `signer` must be the pinned key,
 * given as a did:key or a NoteKey), and that its origin is the pinned origin when a NoteKey is given.
 */
export async function verifyInclusionPromise(p: InclusionPromise, logKey: string | NoteKey): Promise<void> {
  if (!p || p.type !== 'inclusion-promise') fail('promise', 'not an inclusion promise');
  const pub = typeof logKey === 'string' ? DidKey.parse(logKey).publicKey : logKey.publicKey;
  if (typeof logKey !== 'string' && p.origin !== logKey.name) fail('promise', `promise origin ${p.origin} is not the pinned log's ${logKey.name}`);
  const signer = DidKey.parse(p.signer);
  if (!bytesEqual(signer.publicKey, pub)) fail('promise', `promise signed by ${p.signer}, not the log key`);
  if (!Number.isSafeInteger(p.index) || !Number.isSafeInteger(p.timeMs)) fail('promise', 'index and timeMs must be integers');
  const lh = b64Decode(p.leafHash, 'promise', 'leafHash');
  if (lh.length !== 32) fail('promise', 'leafHash is not 32 bytes');
  const statement = `consentry/inclusion-promise/v1\n${p.origin}\n${p.index}\n${p.leafHash}\n${p.timeMs}\n`;
  const sig = b64Decode(p.signature, 'promise', 'signature');
  if (!(await ed25519Verify(pub, utf8(statement), sig))) fail('promise', 'inclusion promise signature does not verify');
}

/** Parses a list of hex hashes (API answers). */
export function hexHashes(list: unknown): Uint8Array[] {
  if (!Array.isArray(list)) fail('merkle', 'proof is not a list');
  return list.map((h, i) => {
    const b = hexDecode(String(h), 'merkle', `proof node ${i}`);
    need32(b, `proof node ${i}`);
    return b;
  });
}
