/**
 * VerifiedGrantCache: a hit is what verifyGrant returns; time is checked on every call; failures are
 * not cached; the capacity holds; whitespace variants share an entry as verifyGrant treats them.
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
const JWT = read('examples/grant.signed.jwt');
const ENT_KEY = () => C.KeyPair.fromJson(read('examples/enterprise.key.json'));
const unsigned = () => JSON.parse(read('examples/grant.unsigned.json')) as C.JsonObject;

/** Both promises reject with a VerificationError with the same code, message and reasons; returns the cached one's. */
async function sameError(cached: Promise<unknown>, uncached: Promise<unknown>): Promise<C.VerificationError> {
  const catchIt = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
  const [got, want] = [await catchIt(cached), await catchIt(uncached)];
  assert.ok(got instanceof C.VerificationError, String(got));
  assert.ok(want instanceof C.VerificationError, String(want));
  assert.equal(got.code, want.code);
  assert.equal(got.message, want.message);
  assert.deepEqual(got.reasons, want.reasons);
  return got;
}

for (const [name, text] of [['data-integrity', DI], ['vc-jwt', JWT]] as const) {
  test(`grant cache (${name}): a hit is the uncached grant`, async () => {
    const cache = new C.VerifiedGrantCache();
    const first = await cache.verify(text, { now: AT });
    assert.deepEqual([cache.misses, cache.hits, cache.size], [1, 0, 1]);
    const again = await cache.verify(new TextEncoder().encode(text), { now: AT + 30 * 86_400_000 });
    assert.deepEqual([cache.misses, cache.hits], [1, 1]);
    assert.equal(again, first);
    assert.deepEqual(again, await C.verifyGrant(text, { now: AT }));
  });

  test(`grant cache (${name}): the window and the proof's times are checked on every hit`, async () => {
    const cache = new C.VerifiedGrantCache();
    const g = await cache.verify(text, { now: AT });
    for (const [now, code] of [
      [g.validUntil + 1000, 'expired'],
      [Date.parse('2030-01-01T00:00:00Z'), 'expired'],
      [g.validFrom - 1000, 'not-yet-valid'],
      // Before the proof's created (2026-11-30T08:00Z) less the skew: the proof's own error.
      [Date.parse('2026-11-30T07:54:59Z'), name === 'data-integrity' ? 'proof-created-in-future' : 'jwt-issued-in-future'],
    ] as const) {
      const e = await sameError(cache.verify(text, { now }), C.verifyGrant(text, { now }));
      assert.equal(e.code, code);
    }
    assert.equal(await cache.verify(text, { now: g.validUntil }), g);
    assert.equal(await cache.verify(text, { now: g.validFrom }), g);
    assert.equal(cache.size, 1);
  });
}

test('grant cache: a proof that ends before validUntil (JWT exp, Data Integrity expires) is refused on a hit', async () => {
  const key = ENT_KEY();
  const jwt = await C.signVcJwt({ ...unsigned(), exp: Date.parse('2027-02-01T00:00:00Z') / 1000 }, key, Date.parse('2026-11-30T08:00:00Z'));
  // A Data Integrity proof with expires: sign the options by hand (signDataIntegrity writes none).
  const doc = unsigned();
  const options: C.JsonObject = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', created: '2026-11-30T08:00:00Z', expires: '2027-03-01T00:00:00Z', verificationMethod: key.verificationMethod, proofPurpose: 'assertionMethod', '@context': doc['@context'] };
  const hashData = C.concat(C.sha256(C.canonicalize(options)), C.sha256(C.canonicalize(doc)));
  const di = JSON.stringify({ ...doc, proof: { ...options, proofValue: `z${C.b58Encode(await key.sign(hashData))}` } });
  const cache = new C.VerifiedGrantCache();
  for (const [text, late, code] of [
    [jwt, Date.parse('2027-02-01T00:05:00Z'), 'jwt-expired'],
    [di, Date.parse('2027-03-01T00:00:00Z'), 'proof-expired'],
  ] as const) {
    const g = await cache.verify(text, { now: AT });
    assert.ok(late < g.validUntil);
    const e = await sameError(cache.verify(text, { now: late }), C.verifyGrant(text, { now: late }));
    assert.equal(e.code, code);
    assert.equal(await cache.verify(text, { now: late - 1 }), g);
  }
  assert.equal(cache.misses, 4);
});

test('grant cache: one byte changed is verified afresh and fails', async () => {
  const cache = new C.VerifiedGrantCache();
  await cache.verify(DI, { now: AT });
  const i = DI.indexOf('credit-approval');
  const changed = `${DI.slice(0, i)}C${DI.slice(i + 1)}`;
  const e = await sameError(cache.verify(changed, { now: AT }), C.verifyGrant(changed, { now: AT }));
  assert.equal(e.code, 'bad-signature');
  assert.deepEqual([cache.misses, cache.size], [2, 1]);
  const [h, p, s] = JWT.trim().split('.');
  const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
  await sameError(cache.verify(flipped, { now: AT }), C.verifyGrant(flipped, { now: AT }));
  assert.deepEqual([cache.misses, cache.size], [3, 1]);
});

