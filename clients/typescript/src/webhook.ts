/**
 * Verifying a signed webhook delivery (spec/notifications.md §6): RFC 9421 HTTP Message Signatures
 * (Ed25519, tag `consentry-webhook`) and RFC 9530 `Content-Digest`, in one call.
 */
import { b64Decode, b64Encode, bytesEqual, utf8 } from './encoding.js';
import { fail } from './errors.js';
import { ed25519Verify, sha256 } from './crypto.js';
import { DidKey } from './did.js';
import { isObject, parseStrict, type JsonObject } from './json.js';

const COMPONENTS = ['@method', '@target-uri', 'content-type', 'content-digest', 'consentry-event-id', 'consentry-event-type', 'consentry-sequence'];

/** A webhook delivery as received. */
export interface WebhookRequest {
  method: string;
  /** Header fields (case-insensitive names); a `Headers` object or a plain record. */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The body bytes exactly as received. */
  body: Uint8Array | string;
}

/** What to check a delivery against. */
export interface WebhookPolicy {
  /** The pinned node DID (`did:key:…`). */
  nodeDid: string;
  /** The URL you registered, in its normalized form (as `GET /v1/webhooks/{id}` shows it). */
  targetUri: string;
  /** Now, ms (default Date.now()). */
  now?: number;
  /** Allowed clock skew, seconds (default 5). */
  skewSeconds?: number;
}

/** A verified delivery: the event envelope and its sequence number. */
export interface VerifiedWebhook {
  event: JsonObject;
  id: string;
  type: string;
  sequence: number;
  created: number;
}

function header(h: WebhookRequest['headers'], name: string): string | undefined {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const rec = h as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  if (Array.isArray(v)) {
    if (v.length !== 1) fail('webhook-signature', `header ${name} appears ${v.length} times`);
    return v[0];
  }
  return v;
}

/** Splits an RFC 8941 dictionary into members (label → raw member text), respecting quotes and parentheses. */
function dictionary(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(text.slice(i));
    if (!m) fail('webhook-signature', 'malformed structured-field dictionary');
    const label = m[0];
    i += label.length;
    if (text[i] !== '=') fail('webhook-signature', 'dictionary member without a value');
    i++;
    const start = i;
    let depth = 0;
    let quoted = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '\\') i++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === ',' && depth === 0) break;
    }
    if (out.has(label)) fail('webhook-signature', `duplicate dictionary member ${label}`);
    out.set(label, text.slice(start, i).trim());
    i++;
  }
  return out;
}

function params(member: string): { components: string[]; inner: string; params: Map<string, string | number> } {
  const m = /^\(([^)]*)\)(.*)$/.exec(member);
  if (!m) fail('webhook-signature', 'Signature-Input member is not an inner list');
  const components = m[1].trim() === '' ? [] : m[1].trim().split(/ +/).map((c) => {
    if (!/^"[^"\\]*"$/.test(c)) fail('webhook-signature', `component ${c} has parameters or is not a string`);
    return c.slice(1, -1);
  });
  const ps = new Map<string, string | number>();
  for (const p of m[2].split(';').slice(1)) {
    const eq = p.indexOf('=');
    const k = eq < 0 ? p : p.slice(0, eq);
    const v = eq < 0 ? '' : p.slice(eq + 1);
    if (ps.has(k)) fail('webhook-signature', `duplicate parameter ${k}`);
    if (/^"([^"\\]|\\.)*"$/.test(v)) ps.set(k, v.slice(1, -1).replace(/\\(.)/g, '$1'));
    else if (/^-?[0-9]{1,15}$/.test(v)) ps.set(k, Number(v));
    else fail('webhook-signature', `parameter ${k} has an unsupported value`);
  }
  return { components, inner: member, params: ps };
}

/**
 * Verifies a webhook delivery: exactly one signature tagged `consentry-webhook`, all seven
 * components, `alg` ed25519, `created`/`expires` fresh, `keyid` the pinned node's key, the
 * Ed25519 signature over the RFC 9421 base, the body's `Content-Digest`, and the event's id and type
 * equal to the headers. Throws `VerificationError` (`webhook-signature`, `webhook-digest`,
 * `webhook-event`) otherwise.
 */
