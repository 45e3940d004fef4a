import { fileURLToPath } from 'node:url';
import path from 'node:path';
/** The repository root (tests run from dist-test/test/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const SPEC = path.join(ROOT, 'spec');
