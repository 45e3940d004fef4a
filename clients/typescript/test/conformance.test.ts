import test from 'node:test';
import assert from 'node:assert/strict';
import { runConformance } from './conformance.js';

test('conformance: every case of spec/vectors/conformance.json', async () => {
  const { passed, counts, failures } = await runConformance();
  const kinds = Object.keys(counts).sort();
  let total = 0;
  for (const k of kinds) {
    total += passed[k] ?? 0;
    console.log(`conformance ${k.padEnd(22)} ${String(passed[k] ?? 0).padStart(4)} / ${counts[k]}`);
  }
  console.log(`conformance total ${total} / ${Object.values(counts).reduce((a, b) => a + b, 0)}`);
  assert.deepEqual(failures, []);
  for (const k of kinds) assert.equal(passed[k], counts[k], k);
});
