// Verifying the access log in the page, trusting nothing the server says but the node's key:
//
// * C2SP signed notes and checkpoints (key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]; the
//   log's key name is its origin; the key is the node's Ed25519 key from its did:key);
// * C2SP tlog-proof receipts (c2sp.org/tlog-proof@v1);
// * RFC 9162 Merkle trees: leaf hash = SHA-256(0x00 ‖ leaf), node = SHA-256(0x01 ‖ left ‖ right),
//   inclusion (§2.1.3.2) and consistency (§2.1.4.2) verification;
// * the record commitment SHA-256("consentry/access-record/v1" ‖ salt ‖ JCS(record)) in the 136-byte
//   leaf (src/log/entry.rs).

import { canonicalize, concat, equalBytes, fromBase64, fromHex, hex, publicKeyOfDid, sha256, utf8, verifyEd25519 } from './crypto.js';

export class VerifyError extends Error {
  constructor(step, message) {
    super(message);
    this.step = step;
  }
}

// ---------------------------------------------------------------- Merkle (RFC 9162 §2.1)

export async function leafHash(leaf) {
  return sha256(concat(Uint8Array.of(0), leaf));
}

async function nodeHash(l, r) {
  return sha256(concat(Uint8Array.of(1), l, r));
}

/** RFC 9162 §2.1.3.2: does `proof` lead from `leafHashBytes` at `index` to `root` of a tree of `size`? */
export async function verifyInclusion(index, size, leafHashBytes, proof, root) {
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (BigInt(index) >= BigInt(size)) return false;
  if (leafHashBytes.length !== 32 || root.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  let r = leafHashBytes;
  for (const p of proof) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1n)) {
        while (!(fn & 1n) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equalBytes(r, root);
}

/** RFC 9162 §2.1.4.2: is the tree of `size2` with `root2` an extension of the tree of `size1` with `root1`? */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  const first = BigInt(size1);
  const second = BigInt(size2);
  if (second < first || first === 0n) return false;
  if (first === second) return proof.length === 0 && equalBytes(root1, root2);
  if (root1.length !== 32 || root2.length !== 32 || proof.some((p) => p.length !== 32)) return false;
  if (proof.length === 0) return false;
  let path = proof;
  if ((first & (first - 1n)) === 0n) path = [root1, ...proof];
  let fn = first - 1n;
  let sn = second - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!(fn & 1n)) {
        while (!(fn & 1n) && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return equalBytes(fr, root1) && equalBytes(sr, root2) && sn === 0n;
}

// ---------------------------------------------------------------- signed notes and checkpoints (C2SP)

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]. */
export async function noteKeyId(name, publicKeyRaw) {
  return (await sha256(concat(utf8(name), Uint8Array.of(0x0a, 0x01), publicKeyRaw))).slice(0, 4);
}

/** Splits a signed note into its text and signature lines (c2sp.org/signed-note §Format). */
export function parseNote(note) {
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note)) throw new VerifyError('note', 'control character in the note');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new VerifyError('note', 'no blank line before the signatures');
  const text = note.slice(0, cut + 1);
  const sigs = note.slice(cut + 2);
  if (!sigs.endsWith('\n')) throw new VerifyError('note', 'signature lines must end in a newline');
  const signatures = sigs
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new VerifyError('note', `malformed signature line ${JSON.stringify(line)}`);
      const raw = fromBase64(m[2]);
      if (raw.length < 5) throw new VerifyError('note', 'signature too short');
      return { name: m[1], keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
  return { text, signatures };
}

/** Reads a checkpoint's text: origin, decimal size, base64 root (c2sp.org/tlog-checkpoint). */
export function parseCheckpointText(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new VerifyError('checkpoint', 'a checkpoint has origin, size and root lines');
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new VerifyError('checkpoint', `bad tree size ${JSON.stringify(sizeText)}`);
  const size = BigInt(sizeText);
  const root = fromBase64(rootText);
  if (root.length !== 32) throw new VerifyError('checkpoint', 'the root hash is not 32 bytes');
  return { origin, size, root };
}

/**
 * Verifies a checkpoint note with the log's key: the note must carry a signature line by the key
 * named `origin` with the right key id, and it must verify over the note text with the node's Ed25519
 * key; the checkpoint's own origin line must be `origin`.
 */
export async function verifyCheckpoint(note, { origin, publicKeyRaw }) {
  const { text, signatures } = parseNote(note);
  const cp = parseCheckpointText(text);
  if (cp.origin !== origin) throw new VerifyError('origin', `the checkpoint is for ${cp.origin}, not ${origin}`);
  const id = await noteKeyId(origin, publicKeyRaw);
  const mine = signatures.filter((s) => s.name === origin && equalBytes(s.keyId, id));
  if (mine.length !== 1) throw new VerifyError('signature', 'no signature by the node\'s log key');
  if (!(await verifyEd25519(publicKeyRaw, mine[0].signature, utf8(text)))) {
    throw new VerifyError('signature', 'the checkpoint signature does not verify with the node key');
  }
  return cp;
}

