import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as C from '../src/index.js';
import { SPEC } from './paths.js';

const read = (p: string) => fs.readFileSync(path.join(SPEC, p), 'utf8');
const AT = Date.parse('2027-01-01T00:00:00Z');
const ENT_KEY = () => C.KeyPair.fromJson(read('examples/enterprise.key.json'));

test('key file: load, DID, round trip, secret hidden', () => {
  const k = ENT_KEY();
  assert.equal(k.did, 'did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu');
  assert.deepEqual(k.toJson(), JSON.parse(read('examples/enterprise.key.json')));
  assert.ok(!JSON.stringify(k).includes('secretKeyMultibase'));
  const bad = { ...k.toJson(), did: C.KeyPair.generate().did };
  assert.throws(() => C.KeyPair.fromJson(bad), /does not match/);
});

test('did:key refuses the identity point and versioned forms', () => {
  assert.throws(() => C.DidKey.parse('did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj'), (e: C.VerificationError) => e.code === 'invalidPublicKey');
  assert.throws(() => C.DidKey.parse('did:key:1:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu'), (e: C.VerificationError) => e.code === 'invalidDid');
  assert.equal(C.DidKey.fromPublicKey(C.hexDecode('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')).did, 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw');
});

test('strict JSON: duplicates, unsafe integers, canonical big integers', () => {
  assert.throws(() => C.parseStrict('{"a":1,"a":2}'), /duplicate/);
  assert.throws(() => C.parseStrict('{"a":1,"\\u0061":2}'), /duplicate/);
  assert.throws(() => C.parseStrict('9007199254740993'), /9007199254740992/);
  assert.equal(C.canonicalize(C.parseStrict('1000000000000000000000')), '1e+21');
  assert.equal(C.canonicalize(C.parseStrict('-8970681694652454000')), '-8970681694652454000');
  assert.throws(() => C.parseStrict('"\\ud800"'), /surrogate/);
  assert.throws(() => C.parseStrict('1e400'), /out of range/);
});

test('strict JSON objects: __proto__ is a member, members stay plain; JCS strings escape as JSON.stringify', () => {
  const o = C.parseStrict('{"__proto__":{"x":1},"b":2,"constructor":3,"toString":4}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  assert.deepEqual(Object.keys(o), ['__proto__', 'b', 'constructor', 'toString']);
  assert.equal((o as { x?: number }).x, undefined);
  assert.equal(C.canonicalize(o), '{"__proto__":{"x":1},"b":2,"constructor":3,"toString":4}');
  assert.throws(() => C.parseStrict('{"__proto__":1,"__proto__":2}'), /duplicate/);
  assert.throws(() => C.parseStrict('{"toString":1,"toString":2}'), /duplicate/);
  // Strings needing escapes, non-ASCII, a surrogate pair, a lone surrogate.
  assert.equal(C.canonicalize({ s: 'a"b\\c\n\u0001é€😀' }), '{"s":"a\\"b\\\\c\\n\\u0001é€😀"}');
  assert.equal(C.canonicalize(['plain', '']), '["plain",""]');
  assert.throws(() => C.canonicalize({ s: '\ud800' }), /lone surrogate/);
  assert.throws(() => C.canonicalize({ ['\udc00']: 1 }), /lone surrogate/);
  assert.equal(C.canonicalize({ b: 1, a: undefined, c: [true, null, -0, 1e21] }), '{"b":1,"c":[true,null,0,1e+21]}');
});

test('base64url is canonical only', () => {
  assert.deepEqual(C.b64urlDecode('AQ'), Uint8Array.of(1));
  assert.throws(() => C.b64urlDecode('AR'), /non-canonical/);
  assert.throws(() => C.b64urlDecode('AQ=='), /invalid base64/);
});

test('Ed25519: WebCrypto and noble paths agree on strictness', async () => {
  const k = C.KeyPair.generate();
  const msg = C.utf8('hello');
  const sig = await k.sign(msg);
  for (const noble of [false, true]) {
    C.useNobleEd25519(noble);
    assert.equal(await C.ed25519Verify(k.publicKey, msg, sig), true);
    const sPlusL = Uint8Array.from(sig);
    // S + L (little-endian addition of L).
    const L = C.hexDecode('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
    let carry = 0;
    for (let i = 0; i < 32; i++) {
      const v = sPlusL[32 + i] + L[i] + carry;
      sPlusL[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    assert.equal(await C.ed25519Verify(k.publicKey, msg, sPlusL), false);
    const identity = C.hexDecode('0100000000000000000000000000000000000000000000000000000000000000');
    const forged = new Uint8Array(64);
    forged.set(identity, 0);
    assert.equal(await C.ed25519Verify(identity, msg, forged), false);
  }
  C.useNobleEd25519(false);
});

test('grant: the examples verify, and refused ones carry their code', async () => {
  const di = await C.verifyGrant(read('examples/grant.signed.di.json'), { now: AT });
  assert.equal(di.sha256, '7483d93974270de884f677c89a5da6c99d9ed50949da8814672a7a59d744ba2c');
  assert.equal(di.enterprise, '91330100716105852F');
  const jwt = await C.verifyGrant(read('examples/grant.signed.jwt'), { now: AT });
  assert.equal(jwt.envelope, 'vc-jwt');
  await assert.rejects(C.verifyGrant(read('examples/grant.invalid.bank-raw.di.json'), { now: AT }), (e: C.VerificationError) => e.code === 'bank-raw-non-public');
  await assert.rejects(C.verifyGrant(read('examples/grant.invalid.tampered.di.json'), { now: AT }), (e: C.VerificationError) => e.code === 'bad-signature');
  await assert.rejects(C.verifyGrant(read('examples/grant.invalid.alg-hs256.jwt'), { now: AT }), (e: C.VerificationError) => e.code === 'jws-algorithm');
  await assert.rejects(C.verifyGrant(read('examples/grant.signed.jwt'), { now: Date.parse('2028-01-01T00:00:00Z') }), (e: C.VerificationError) => e.code === 'expired');
});

test('grant: build + sign reproduces the example byte for byte in both envelopes', async () => {
  const unsigned = C.parseStrict(read('examples/grant.unsigned.json')) as C.JsonObject;
  const k = ENT_KEY();
  const di = await C.signDataIntegrity(unsigned, k, Date.parse('2026-11-30T08:00:00Z'));
  assert.equal(JSON.stringify(di, null, 2), read('examples/grant.signed.di.json').trim());
  const jwt = await C.signVcJwt(unsigned, k, Date.parse('2026-11-30T08:00:00Z'));
  const want = read('examples/grant.signed.jwt').trim();
  // The same claims (the Rust signer's payload keeps member order instead of JCS: see README).
  const claims = (t: string) => C.canonicalize(C.parseStrict(C.b64urlDecode(t.split('.')[1])));
  assert.equal(claims(jwt), claims(want));
  await C.verifyGrant(jwt, { now: AT });
  const t = unsigned.credentialSubject as unknown as C.GrantTerms;
  const built = C.buildGrant({
    id: unsigned.id as string,
    issuer: k,
    terms: { ...t },
    validFrom: Date.parse('2026-12-01T00:00:00Z'),
    validUntil: Date.parse('2027-12-01T00:00:00Z'),
    status: { statusList: 'https://node.example/status/1', statusIndex: 4242 },
  });
  assert.equal(C.canonicalize(built), C.canonicalize(unsigned));
});

test('grant rules: every violation is reported at once', () => {
  const unsigned = C.parseStrict(read('examples/grant.unsigned.json')) as C.JsonObject;
  const t = JSON.parse(JSON.stringify(unsigned.credentialSubject));
  t.enterprise.uscc = '91330100716105852G';
  t.purposes.push('gambling');
  t.letters = [];
  t.onwardRecipients[0].categories[0].granularity = 'raw';
  const codes = C.checkGrantDocument({ ...unsigned, credentialSubject: t }).map((r) => r.code);
  for (const c of ['invalid-uscc', 'unknown-purpose', 'missing-letter', 'bank-raw-non-public']) assert.ok(codes.includes(c), `${c} in ${codes}`);
  assert.equal(C.usccProblem('91330100716105852F'), null);
  assert.equal(C.usccProblem('91330000MA28PLAT2L'), null);
});

test('status list: signed list, revoked and active entries, TTL cache', async () => {
  const listText = read('vectors/derived/bsl.status-list-credential.signed.json');
  let fetches = 0;
  const cache = new C.StatusListCache(async () => {
    fetches++;
    return listText;
  }, { ttlMs: 60_000 });
  const list = await cache.get('https://status.example/credentials/status/1', Date.parse('2025-06-01T00:00:00Z'));
  await cache.get('https://status.example/credentials/status/1', Date.parse('2025-06-01T00:00:30Z'));
  assert.equal(fetches, 1);
  const revoked = await C.verifyCredential(read('vectors/derived/bsl.credential-revoked-idx7.signed.json'), Date.parse('2025-06-01T00:00:00Z'));
  assert.equal(C.checkCredentialStatus(revoked.document, list), 1);
  const active = await C.verifyCredential(read('vectors/derived/bsl.credential-active-idx6.signed.json'), Date.parse('2025-06-01T00:00:00Z'));
  assert.equal(C.checkCredentialStatus(active.document, list), 0);
  const tampered = listText.replace('"revocation"', '"suspension"');
  await assert.rejects(C.verifyStatusListCredential(tampered, { now: Date.parse('2025-06-01T00:00:00Z') }), (e: C.VerificationError) => e.code === 'bad-signature');
});

test('webhook: the worked example of spec/notifications.md §6.1 verifies; changes fail', async () => {
  const body = '{"id":"urn:uuid:7d3f5b1e-2c4a-4e8f-9b6d-0a1c2e3f4a5b","type":"objection.updated","createdAt":"2025-09-28T07:00:00Z","recipient":"91440300708461136T","data":{"objection":"obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b","state":"forwarded","at":"2025-09-28T15:00:00.000+08:00","logIndex":42,"message":"异议 obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b 已转至节点。Objection obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b reached the node."}}';
  const did = 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Digest': 'sha-256=:4Ld6d0cRYjWMbvrECYYOMtq49I2Metwr9I4JzGqEzSc=:',
    'Consentry-Event-Id': 'urn:uuid:7d3f5b1e-2c4a-4e8f-9b6d-0a1c2e3f4a5b',
    'Consentry-Event-Type': 'objection.updated',
    'Consentry-Sequence': '7',
    'Signature-Input': `consentry=("@method" "@target-uri" "content-type" "content-digest" "consentry-event-id" "consentry-event-type" "consentry-sequence");created=1759042800;expires=1759043100;nonce="5f0e8a3c9b1d4e7f2a6c0b9d8e7f6a5b";keyid="${did}#${did.slice(8)}";alg="ed25519";tag="consentry-webhook"`,
    Signature: 'consentry=:oouTJGtiDYOXNDmH3Vf0j8Io3EkY8O2tyMRYYZOz8Mkzc5pdJBsMGxBuqyhcypvmIYH/p8J/qZEm7f1fcxuuBA==:',
  };
  const policy = { nodeDid: did, targetUri: 'https://hooks.example.com/consentry?tenant=a', now: 1759042810_000 };
  const ok = await C.verifyWebhook({ method: 'POST', headers, body }, policy);
  assert.equal(ok.sequence, 7);
  await assert.rejects(C.verifyWebhook({ method: 'POST', headers, body: body.replace('forwarded', 'resolved') }, policy), (e: C.VerificationError) => e.code === 'webhook-digest');
  await assert.rejects(C.verifyWebhook({ method: 'POST', headers, body }, { ...policy, targetUri: 'https://hooks.example.com/consentry?tenant=b' }), (e: C.VerificationError) => e.code === 'webhook-signature');
  await assert.rejects(C.verifyWebhook({ method: 'POST', headers: { ...headers, 'Consentry-Sequence': '8' }, body }, policy), (e: C.VerificationError) => e.code === 'webhook-signature');
  await assert.rejects(C.verifyWebhook({ method: 'POST', headers, body }, { ...policy, now: 1759043500_000 }), /older than 300|expired/);
});

test('checkpoints and receipts: a signed note, witness quorum, truncated proofs, wrong key', async () => {
  const log = C.KeyPair.generate();
  const wit = C.KeyPair.generate();
  const origin = 'example.test/consentry/access-log';
  const leaves = [0, 1, 2, 3, 4].map((i) => C.utf8(`leaf ${i}`));
  const root = C.merkleRoot(leaves);
  const text = `${origin}\n5\n${C.b64Encode(root)}\n`;
  const logKey = C.logKeyFromDid(origin, log.did);
  const sig = await log.sign(C.utf8(text));
  const wk = C.witnessKey('witness.test', wit.publicKey);
  const t = 1_800_000_000n;
  const tb = new Uint8Array(8);
  new DataView(tb.buffer).setBigUint64(0, t);
  const cos = await wit.sign(C.concat(C.utf8(`cosignature/v1\ntime ${t}\n`), C.utf8(text)));
  const note = `${text}\n— ${origin} ${C.b64Encode(C.concat(logKey.keyId, sig))}\n— witness.test ${C.b64Encode(C.concat(wk.keyId, tb, cos))}\n`;
  const cp = await C.verifyCheckpoint(note, { logKey: C.formatVkey(logKey), witnesses: [C.formatVkey(wk)], quorum: 1 });
  assert.deepEqual(cp.witnesses, ['witness.test']);
  await assert.rejects(C.verifyCheckpoint(note, { logKey: C.logKeyFromDid(origin, C.KeyPair.generate().did) }), (e: C.VerificationError) => e.code === 'checkpoint-signature');
  await assert.rejects(C.verifyCheckpoint(note, { logKey, witnesses: [wk, C.witnessKey('other', C.KeyPair.generate().publicKey)], quorum: 2 }), (e: C.VerificationError) => e.code === 'checkpoint-quorum');
  // Inclusion of leaf 2 of 5: sibling 3, then node(0..2), then leaf 4.
  const lh = leaves.map(C.leafHash);
  const n = (a: Uint8Array, b: Uint8Array) => C.sha256(C.concat(Uint8Array.of(1), a, b));
  const proof = [lh[3], n(lh[0], lh[1]), lh[4]];
  const receipt = `c2sp.org/tlog-proof@v1\nindex 2\n${proof.map(C.b64Encode).join('\n')}\n\n${note}`;
  const r = await C.verifyReceipt(receipt, lh[2], { logKey });
  assert.equal(r.checkpoint.size, 5);
  const truncated = `c2sp.org/tlog-proof@v1\nindex 2\n${proof.slice(0, 2).map(C.b64Encode).join('\n')}\n\n${note}`;
  await assert.rejects(C.verifyReceipt(truncated, lh[2], { logKey }), (e: C.VerificationError) => e.code === 'receipt-inclusion');
  await assert.rejects(C.verifyReceipt(receipt, lh[1], { logKey }), (e: C.VerificationError) => e.code === 'receipt-inclusion');
});
