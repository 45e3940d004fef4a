/**
 * HTTP clients for a Consentry node and a financing platform: a fresh client assertion
 * (`consentry-assertion+jwt`, single use, bound to method, path and audience) per request,
 * signed requests (`consentry-request+jwt`) for an enterprise's own statements, problem+json errors
 * as `ProblemError`, and retries only where safe (GET; any method on 503 with `Retry-After`).
 */
import { signJws } from './credential.js';
import type { KeyPair } from './did.js';
import { hexEncode } from './encoding.js';
import { ProblemError, ProtocolError } from './errors.js';
import { randomBytes } from './crypto.js';
import { type Json, type JsonObject, isObject, parseStrict } from './json.js';

/** The `typ` of a client assertion. */
export const ASSERTION_TYP = 'consentry-assertion+jwt';
/** The `typ` of a signed request. */
export const REQUEST_TYP = 'consentry-request+jwt';

/** Makes a client assertion for one request (lifetime 120 s, random 32-hex-digit `jti`). */
export function makeAssertion(key: KeyPair, audience: string, method: string, pathAndQuery: string, now: number = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims = { iss: key.did, aud: audience, iat, exp: iat + 120, jti: hexEncode(randomBytes(16)), htm: method.toUpperCase(), htu: pathAndQuery };
  return signJws(JSON.stringify(claims), ASSERTION_TYP, key);
}

/**
 * Makes a signed request: an enterprise's (or bank's) own statement of what it asks, kept by the
 * node as evidence. `claims` are added to `action`, `aud`, `iat` and a fresh `jti`.
 */
export function makeSignedRequest(key: KeyPair, audience: string, action: string, claims: JsonObject = {}, now: number = Date.now()): Promise<string> {
  const body = { ...claims, action, aud: audience, iat: Math.floor(now / 1000), jti: hexEncode(randomBytes(16)) };
  return signJws(JSON.stringify(body), REQUEST_TYP, key);
}

/** Options common to both clients. */
export interface ClientOptions {
  /** The key that authenticates requests (client assertions). Optional for public routes. */
  key?: KeyPair;
  /** The server's DID (assertion audience); fetched from `GET /v1/node` or `/v1/platform` when absent. */
  audience?: string;
  /** A `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
  /** How many times a retryable request is retried (default 3). */
  retries?: number;
  /** Per-request timeout in ms (default 30 000). */
  timeoutMs?: number;
}

/** How to send one request. */
export interface RequestOptions {
  /** A JSON body. */
  json?: unknown;
  /** A text body (signed requests, grants) and its content type. */
  text?: string;
  contentType?: string;
  /** Send a client assertion (default true when the client has a key). */
  auth?: boolean;
  /** Another key for this request (for example a bank calling through its platform). */
  key?: KeyPair;
  /** Query parameters. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Read the answer as text instead of JSON. */
  asText?: boolean;
  /** Read the answer as bytes. */
  asBytes?: boolean;
}

/** The raw answer of a request. */
export interface RawResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shared machinery of `NodeClient` and `PlatformClient`. */
export class BaseClient {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  protected key?: KeyPair;
  protected audience?: string;
  protected readonly fetchImpl: typeof fetch;
  protected readonly retries: number;
  protected readonly timeoutMs: number;
  protected readonly infoPath: string;