export async function verifyWebhook(req: WebhookRequest, policy: WebhookPolicy): Promise<VerifiedWebhook> {
  const si = header(req.headers, 'signature-input');
  const sg = header(req.headers, 'signature');
  if (!si || !sg) fail('webhook-signature', 'Signature-Input and Signature are required');
  const inputs = dictionary(si);
  const sigs = dictionary(sg);
  const tagged = [...inputs].map(([label, m]) => ({ label, ...params(m) })).filter((x) => x.params.get('tag') === 'consentry-webhook');
  if (tagged.length !== 1) fail('webhook-signature', `expected exactly one signature tagged consentry-webhook, found ${tagged.length}`);
  const { label, components, inner, params: ps } = tagged[0];
  const sigMember = sigs.get(label);
  if (!sigMember || !/^:[A-Za-z0-9+/=]*:$/.test(sigMember)) fail('webhook-signature', `no Signature member ${label}`);
  const sig = b64Decode(sigMember.slice(1, -1), 'webhook-signature', 'signature');
  if (sig.length !== 64) fail('webhook-signature', 'signature is not 64 bytes');
  for (const c of COMPONENTS) if (!components.includes(c)) fail('webhook-signature', `component ${c} is not covered`);
  if (ps.get('alg') !== 'ed25519') fail('webhook-signature', 'alg must be ed25519');
  const now = Math.floor((policy.now ?? Date.now()) / 1000);
  const skew = policy.skewSeconds ?? 5;
  const created = ps.get('created');
  if (typeof created !== 'number') fail('webhook-signature', 'created is required');
  if (created > now + skew) fail('webhook-signature', 'created is in the future');
  if (created < now - 300 - skew) fail('webhook-signature', 'created is older than 300 s');
  const expires = ps.get('expires');
  if (expires !== undefined) {
    if (typeof expires !== 'number' || expires <= created) fail('webhook-signature', 'expires must be after created');
    if (expires + skew < now) fail('webhook-signature', 'the signature has expired');
  }
  const node = DidKey.parse(policy.nodeDid);
  if (ps.get('keyid') !== node.verificationMethod) fail('webhook-signature', `keyid ${String(ps.get('keyid'))} is not the pinned node's ${node.verificationMethod}`);
  const lines: string[] = [];
  for (const c of components) {
    let v: string | undefined;
    if (c === '@method') v = req.method.toUpperCase();
    else if (c === '@target-uri') v = policy.targetUri;
    else if (c.startsWith('@')) fail('webhook-signature', `unsupported derived component ${c}`);
    else v = header(req.headers, c)?.replace(/^[ \t]+|[ \t]+$/g, '');
    if (v === undefined) fail('webhook-signature', `header ${c} is missing`);
    lines.push(`"${c}": ${v}`);
  }
  lines.push(`"@signature-params": ${inner}`);
  if (!(await ed25519Verify(node.publicKey, utf8(lines.join('\n')), sig))) fail('webhook-signature', 'the signature does not verify');
  const body = typeof req.body === 'string' ? utf8(req.body) : req.body;
  const digest = header(req.headers, 'content-digest') ?? '';
  const dm = dictionary(digest).get('sha-256');
  if (!dm || !/^:[A-Za-z0-9+/=]*:$/.test(dm)) fail('webhook-digest', 'Content-Digest has no sha-256 member');
  if (!bytesEqual(b64Decode(dm.slice(1, -1), 'webhook-digest', 'Content-Digest'), sha256(body))) fail('webhook-digest', `the body does not match Content-Digest (its digest is sha-256=:${b64Encode(sha256(body))}:)`);
  const event = parseStrict(body);
  if (!isObject(event)) fail('webhook-event', 'the body is not a JSON object');
  const id = header(req.headers, 'consentry-event-id');
  const type = header(req.headers, 'consentry-event-type');
  if (event.id !== id || event.type !== type) fail('webhook-event', 'the event id or type differs from the signed headers');
  const seq = Number(header(req.headers, 'consentry-sequence'));
  return { event, id: String(id), type: String(type), sequence: seq, created };
}
