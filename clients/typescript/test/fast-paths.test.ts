/**
 * The per-request fast paths say what the general ones say: parsing without the trimmed copy,
 * Node's base64 decoder behind the strict checks, the chunked base58 decoder, the usual
 * dateTimeStamp form read without the regular expression, the verified-grant cache's exact-text
 * lookup (and its bucket cap), and the status check answered from lists already verified.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as C from '../src/index.js';
import { SPEC } from './paths.js';

const read = (p: string) => fs.readFileSync(path.join(SPEC, p), 'utf8');
const AT = Date.parse('2027-01-01T00:00:00Z');
const DI = read('examples/grant.signed.di.json');

/** What `f` returns, or the VerificationError's code and message it throws. */
function outcome<T>(f: () => T): { ok: T } | { code: string; message: string } {
  try {
    return { ok: f() };
  } catch (e) {
    assert.ok(e instanceof C.VerificationError, String(e));
    return { code: e.code, message: e.message };
  }
}

test('parseStrictTrimmed is parseStrict of the trimmed text, errors and offsets included', () => {
  const bodies = ['{"a":1}', '[1, "x", true, null]', '{"a":', '{"a":1', '"abc', '"ab\\', '"\\u12', 'tru', 'nul', '-', '12', '{"a":"\\ud800"}', '{"a":1,"a":2}', '{"a":1} x', '', '{"a":"\u00e9\ud83d\ude00"}', '[1,]', '{"a" 1}'];
  const pads = [['', ''], ['  ', '\n'], ['\t\r\n', '\f'], ['\f', ' \n\n'], ['', '\n']];
  for (const body of bodies) {
    for (const [pre, post] of pads) {
      const text = `${pre}${body}${post}`;
      assert.deepEqual(outcome(() => C.parseStrictTrimmed(text)), outcome(() => C.parseStrict(C.trimAsciiWhitespace(text))), JSON.stringify(text));
    }
  }
  // A form feed is not JSON whitespace: parseStrict refuses it where the trim does not remove it.
  assert.throws(() => C.parseStrictTrimmed('{"a":\f1}'), /unexpected character/);
});

/** Deterministic bytes (a linear congruential generator). */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

test('base64 and base64url: long inputs (Node decoder) are as strict as short ones', () => {
  for (let n = 40; n < 140; n++) {
    const b = bytes(n, n);
    const url = C.b64urlEncode(b);
    const std = C.b64Encode(b);
    assert.deepEqual(C.b64urlDecode(url), b);
    assert.deepEqual(C.b64Decode(std), b);
    assert.ok(!(C.b64urlDecode(url) instanceof Buffer), 'a plain Uint8Array, not a Buffer');
    const mid = url.length >> 1;
    // A character of the other alphabet, padding, whitespace, non-ASCII: refused, first one named.
    const named = (bad: string) => (e: C.VerificationError) => e.message.includes(`invalid base64 character ${JSON.stringify(bad)}`);
    for (const bad of ['+', '/', '=', ' ', '\n', 'é']) {
      assert.throws(() => C.b64urlDecode(`${url.slice(0, mid)}${bad}${url.slice(mid + 1)}`), named(bad));
      assert.throws(() => C.b64urlDecode(`${url.slice(0, 3)}${bad}${url.slice(4, mid)}*${url.slice(mid + 1)}`), named(bad));
    }
    for (const bad of ['-', '_', '=']) assert.throws(() => C.b64Decode(`${std.slice(0, 4)}${bad}${std.slice(5)}`), named(bad));
    if (n % 3 !== 0) {
      // Non-zero trailing bits (the last character one step up), refused as the short path does.
      const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const bump = (s: string) => `${s.slice(0, -1)}${alpha[alpha.indexOf(s[s.length - 1]) + 1]}`;
      assert.throws(() => C.b64urlDecode(bump(url)), /non-canonical/);
      assert.throws(() => C.b64Decode(std.replace(/=+$/, '')), /not a multiple of 4/);
      const body = std.replace(/=+$/, '');
      assert.throws(() => C.b64Decode(`${bump(body.replace(/[+/]/g, 'A'))}${std.slice(body.length)}`), /non-canonical/);
    }
    const k = ((1 - (url.length % 4)) + 4) % 4 || 4;
    assert.throws(() => C.b64urlDecode(`${url}${'A'.repeat(k)}`), /impossible base64 length/);
  }
});