  constructor(baseUrl: string, infoPath: string, opts: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.infoPath = infoPath;
    this.key = opts.key;
    this.audience = opts.audience;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.retries = opts.retries ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** The server's DID: the audience of assertions and signed requests. */
  async serverDid(): Promise<string> {
    if (!this.audience) {
      const info = await this.request<JsonObject>('GET', this.infoPath, { auth: false });
      if (typeof info.did !== 'string' || !info.did.startsWith('did:key:')) throw new ProtocolError(`${this.infoPath} has no did:key`);
      this.audience = info.did;
    }
    return this.audience;
  }

  /** A client with the same server and another key. */
  withKey(key: KeyPair): this {
    const c = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(c, this);
    c.key = key;
    return c;
  }

  /** Sends a request and returns the parsed body; a problem answer throws `ProblemError`. */
  async request<T = JsonObject>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.requestRaw<T>(method, path, opts)).body;
  }

  /** Like `request`, with the status and headers. */
  async requestRaw<T = JsonObject>(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse<T>> {
    const m = method.toUpperCase();
    let pathAndQuery = path;
    if (opts.query) {
      const q = Object.entries(opts.query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
      if (q.length) pathAndQuery += `${path.includes('?') ? '&' : '?'}${q.join('&')}`;
    }
    const key = opts.key ?? this.key;
    const auth = opts.auth ?? key !== undefined;
    if (auth && !key) throw new ProtocolError(`${m} ${path} needs a key (client assertion)`);
    const audience = auth ? await this.serverDid() : undefined;
    const safe = m === 'GET' || m === 'HEAD';
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Accept: 'application/json, application/problem+json, text/plain, */*' };
      let body: string | undefined;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['Content-Type'] = 'application/json';
      } else if (opts.text !== undefined) {
        body = opts.text;
        headers['Content-Type'] = opts.contentType ?? 'text/plain';
      }
      if (auth && key && audience) headers.Authorization = `Bearer ${await makeAssertion(key, audience, m, pathAndQuery)}`;
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.baseUrl}${pathAndQuery}`, { method: m, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        if (safe && attempt < this.retries) {
          await sleep(200 * 2 ** attempt);
          continue;
        }
        throw new ProtocolError(`${m} ${this.baseUrl}${pathAndQuery}: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (res.status === 503 && attempt < this.retries && (safe || res.headers.has('retry-after'))) {
        const ra = Number(res.headers.get('retry-after') ?? '1');
        await res.arrayBuffer().catch(() => undefined);
        await sleep(Math.min(Number.isFinite(ra) && ra >= 0 ? ra * 1000 : 1000, 10_000));
        continue;
      }
      if (!res.ok) throw await problemOf(res, m, pathAndQuery);
      let out: unknown;
      if (opts.asBytes) out = new Uint8Array(await res.arrayBuffer());
      else if (opts.asText) out = await res.text();
      else {
        const text = await res.text();
        try {
          out = text === '' ? null : parseStrict(text);
        } catch (e) {
          throw new ProtocolError(`${m} ${pathAndQuery}: the answer is not strict JSON: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return { status: res.status, headers: res.headers, body: out as T };
    }
  }
}

async function problemOf(res: Response, method: string, path: string): Promise<ProblemError> {
  const text = await res.text().catch(() => '');
  let body: Json | undefined;
  try {
    body = parseStrict(text);
  } catch {
    body = undefined;
  }
  if (isObject(body)) return new ProblemError(res.status, body);
  return new ProblemError(res.status, { type: `about:blank`, title: res.statusText, detail: `${method} ${path}: HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` });
}

const enc = encodeURIComponent;

/** The answer of an allowed release (`POST /v1/releases`). */
export interface ReleaseAnswer extends JsonObject {
  logIndex: number;
  leafHash: string;
  receipt: JsonObject;
  data: JsonObject;
  dataSha256: string;
}

/** The provincial node's API (spec/openapi.yaml). Methods are named after its operationIds. */
export class NodeClient extends BaseClient {
  constructor(baseUrl: string, opts: ClientOptions = {}) {
    super(baseUrl, '/v1/node', opts);
  }
  /** Public node information: `did`, `logOrigin`, `logSize`, `logRoot`, `didDocument`… */
  getNode(): Promise<JsonObject> {
    return this.request('GET', '/v1/node', { auth: false });
  }
  /** The catalog. */
  getCatalog(): Promise<JsonObject> {
    return this.request('GET', '/v1/catalog', { auth: false });
  }
  /** The authorization letters. */
  listLetters(): Promise<JsonObject> {
    return this.request('GET', '/v1/catalog/letters', { auth: false });
  }
  /** A status list credential (`<base>/<purpose>` URL as written in a grant, fetched as text). */
  async getStatusListCredential(url: string): Promise<string> {
    const res = await this.fetchImpl(url, { headers: { Accept: 'application/vc+ld+json, application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw await problemOf(res, 'GET', url);
    return res.text();
  }

  // registry
  /** An enterprise registers its key (signed request `register`, claims `uscc`, `name`, optional `industry`). */
  async submitRegistration(key: KeyPair, claims: { uscc: string; name: string; industry?: string }): Promise<JsonObject> {
    const token = await makeSignedRequest(key, await this.serverDid(), 'register', claims as JsonObject);
    return this.request('POST', '/v1/registrations', { text: token, auth: false });
  }
  /** The caller's own participant record. */
  getMe(): Promise<JsonObject> {
    return this.request('GET', '/v1/participants/me');
  }
  /** Participants (query filters as the API defines them). */
  listParticipants(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/participants', { query });
  }
  /** Key rotation: `request` is the signed request the API describes. */
  rotateKey(signedRequest: string): Promise<JsonObject> {
    return this.request('POST', '/v1/participants/me/keys', { text: signedRequest, auth: false });
  }
  /** A platform registers a bank at the node. */
  registerBank(body: { uscc: string; name: string; did: string }): Promise<JsonObject> {
    return this.request('POST', '/v1/banks', { json: body });
  }
  /** Delegation by an enterprise (signed request text). */
  addDelegation(signedRequest: string): Promise<JsonObject> {
    return this.request('POST', '/v1/delegations', { text: signedRequest, auth: false });
  }

  // grants
  /** Allocates a status slot for the caller's next grant: `{statusList, statusIndex}`. */
  allocateStatusSlot(): Promise<{ statusList: string; statusIndex: number } & JsonObject> {
    return this.request('POST', '/v1/status/slots', { json: {} });
  }
  /** Submits a signed grant, the exact bytes as signed (Data Integrity JSON or VC-JWT). */
  submitGrant(signed: string): Promise<JsonObject> {
    const jwt = !signed.trimStart().startsWith('{');
    return this.request('POST', '/v1/grants', { text: signed, contentType: jwt ? 'application/vc+jwt' : 'application/json', auth: false });
  }
  /** Grants the caller may see: one page, newest first (filters `enterprise`, `platform`, `bank`,
   * `category`, `state`, `submittedFrom`, `submittedUntil`; pass the answer's `next` as `after`). */
  listGrants(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/grants', { query });
  }
  /** One grant, with its credential and status events. */
  getGrant(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/grants/${enc(id)}`);
  }
  async #grantAction(action: 'revoke' | 'suspend' | 'resume', key: KeyPair, id: string, claims: JsonObject): Promise<JsonObject> {
    const token = await makeSignedRequest(key, await this.serverDid(), action, { ...claims, grant: id });
    return this.request('POST', `/v1/grants/${enc(id)}/${action}`, { text: token, auth: false });
  }
  /** Revokes a grant (final), signed by the enterprise's key (or a delegate's). */
  revokeGrant(key: KeyPair, id: string, claims: JsonObject = {}): Promise<JsonObject> {
    return this.#grantAction('revoke', key, id, claims);
  }
  /** Suspends a grant. */
  suspendGrant(key: KeyPair, id: string, claims: JsonObject = {}): Promise<JsonObject> {
    return this.#grantAction('suspend', key, id, claims);
  }
  /** Resumes a suspended grant. */
  resumeGrant(key: KeyPair, id: string, claims: JsonObject = {}): Promise<JsonObject> {
    return this.#grantAction('resume', key, id, claims);
  }

  // releases and evaluations
  /** Asks for an enterprise's data (platforms and the node receive). */
  release(body: { enterprise: string; grant?: string; categories: string[]; purpose: string; granularity?: string; onBehalfOf?: string } & JsonObject): Promise<ReleaseAnswer> {
    return this.request('POST', '/v1/releases', { json: body });
  }
  /** A credit evaluation. */
  evaluate(body: JsonObject): Promise<JsonObject> {
    return this.request('POST', '/v1/evaluations', { json: body });
  }
  /** One evaluation. */
  getEvaluation(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/evaluations/${enc(id)}`);
  }
  /** The enterprise authorizes or revokes the public display (`authorize`/`revoke`), signed. */
  async changeDisplay(key: KeyPair, action: 'authorize' | 'revoke', claims: JsonObject): Promise<JsonObject> {
    const token = await makeSignedRequest(key, await this.serverDid(), `display-${action}`, claims);
    return this.request('POST', `/v1/display/${action}`, { text: token, auth: false });
  }
  /** The public 苏信码 view of an enterprise. */
  getPublicDisplay(uscc: string): Promise<JsonObject> {
    return this.request('GET', `/v1/public/sxm/${enc(uscc)}`, { auth: false });
  }
  /** The enterprise's own data. */
  getOwnData(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/enterprise/data', { query });
  }
  /** The caller's notices. */
  listNotices(): Promise<JsonObject> {
    return this.request('GET', '/v1/notices');
  }

  // objections
  /** Lodges an objection (body as spec/objections.md defines it). */
  lodgeObjection(body: JsonObject): Promise<JsonObject> {
    return this.request('POST', '/v1/objections', { json: body });
  }
  /**
   * Objections the caller may see, newest first: `limit` 1–500 (default 50; another value is
   * `400 invalid-query`); pass the answer's `next` as `before` for the following page.
   */
  listObjections(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/objections', { query });
  }
  /** One objection. */
  getObjection(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/objections/${enc(id)}`);
  }
  /** An objection step: `forward`, `review` or `resolve`. */
  objectionStep(id: string, step: 'forward' | 'review' | 'resolve', body: JsonObject): Promise<JsonObject> {
    return this.request('POST', `/v1/objections/${enc(id)}/${step}`, { json: body });
  }

  // webhooks
  /** Registers a webhook endpoint. */
  registerWebhook(body: { url: string; events: string[]; description?: string } & JsonObject): Promise<JsonObject> {
    return this.request('POST', '/v1/webhooks', { json: body });
  }
  /** The caller's webhooks. */
  listWebhooks(): Promise<JsonObject> {
    return this.request('GET', '/v1/webhooks');
  }
  /** One webhook. */
  getWebhook(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/webhooks/${enc(id)}`);
  }
  /** Changes a webhook's URL, events or description. */
  rotateWebhook(id: string, body: JsonObject): Promise<JsonObject> {
    return this.request('POST', `/v1/webhooks/${enc(id)}/rotate`, { json: body });
  }
  /** Deletes a webhook. */
  deleteWebhook(id: string): Promise<JsonObject> {
    return this.request('POST', `/v1/webhooks/${enc(id)}/delete`, { json: {} });
  }
  /** A webhook's delivery history. */
  listWebhookDeliveries(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/webhooks/${enc(id)}/deliveries`);
  }

  // loans, alerts, feed, bulletins, statistics
  /** Loans (filters as the API defines them). */
  listLoans(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/loans', { query });
  }
  /** Risk alerts for the caller. */
  listRiskAlerts(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/alerts', { query });
  }
  /** Subscribes to the public feed. */
  subscribeToPublicFeed(body: JsonObject): Promise<JsonObject> {
    return this.request('POST', '/v1/feed/subscriptions', { json: body });
  }
  /** The caller's feed subscriptions. */
  listPublicFeedSubscriptions(): Promise<JsonObject> {
    return this.request('GET', '/v1/feed/subscriptions');
  }
  /** Deletes a feed subscription. */
  deletePublicFeedSubscription(id: string): Promise<JsonObject> {
    return this.request('POST', `/v1/feed/subscriptions/${enc(id)}/delete`, { json: {} });
  }
  /** Feed batches. */
  listPublicFeedBatches(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/feed/batches', { query });
  }
  /** One feed batch. */
  getPublicFeedBatch(id: string): Promise<JsonObject> {
    return this.request('GET', `/v1/feed/batches/${enc(id)}`);
  }
  /** Archived bulletins. */
  listBulletins(): Promise<JsonObject> {
    return this.request('GET', '/v1/bulletins');
  }
  /** One month's bulletin (`YYYY-MM`). */
  getBulletin(month: string): Promise<JsonObject> {
    return this.request('GET', `/v1/bulletins/${enc(month)}`);
  }
  /** Statistics: `''` (overview), `access`, `loans` or `enterprises`. */
  getStats(kind: '' | 'access' | 'loans' | 'enterprises' = '', query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', kind ? `/v1/stats/${kind}` : '/v1/stats', { query });
  }

  // operator (node key)
  /** Operator: admit a platform. */
  admitPlatform(body: { uscc: string; name: string; did: string; endpoint: string }): Promise<JsonObject> {
    return this.request('POST', '/v1/admin/platforms', { json: body });
  }
  /** Operator: pending registrations. */
  listRegistrations(): Promise<JsonObject> {
    return this.request('GET', '/v1/admin/registrations');
  }
  /** Operator: approve an enterprise's registration (issues its identity credential). */
  approveRegistration(uscc: string): Promise<JsonObject> {
    return this.request('POST', `/v1/admin/registrations/${enc(uscc)}/approve`, { json: {} });
  }
  /** Operator: reject a registration. */
  rejectRegistration(uscc: string, body: JsonObject = {}): Promise<JsonObject> {
    return this.request('POST', `/v1/admin/registrations/${enc(uscc)}/reject`, { json: body });
  }

  // audit API (public unless noted)
  /** The newest checkpoint note (text). */
  getCheckpoint(): Promise<string> {
    return this.request<string>('GET', '/v1/log/checkpoint', { auth: false, asText: true });
  }
  /** Checkpoints with size > `after`. */
  listCheckpoints(after = 0, limit?: number): Promise<{ checkpoints: { size: number; note: string; createdAt: string }[] }> {
    return this.request('GET', '/v1/log/checkpoints', { auth: false, query: { after, limit } });
  }
  /** Leaves `[from, from + k)`, 136 bytes each. */
  getLeaves(from = 0, limit?: number): Promise<Uint8Array> {
    return this.request<Uint8Array>('GET', '/v1/log/leaves', { auth: false, asBytes: true, query: { from, limit } });
  }
  /** An inclusion proof (pass a `size` from a verified checkpoint). */
  getInclusionProof(index: number, size: number): Promise<{ index: number; size: number; leafHash: string; proof: string[] }> {
    return this.request('GET', '/v1/log/proof/inclusion', { auth: false, query: { index, size } });
  }
  /** A consistency proof between two sizes. */
  getConsistencyProof(from: number, to: number): Promise<{ from: number; to: number; proof: string[] }> {
    return this.request('GET', '/v1/log/proof/consistency', { auth: false, query: { from, to } });
  }
  /** The tlog-proof receipt of an entry (text); a 404 with Retry-After (not yet covered) is retried. */
  async getReceipt(index: number, waitMs = 10_000): Promise<string> {
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        return await this.request<string>('GET', `/v1/log/receipts/${index}`, { auth: false, asText: true });
      } catch (e) {
        if (e instanceof ProblemError && e.status === 404 && Date.now() < until && /checkpoint/i.test(e.detail)) {
          await sleep(300);
          continue;
        }
        throw e;
      }
    }
  }
  /**
   * Access-log entries the caller may see (filters of spec/access-log.md §7.2), oldest first:
   * `limit` 1–10000 (default 100; another value is `400 invalid-query`); pass the answer's `next`
   * as `after` for the following page.
   */
  listLogEntries(query?: RequestOptions['query']): Promise<JsonObject> {
    return this.request('GET', '/v1/log/entries', { query });
  }
  /** The evidence bundle (node or regulator), as NDJSON text. */
  exportLog(to?: number): Promise<string> {
    return this.request<string>('GET', '/v1/log/export', { asText: true, query: { to } });
  }
}

