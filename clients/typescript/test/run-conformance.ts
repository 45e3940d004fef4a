/** `npm run conformance`: prints the count passed per kind; exits 1 on any failure. */
import { runConformance } from './conformance.js';

const { passed, counts, failures } = await runConformance();
for (const k of Object.keys(counts).sort()) console.log(`${k.padEnd(22)} ${String(passed[k] ?? 0).padStart(4)} / ${counts[k]}`);
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