test('grant cache: failures are not cached', async () => {
  const cache = new C.VerifiedGrantCache();
  const bad = read('examples/grant.invalid.bank-raw.di.json');
  for (let i = 0; i < 3; i++) {
    const e = await sameError(cache.verify(bad, { now: AT }), C.verifyGrant(bad, { now: AT }));
    assert.equal(e.code, 'bank-raw-non-public');
  }
  assert.deepEqual([cache.misses, cache.hits, cache.size], [3, 0, 0]);
  const late = Date.parse('2028-01-01T00:00:00Z');
  await sameError(cache.verify(DI, { now: late }), C.verifyGrant(DI, { now: late }));
  assert.equal(cache.size, 0);
});

test('grant cache: at capacity it starts afresh', async () => {
  assert.throws(() => new C.VerifiedGrantCache({ capacity: 0 }), RangeError);
  const third = await C.signVcJwt(unsigned(), ENT_KEY(), Date.parse('2026-11-30T09:00:00Z'));
  const cache = new C.VerifiedGrantCache({ capacity: 2 });
  await cache.verify(DI, { now: AT });
  await cache.verify(JWT, { now: AT });
  await cache.verify(DI, { now: AT });
  assert.deepEqual([cache.size, cache.misses], [2, 2]);
  await cache.verify(third, { now: AT });
  assert.equal(cache.size, 1);
  await cache.verify(third, { now: AT });
  assert.equal(cache.misses, 3);
  await cache.verify(DI, { now: AT });
  assert.deepEqual([cache.size, cache.misses], [2, 4]);
});

test('grant cache: whitespace variants share an entry iff verifyGrant treats them alike', async () => {
  const cache = new C.VerifiedGrantCache();
  for (const text of [DI, JWT]) {
    const base = await C.verifyGrant(text, { now: AT });
    for (const v of [text.trim(), ` \t\r\n${text}\n\n`, `${text}\f`, new TextEncoder().encode(`\f${text} `)]) {
      assert.deepEqual(await C.verifyGrant(v, { now: AT }), base);
      assert.deepEqual(await cache.verify(v, { now: AT }), base);
    }
  }
  assert.deepEqual([cache.size, cache.misses], [2, 2]);
  for (const text of [DI, JWT]) {
    // No-break space and a vertical tab are not trimmed: refused, and not cached.
    for (const v of [`\u00a0${text}`, `${text.trim()}\u000b`]) await sameError(cache.verify(v, { now: AT }), C.verifyGrant(v, { now: AT }));
  }
  assert.deepEqual([cache.size, cache.misses], [2, 6]);
});

test('grant cache: text with a lone surrogate never reaches the entry of the grant it would digest as', async () => {
  // A grant whose name holds U+FFFD, signed; the same text with a lone surrogate in its place has
  // the same UTF-8 digest (TextEncoder replaces it with U+FFFD) but does not verify.
  const doc = unsigned();
  (doc.credentialSubject as { enterprise: { name: string } }).enterprise.name = '杭州示例\ufffd科技有限公司';
  const signed = JSON.stringify(await C.signDataIntegrity(doc, ENT_KEY(), Date.parse('2026-11-30T08:00:00Z')));
  const lone = signed.replace('\ufffd', '\ud800');
  assert.equal(C.hexEncode(C.sha256(lone)), C.hexEncode(C.sha256(signed)));
  const cache = new C.VerifiedGrantCache();
  await cache.verify(signed, { now: AT });
  await sameError(cache.verify(lone, { now: AT }), C.verifyGrant(lone, { now: AT }));
  assert.equal(cache.hits, 0);
});

test('grant cache: the catalog is bound at construction', async () => {
  const data = C.Catalog.builtin().data;
  const narrow = new C.Catalog({ ...data, purposes: data.purposes.filter((p) => p !== 'credit-approval') });
  const wide = new C.VerifiedGrantCache();
  const strict = new C.VerifiedGrantCache({ catalog: narrow });
  assert.equal(strict.catalog, narrow);
  await wide.verify(DI, { now: AT });
  const e = await sameError(strict.verify(DI, { now: AT }), C.verifyGrant(DI, { now: AT, catalog: narrow }));
  assert.equal(e.code, 'unknown-purpose');
  assert.deepEqual([wide.size, strict.size], [1, 0]);
});

test('bytes that are not strict UTF-8, or that start with a byte-order mark, are refused (as the Rust core refuses them)', async () => {
  const good = new TextEncoder().encode(fs.readFileSync(path.join(SPEC, 'examples/grant.signed.di.json'), 'utf8'));
  const bad = new Uint8Array([...good.slice(0, 40), 0xff, ...good.slice(40)]);
  await assert.rejects(C.verifyGrant(bad, { now: AT }), (e: unknown) => e instanceof C.VerificationError && e.reasons[0]?.code === 'malformed-json');
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...good]);
  await assert.rejects(C.verifyGrant(bom, { now: AT }), (e: unknown) => e instanceof C.VerificationError);
  const g = await C.verifyGrant(good, { now: AT });
  assert.ok(g.id);
});