/** A financing platform's API: its info, bank registration, releases, evaluations and loan reports relayed for banks. */
export class PlatformClient extends BaseClient {
  constructor(baseUrl: string, opts: ClientOptions = {}) {
    super(baseUrl, '/v1/platform', opts);
  }
  /** `uscc`, `did`, `node`, `nodeDid`, `logOrigin`, `logSize`, `logRoot`. */
  getPlatform(): Promise<JsonObject> {
    return this.request('GET', '/v1/platform', { auth: false });
  }
  /** The platform registers a bank (at the node and at the platform); caller: the platform's key. */
  registerBank(body: { uscc: string; name: string; did: string }): Promise<JsonObject> {
    return this.request('POST', '/v1/banks', { json: body });
  }
  /** A bank asks its platform for a release (caller: the bank's key). */
  release(body: { enterprise: string; grant?: string; categories: string[]; purpose: string; granularity?: string } & JsonObject): Promise<ReleaseAnswer> {
    return this.request('POST', '/v1/releases', { json: body });
  }
  /** A bank asks for a credit evaluation. */
  evaluate(body: { enterprise: string; grant: string } & JsonObject): Promise<JsonObject> {
    return this.request('POST', '/v1/evaluations', { json: body });
  }
  /** A bank reports a loan event (`report` is signed as `loan-report` for the node). */
  async reportLoan(bankKey: KeyPair, nodeDid: string, report: JsonObject): Promise<JsonObject> {
    const token = await makeSignedRequest(bankKey, nodeDid, 'loan-report', { report });
    return this.request('POST', '/v1/loan-reports', { json: { request: token }, key: bankKey });
  }
}