test('base58: the chunked decoder round-trips and names the first bad character', () => {
  for (let n = 0; n < 80; n++) {
    const b = bytes(n, 7 * n + 1);
    if (n > 2) b[0] = b[1] = 0; // leading zero bytes are leading 1s
    const text = C.b58Encode(b);
    assert.deepEqual(C.b58Decode(text), b);
  }
  assert.throws(() => C.b58Decode('z6Mk0iS2'), /invalid base58 character "0"/);
  assert.throws(() => C.b58Decode('abcdefghijklmnopqrstuvwxyzOl'), /invalid base58 character "l"/);
});

test('dateTimeStamp: the usual form read without the regular expression, with the same checks', () => {
  for (const ok of ['2026-12-01T00:00:00Z', '2024-02-29T23:59:59Z', '1970-01-01T00:00:00Z', '2026-12-01T08:00:00+08:00', '2026-12-01T00:00:00.5Z']) {
    assert.equal(C.parseDateTimeStamp(ok, 'x', 'f'), Date.parse(ok), ok);
  }
  for (const [bad, why] of [
    ['2026-02-29T00:00:00Z', 'no such date'],
    ['2026-13-01T00:00:00Z', 'no such date'],
    ['2026-12-00T00:00:00Z', 'no such date'],
    ['2026-12-01T24:00:00Z', 'no such time'],
    ['2026-12-01T00:60:00Z', 'no such time'],
    ['2026-12-01T00:00:60Z', 'no such time'],
    ['2026-12-01t00:00:00Z', 'expected'],
    ['2026-12-01T00:00:00z', 'expected'],
    ['2026-12-01T0a:00:00Z', 'expected'],
    ['2026-12-01 00:00:00Z', 'expected'],
    ['+026-12-01T00:00:00Z', 'expected'],
    ['2026-12-01T00:00:00', 'expected'],
  ]) {
    assert.throws(() => C.parseDateTimeStamp(bad, 'proof-created', 'created'), (e: C.VerificationError) => e.code === 'proof-created' && e.message.includes(why), bad);
  }
  assert.deepEqual(C.parseDate('2024-02-29'), { y: 2024, m: 2, d: 29 });
  for (const bad of ['2023-02-29', '2024-2-29', '2024-02-29\n', '2024-02-2x', '２０２４-02-29', '2024/02/29']) assert.equal(C.parseDate(bad), null, bad);
});

test('grant cache: a hit needs the exact text; texts sharing a fingerprint are kept 4 at a time', async () => {
  const trimmed = DI.trim();
  // One indentation space turned into a tab, at a place the fingerprint does not sample (it reads
  // every 32nd code unit from length mod 32): every such variant verifies and has one fingerprint.
  const skip = trimmed.length & 31;
  const spots: number[] = [];
  for (let i = 0; i < trimmed.length && spots.length < 6; i++) {
    if (trimmed[i] === ' ' && trimmed[i - 1] === ' ' && (i - skip) % 32 !== 0) spots.push(i);
  }
  assert.equal(spots.length, 6);
  const variants = spots.map((i) => `${trimmed.slice(0, i)}\t${trimmed.slice(i + 1)}`);
  const cache = new C.VerifiedGrantCache();
  const base = await cache.verify(DI, { now: AT });
  assert.equal(base.sha256, C.hexEncode(C.sha256(trimmed)));
  const grants = [];
  for (const v of variants) {
    const g = await cache.verify(v, { now: AT });
    assert.notEqual(g, base);
    assert.equal(g.sha256, C.hexEncode(C.sha256(v)));
    assert.deepEqual(g.document, base.document);
    grants.push(g);
  }
  // 7 texts in one bucket of 4: the 3 oldest went.
  assert.deepEqual([cache.size, cache.misses, cache.hits], [4, 7, 0]);
  for (let k = 2; k < 6; k++) assert.equal(await cache.verify(variants[k], { now: AT }), grants[k]);
  assert.equal(cache.hits, 4);
  assert.notEqual(await cache.verify(DI, { now: AT }), base);
  assert.deepEqual([cache.size, cache.misses], [4, 8]);
  // An equal text that is another string (decoded from bytes) is a hit.
  const again = await cache.verify(new TextEncoder().encode(` ${variants[5]}\n`), { now: AT });
  assert.equal(again, grants[5]);
});

