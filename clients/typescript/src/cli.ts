#!/usr/bin/env node
/**
 * A small command line over the library (Node only), for scripts and the cross-language checks
 * (clients/cross.sh). Built to `dist/cli.js` (package `bin`: `consentry-client`):
 *
 *   node dist/cli.js sign-grant --key KEYFILE --envelope di|jwt [--at RFC3339] UNSIGNED.json
 *   node dist/cli.js verify-grant FILE [--at RFC3339]
 *   node dist/cli.js verify-receipt BUNDLE.json
 *
 * `sign-grant` prints the signed grant (Data Integrity as JCS, or the compact VC-JWT).
 * The verify commands exit 0 when valid, 1 with the reasons on stderr when not, 2 on a usage
 * error. The receipt bundle: `{"receipt": <c2sp.org/tlog-proof@v1 text>, "leafHash": <hex>,
 * "logKey": <vkey>, "index"?: n, "promise"?: <the release answer's inclusion promise>}`.
 */
import fs from 'node:fs';
import { ConsentryError, VerificationError } from './errors.js';
import { KeyPair } from './did.js';
import { canonicalize, isObject, parseStrict, type JsonObject } from './json.js';
import { parseDateTimeStamp } from './datetime.js';
import { signGrant, verifyGrant } from './grant.js';
import { parseVkey, verifyInclusionPromise, verifyReceipt, type InclusionPromise } from './log.js';
import { b64Decode, bytesEqual, hexDecode } from './encoding.js';

const USAGE = `usage: consentry-client sign-grant --key KEYFILE --envelope di|jwt [--at RFC3339] UNSIGNED.json
       consentry-client verify-grant FILE [--at RFC3339]
       consentry-client verify-receipt BUNDLE.json`;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`${msg}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

/** Splits `--flag value` options from positional arguments. */
function options(args: string[], known: string[]): { opts: Record<string, string>; rest: string[] } {
  const opts: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2);
      if (!known.includes(name)) usage(`unknown option --${name}`);
      const v = inline ?? args[++i];
      if (v === undefined) usage(`--${name} needs a value`);
      opts[name] = v;
    } else rest.push(a);
  }
  if (rest.length !== 1) usage('expected one FILE');
  return { opts, rest };
}

const read = (p: string) => fs.readFileSync(p === '-' ? 0 : p, 'utf8');
const at = (v: string | undefined) => (v === undefined ? undefined : parseDateTimeStamp(v, 'usage', '--at'));

function reasonsOf(e: unknown): string[] {
  if (e instanceof VerificationError) return e.reasons.map((r) => `${r.code}: ${r.message}`);
  if (e instanceof ConsentryError) return [e.message];
  throw e;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'sign-grant': {
      const { opts, rest } = options(args, ['key', 'envelope', 'at']);
      if (!opts.key) usage('--key is required');
      const env = opts.envelope ?? 'di';
      if (env !== 'di' && env !== 'jwt') usage('--envelope is di or jwt');
      const key = KeyPair.fromJson(read(opts.key));
      const doc = parseStrict(read(rest[0]));
      if (!isObject(doc)) usage('the unsigned grant is not a JSON object');
      const signed = await signGrant(doc as JsonObject, key, env === 'di' ? 'data-integrity' : 'vc-jwt', at(opts.at) ?? Date.now());
      process.stdout.write(`${env === 'di' ? canonicalize(parseStrict(signed)) : signed}\n`);
      return 0;
    }
    case 'verify-grant': {
      const { opts, rest } = options(args, ['at']);
      try {
        const g = await verifyGrant(read(rest[0]), { now: at(opts.at) });
        process.stdout.write(`valid grant ${g.id} signed by ${g.signer.did} (${g.envelope}) sha256 ${g.sha256}\n`);
        return 0;
      } catch (e) {
        process.stderr.write(`invalid grant\n${reasonsOf(e).map((r) => `  ${r}\n`).join('')}`);
        return 1;
      }
    }
    case 'verify-receipt': {
      const { rest } = options(args, []);
      try {
        const b = parseStrict(read(rest[0]));
        if (!isObject(b) || typeof b.receipt !== 'string' || typeof b.leafHash !== 'string' || typeof b.logKey !== 'string') {
          throw new VerificationError('bundle', 'the bundle needs receipt, leafHash and logKey strings');
        }
        const logKey = parseVkey(b.logKey);
        const leaf = hexDecode(b.leafHash, 'bundle', 'leafHash');
        const r = await verifyReceipt(b.receipt, leaf, { logKey, index: typeof b.index === 'number' ? b.index : undefined });
        if (b.promise !== undefined) {
          const p = b.promise as unknown as InclusionPromise;
          await verifyInclusionPromise(p, logKey);
          if (p.index !== r.index || !bytesEqual(b64Decode(String(p.leafHash), 'promise', 'leafHash'), leaf)) {
            throw new VerificationError('promise', 'the inclusion promise is for another entry than the receipt');
          }
        }
        process.stdout.write(`valid receipt: entry ${r.index} in ${r.checkpoint.origin} at size ${r.checkpoint.size}\n`);
        return 0;
      } catch (e) {
        process.stderr.write(`invalid receipt\n${reasonsOf(e).map((r) => `  ${r}\n`).join('')}`);
        return 1;
      }
    }
    default:
      usage(cmd ? `unknown command ${cmd}` : undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
