/**
 * The live scenario against a real node and platform (clients/testbed.sh). Runs when
 * CONSENTRY_TESTBED names a testbed.json (test.sh starts one when CONSENTRY_BIN is set).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as C from '../src/index.js';

const file = process.env.CONSENTRY_TESTBED;
const ENT = '91330100716105852F';
const BANK = '91330300MA2GHJK66N';

test('live: register, grant, release, receipt, revoke, refusal', { skip: !file && 'CONSENTRY_TESTBED not set' }, async () => {
  const tb = JSON.parse(fs.readFileSync(file as string, 'utf8'));
  const operator = await C.KeyPair.load(tb.node.keyFile);
  const platformKey = await C.KeyPair.load(tb.platform.keyFile);
  const node = new C.NodeClient(tb.node.url);
  const platform = new C.PlatformClient(tb.platform.url, { key: platformKey });
  const info = await node.getNode();
  assert.equal(await node.serverDid(), tb.node.did);

  // The platform registers a bank.
  const bank = C.KeyPair.generate();
  const b = await platform.registerBank({ uscc: BANK, name: '示例商业银行', did: bank.did });
  assert.equal(b.state, 'active');

  // The enterprise registers with a new key; the operator approves.
  const ent = C.KeyPair.generate();
  assert.equal((await node.submitRegistration(ent, { uscc: ENT, name: '杭州示例科技有限公司' })).state, 'pending');
  const approved = await node.withKey(operator).approveRegistration(ENT);
  assert.ok(approved.identityCredential);

  // Slot, grant (Data Integrity), submission.
  const asEnt = node.withKey(ent);
  const slot = await asEnt.allocateStatusSlot();
  const now = Date.now();
  const grant = C.buildGrant({
    issuer: ent,
    terms: {
      enterprise: { uscc: ENT, name: '杭州示例科技有限公司' },
      grantee: { uscc: tb.platform.uscc, name: '示例融资信用服务平台', role: 'platform' },
      onwardRecipients: [{ uscc: BANK, name: '示例商业银行', role: 'bank', categories: [{ code: 'TAX-03', granularity: 'derived' }] }],
      categories: [{ code: 'TAX-03', granularity: 'derived' }, { code: 'SOC-01', granularity: 'derived' }],
      purposes: ['credit-approval'],
      dataPeriod: { from: '2025-01-01', until: `${new Date().getUTCFullYear()}-12-31` },
      usage: { mode: 'periodic', maxReleases: 4, per: 'month' },
    },
    validFrom: now - 60_000,
    validUntil: now + 180 * 86_400_000,
    status: slot,
  });
  const signed = await C.signGrant(grant, ent);
  const verified = await C.verifyGrant(signed);
  const stored = await C.NodeClient.prototype.submitGrant.call(node, signed);
  assert.equal(stored.id, grant.id);
  assert.equal(stored.sha256, verified.sha256);

  // Offline status check of the new grant against the node's signed lists: active.
  const lists = new C.StatusListCache(undefined, { ttlMs: 0, expectedIssuer: info.did as string });
  assert.deepEqual(await lists.grantStatus(verified), { revoked: false, suspended: false });

  // The bank asks its platform for a release; it verifies what it gets.
  const asBank = platform.withKey(bank);
  const ask = { enterprise: ENT, grant: grant.id as string, categories: ['TAX-03'], purpose: 'credit-approval' };
  const rel = await asBank.release(ask);
  assert.ok(rel.data.TAX_03 !== undefined || rel.data['TAX-03'] !== undefined);
  const pinfo = await platform.getPlatform();
  await C.verifyInclusionPromise(rel.receipt as unknown as C.InclusionPromise, pinfo.did as string);
  const upstream = rel.upstream as C.JsonObject;
  const logKey = C.logKeyFromDid(info.logOrigin as string, tb.node.did);
  await C.verifyInclusionPromise(upstream.receipt as unknown as C.InclusionPromise, logKey);
  const leaf = C.hexDecode(upstream.leafHash as string);
  const receipt = await node.getReceipt(upstream.index as number);
  const r = await C.verifyReceipt(receipt, leaf, { logKey: C.formatVkey(logKey), index: upstream.index as number });
  assert.ok(r.checkpoint.size > (upstream.index as number));
  // The same inclusion, checked against a checkpoint fetched separately, with a proof from the API.
  const cp = await C.verifyCheckpoint(await node.getCheckpoint(), { logKey });
  const ip = await node.getInclusionProof(upstream.index as number, cp.size);
  C.verifyInclusion(leaf, ip.index, cp.size, C.hexHashes(ip.proof), cp.root);

  // Bad input from the server side is an exception, never a silent success.
  const lines = receipt.split('\n');
  const truncated = [...lines.slice(0, 2), ...lines.slice(3)].join('\n');
  if (lines[2] !== '') await assert.rejects(C.verifyReceipt(truncated, leaf, { logKey }), (e: C.VerificationError) => e.code === 'receipt-inclusion');
  const wrongKey = C.logKeyFromDid(info.logOrigin as string, C.KeyPair.generate().did);
  await assert.rejects(C.verifyReceipt(receipt, leaf, { logKey: wrongKey }), (e: C.VerificationError) => e.code === 'checkpoint-signature');
  await assert.rejects(C.verifyInclusionPromise(upstream.receipt as unknown as C.InclusionPromise, wrongKey), (e: C.VerificationError) => e.code === 'promise');

  // Consistency between two checkpoints the caller kept.
  const later = await C.verifyCheckpoint(await node.getCheckpoint(), { logKey });
  const cons = await node.getConsistencyProof(cp.size, later.size);
  C.verifyConsistency(cp.size, later.size, cp.root, later.root, C.hexHashes(cons.proof));

  // The enterprise revokes; the next release is refused with a typed exception and the reason.
  const revoked = await node.revokeGrant(ent, grant.id as string);
  assert.equal(revoked.state, 'revoked');
  await assert.rejects(asBank.release(ask), (e: unknown) => {
    assert.ok(e instanceof C.ProblemError);
    assert.equal(e.status, 403);
    assert.equal(e.problemCode, 'release-refused');
    assert.ok(e.reasonCodes.includes('grant-revoked'), e.reasonCodes.join(','));
    return true;
  });
  assert.deepEqual(await lists.grantStatus(verified), { revoked: true, suspended: false });
  await assert.rejects(lists.assertActive(verified), (e: C.VerificationError) => e.code === 'grant-revoked');

  // Calls without a key, or with an unregistered one, are typed problems too.
  await assert.rejects(node.listGrants(), (e: C.ProblemError) => e.status === 401);
  await assert.rejects(node.withKey(C.KeyPair.generate()).listGrants(), (e: C.ProblemError) => e.status === 401 && e.problemCode === 'unauthenticated');
  const history = await asEnt.listLogEntries({ limit: 50 });
  assert.ok(Array.isArray(history.entries) && history.entries.length > 0);
});
