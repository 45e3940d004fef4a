/**
 * `npm run bench [-- N] [--noble]`: per-request cost of what a platform runs offline for each
 * request — verify the grant (proof, VC data model, every rule, window) and check both status bits
 * against cached, verified status lists — in both envelopes, with WebCrypto Ed25519 (and with
 * @noble/ed25519 when `--noble` is given).
 *
 * The inputs are those of every library's benchmark and of the Rust core's (clients/bench.sh):
 * spec/examples/grant.signed.di.json and grant.signed.jwt verified at 2027-01-01T00:00:00Z, a
 * node-signed revocation and suspension list (131,072 entries, none set); N iterations (default
 * 3000) after a warm-up of N/2. Each envelope gets a second row, `<envelope>/cached`: the grant
 * from a `VerifiedGrantCache` (a hit: fingerprint, text comparison, time checks) instead of
 * verified again, plus the same status check. A last line, `bare ed25519 verify`, is the runtime's
 * own Ed25519 verification alone: the floor under the uncached rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as C from '../src/index.js';
import { SPEC } from '../test/paths.js';

const read = (p: string) => fs.readFileSync(path.join(SPEC, p), 'utf8');
const AT = Date.parse('2027-01-01T00:00:00Z');

async function main() {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^[0-9]+$/.test(a)) ?? 3000);
  const withNoble = args.includes('--noble');
  // A status list pair signed by a "node" key, with the grant's slot (index 4242) not set.
  const nodeKey = C.KeyPair.generate();
  const bits = new Uint8Array(16384);
  const gz = new Uint8Array(await new Response(new Blob([bits]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
  const lists: Record<string, string> = {};
  for (const p of ['revocation', 'suspension']) {
    const url = `https://node.example/status/1/${p}`;
    const cred = { '@context': ['https://www.w3.org/ns/credentials/v2'], id: url, type: ['VerifiableCredential', 'BitstringStatusListCredential'], issuer: nodeKey.did, validFrom: '2026-01-01T00:00:00Z', credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: p, encodedList: `u${C.b64urlEncode(gz)}` } };
    lists[url] = JSON.stringify(await C.signDataIntegrity(cred as C.JsonObject, nodeKey, Date.parse('2026-01-01T00:00:00Z')));
  }
  const cache = new C.StatusListCache(async (u) => lists[u], { ttlMs: 3_600_000 });
  const grants = {
    'data-integrity': read('examples/grant.signed.di.json'),
    'vc-jwt': read('examples/grant.signed.jwt'),
  };
  console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cpu(s): ${(await import('node:os')).cpus()[0]?.model}`);
  for (const noble of withNoble ? [false, true] : [false]) {
    C.useNobleEd25519(noble);
    for (const [env, text] of Object.entries(grants)) {
      const once = async () => {
        const g = await C.verifyGrant(text, { now: AT });
        await cache.assertActive(g, AT);
      };
      for (let i = 0; i < n / 2; i++) await once();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await once();
      const us = ((performance.now() - t0) * 1000) / n;
      console.log(`grant verify + status check  ${env.padEnd(15)} ${noble ? '@noble/ed25519' : 'WebCrypto     '}  ${us.toFixed(1)} µs/op`);
      // The same per request with the grant from a VerifiedGrantCache (a hit after the first call).
      const grants = new C.VerifiedGrantCache();
      const cached = async () => {
        const g = await grants.verify(text, { now: AT });
        await cache.assertActive(g, AT);
      };
      for (let i = 0; i < n / 2; i++) await cached();
      const t1 = performance.now();
      for (let i = 0; i < n; i++) await cached();
      const usCached = ((performance.now() - t1) * 1000) / n;
      console.log(`grant cache.verify + status check  ${`${env}/cached`.padEnd(15)} ${noble ? '@noble/ed25519' : 'WebCrypto     '}  ${usCached.toFixed(1)} µs/op`);
    }
  }
  C.useNobleEd25519(false);
  // The floor under the uncached rows: the runtime's own Ed25519 verification alone, as the library
  // calls it (node:crypto.verify with a cached KeyObject), on a 2,700-byte message (a VC-JWT's
  // signing input is ~2.6 KB; a Data Integrity proof signs 64 bytes, which costs the same to within
  // a SHA-512 block or two). The line has no "WebCrypto" in it: clients/bench.sh passes it on to stderr.
  const nodeCrypto = await import('node:crypto');
  const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync('ed25519');
  const msg = nodeCrypto.randomBytes(2700);
  const sig = nodeCrypto.sign(null, msg, privateKey);
  let ok = true;
  for (let i = 0; i < n / 2; i++) if (!nodeCrypto.verify(null, msg, publicKey, sig)) ok = false;
  const t2 = performance.now();
  for (let i = 0; i < n; i++) if (!nodeCrypto.verify(null, msg, publicKey, sig)) ok = false;
  const usBare = ((performance.now() - t2) * 1000) / n;
  if (!ok) throw new Error('the bare Ed25519 verification failed');
  console.log(`bare ed25519 verify (node:crypto, 2.7 KB message)  ${usBare.toFixed(1)} µs/op`);
}
await main();