/** Parses a c2sp.org/tlog-proof@v1 receipt. */
export function parseTlogProof(text) {
  const lines = text.split('\n');
  let i = 0;
  if (lines[i++] !== 'c2sp.org/tlog-proof@v1') throw new VerifyError('receipt', 'not a c2sp.org/tlog-proof@v1 receipt');
  let extra = null;
  if (lines[i]?.startsWith('extra ')) extra = fromBase64(lines[i++].slice(6));
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[i++] || '');
  if (!m) throw new VerifyError('receipt', 'no index line');
  const index = BigInt(m[1]);
  const proof = [];
  for (;;) {
    if (i >= lines.length - 1) throw new VerifyError('receipt', 'no blank line before the checkpoint');
    const line = lines[i++];
    if (line === '') break;
    const h = fromBase64(line);
    if (h.length !== 32 || proof.length >= 64) throw new VerifyError('receipt', 'bad proof hash');
    proof.push(h);
  }
  return { extra, index, proof, checkpoint: lines.slice(i).join('\n') };
}

// ---------------------------------------------------------------- leaves and records (src/log/entry.rs)

const KINDS = [null, 'release', 'refusal', 'grant-submitted', 'grant-revoked', 'grant-suspended', 'grant-resumed', 'objection', 'onward-release', 'participant', 'evaluation-withdrawn', 'public-display', 'loan-report'];
const NONE = (1n << 64n) - 1n;

/** Decodes a 136-byte leaf. */
export function decodeLeaf(b) {
  if (b.length !== 136) throw new VerifyError('leaf', `a leaf is 136 bytes, got ${b.length}`);
  if (b[0] !== 1) throw new VerifyError('leaf', `leaf version ${b[0]} is not 1`);
  if (!KINDS[b[1]]) throw new VerifyError('leaf', `unknown entry kind ${b[1]}`);
  if (b.slice(2, 8).some((x) => x !== 0)) throw new VerifyError('leaf', 'reserved bytes are not zero');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (o) => dv.getBigUint64(o);
  const prev = (o) => (u64(o) === NONE ? null : u64(o));
  return {
    kind: KINDS[b[1]],
    seq: u64(8),
    timeMs: u64(16),
    grantDigest: hex(b.slice(24, 56)),
    prevSameGrant: prev(56),
    subjectTag: hex(b.slice(64, 96)),
    prevSameSubject: prev(96),
    recordCommitment: b.slice(104, 136),
  };
}

/** SHA-256("consentry/access-record/v1" ‖ salt ‖ JCS(record)). */
export async function recordCommitment(saltHex, record) {
  return sha256(concat(utf8('consentry/access-record/v1'), fromHex(saltHex), utf8(canonicalize(record))));
}

// ---------------------------------------------------------------- the whole check of one entry

/** The node's log key and origin, from /v1/node (did:key → Ed25519 public key). */
export function logKey(nodeInfo) {
  return { origin: nodeInfo.logOrigin, publicKeyRaw: publicKeyOfDid(nodeInfo.did), did: nodeInfo.did };
}

const checkpointCache = new Map();

async function checkpointVerified(note, key) {
  const k = `${key.did}\n${note}`;
  if (!checkpointCache.has(k)) checkpointCache.set(k, verifyCheckpoint(note, key));
  try {
    return await checkpointCache.get(k);
  } catch (e) {
    checkpointCache.delete(k);
    throw e;
  }
}

/**
 * Verifies one access-log entry as the history and explorer APIs give it ({index, leaf (base64),
 * salt (hex), record}) against its receipt (tlog-proof text). Every step is reported; `ok` only when
 * all of them hold: the leaf's own index, the record commitment, the checkpoint's signature by the
 * node key and its origin, and the inclusion proof of the leaf hash under the checkpoint's root.
 */
export async function verifyEntry(entry, receiptText, key) {
  const steps = [];
  const step = (id, ok, detail = '') => steps.push({ id, ok, detail });
  try {
    const leafBytes = fromBase64(entry.leaf);
    const leaf = decodeLeaf(leafBytes);
    step('leaf', leaf.seq === BigInt(entry.index), `#${leaf.seq} ${leaf.kind}`);
    if (entry.salt && entry.record) {
      const c = await recordCommitment(entry.salt, entry.record);
      step('commitment', equalBytes(c, leaf.recordCommitment), hex(c));
      const g = entry.record.grant?.sha256;
      if (g && !/^0+$/.test(leaf.grantDigest)) step('grant-digest', g === leaf.grantDigest, g);
    } else {
      step('commitment', false, 'record erased or withheld');
    }
    const receipt = parseTlogProof(receiptText);
    step('receipt-index', receipt.index === BigInt(entry.index), `index ${receipt.index}`);
    let cp = null;
    try {
      cp = await checkpointVerified(receipt.checkpoint, key);
      step('checkpoint-signature', true, `${cp.origin} size ${cp.size}`);
      step('origin', true, cp.origin);
    } catch (e) {
      step(e.step === 'origin' ? 'origin' : 'checkpoint-signature', false, e.message);
    }
    if (cp) {
      const lh = await leafHash(leafBytes);
      const ok = await verifyInclusion(receipt.index, cp.size, lh, receipt.proof, cp.root);
      step('inclusion', ok, `leaf ${hex(lh).slice(0, 16)}… in tree ${cp.size}`);
    }
    return { ok: steps.every((s) => s.ok), steps, leaf, checkpoint: cp };
  } catch (e) {
    step(e.step || 'parse', false, e.message);
    return { ok: false, steps };
  }
}