test('status cache: lists already verified answer at once, with the same results and refetches', async () => {
  const nodeKey = C.KeyPair.generate();
  const signedList = async (purpose: string, set: number[]) => {
    const bits = new Uint8Array(16384);
    for (const i of set) bits[i >> 3] |= 0x80 >> (i & 7);
    const gz = new Uint8Array(await new Response(new Blob([bits]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    const url = `https://node.example/status/1/${purpose}`;
    const cred = { '@context': ['https://www.w3.org/ns/credentials/v2'], id: url, type: ['VerifiableCredential', 'BitstringStatusListCredential'], issuer: nodeKey.did, validFrom: '2026-01-01T00:00:00Z', credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: purpose, encodedList: `u${C.b64urlEncode(gz)}` } };
    return JSON.stringify(await C.signDataIntegrity(cred as C.JsonObject, nodeKey, Date.parse('2026-01-01T00:00:00Z')));
  };
  const lists: Record<string, string> = {
    'https://node.example/status/1/revocation': await signedList('revocation', [4241, 4243]),
    'https://node.example/status/1/suspension': await signedList('suspension', []),
  };
  const fetched: string[] = [];
  let down = false;
  const cache = new C.StatusListCache(async (url) => {
    fetched.push(url);
    if (down) throw new Error('connection refused');
    return lists[url];
  }, { ttlMs: 60_000 });
  const grant = await C.verifyGrant(DI, { now: AT });
  assert.deepEqual(await cache.grantStatus(grant, AT), { revoked: false, suspended: false });
  assert.equal(fetched.length, 2);
  for (let s = 1; s < 5; s++) {
    await cache.assertActive(grant, AT + s * 1000);
    assert.deepEqual(await cache.grantStatus(grant, AT + s * 1000), { revoked: false, suspended: false });
  }
  assert.equal(fetched.length, 2);
  // After the TTL: fetched again; a failed fetch is not kept, the next call fetches again.
  lists['https://node.example/status/1/suspension'] = await signedList('suspension', [4242]);
  await assert.rejects(cache.assertActive(grant, AT + 60_000), (e: C.VerificationError) => e.code === 'grant-suspended');
  assert.equal(fetched.length, 4);
  await assert.rejects(cache.assertActive(grant, AT + 61_000), (e: C.VerificationError) => e.code === 'grant-suspended');
  assert.equal(fetched.length, 4);
  down = true;
  await assert.rejects(cache.assertActive(grant, AT + 130_000), (e: C.VerificationError) => e.code === 'STATUS_RETRIEVAL_ERROR');
  down = false;
  lists['https://node.example/status/1/revocation'] = await signedList('revocation', [4242]);
  await assert.rejects(cache.assertActive(grant, AT + 131_000), (e: C.VerificationError) => e.code === 'grant-revoked');
  assert.deepEqual(await cache.grantStatus(grant, AT + 131_000), { revoked: true, suspended: true });
  // A grant whose entry names another list's purpose is refused on the fast path as on the slow one.
  const swapped = { ...grant, revocation: { ...grant.revocation, statusListCredential: grant.suspension.statusListCredential } };
  await assert.rejects(cache.assertActive(swapped, AT + 131_000), (e: C.VerificationError) => e.code === 'STATUS_VERIFICATION_ERROR');
});

test('grant terms: member names that objects inherit (constructor, toString) are unknown members', () => {
  const doc = JSON.parse(read('examples/grant.unsigned.json')) as C.JsonObject;
  const subject = doc.credentialSubject as { enterprise: object; dataPeriod: object };
  Object.assign(subject.enterprise, { constructor: 'x' });
  Object.assign(subject.dataPeriod, { toString: 'y' });
  const messages = C.checkGrantDocument(doc).map((r) => `${r.code}: ${r.message}`);
  assert.ok(messages.includes('malformed-terms: enterprise: unknown member constructor'), messages.join('\n'));
  assert.ok(messages.includes('malformed-terms: dataPeriod: unknown member toString'), messages.join('\n'));
});
