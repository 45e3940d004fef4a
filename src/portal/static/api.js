// Calls to the node: the portal API (session cookie; X-CSRF-Token on every POST) and the node's
// public API. Errors become ApiError with the problem's `reasons` (stable codes), so each page can put
// the message next to the field that caused it; a network failure is status 0.

import { T } from './i18n.js';
import { parseJson } from './crypto.js';

export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || (status === 0 ? 'network' : `HTTP ${status}`));
    this.status = status;
    this.problem = p;
    this.reasons = Array.isArray(p.reasons) ? p.reasons : [];
    this.code = (p.type || '').split('#').pop() || '';
    this.retryAfter = retryAfter ? Number(retryAfter) : null;
  }

  /** A message for people. */
  describe() {
    if (this.status === 0) return T('网络连接失败,内容已保留,请重试。', 'The network failed; nothing was lost. Please retry.');
    if (this.status === 401) return `${T('请重新登录', 'Please sign in again')}: ${this.message}`;
    const reasons = this.reasons.map((r) => `${r.code}: ${r.message}`).join('; ');
    return reasons ? `${this.message} (${reasons})` : this.message;
  }
}

export const session = {
  csrf: sessionStorage.getItem('consentry.csrf') || null,
  me: null,
  node: null,
};

export function setCsrf(token) {
  session.csrf = token;
  if (token) sessionStorage.setItem('consentry.csrf', token);
  else sessionStorage.removeItem('consentry.csrf');
}

/** fetch with JSON in and out; `body` as a string is sent as-is (signed requests, grants). */
export async function call(path, { method = 'GET', json, body, headers = {} } = {}) {
  const h = { Accept: 'application/json, application/problem+json, text/plain', ...headers };
  let payload;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (body !== undefined) {
    h['Content-Type'] = body.trimStart().startsWith('{') ? 'application/json' : 'text/plain; charset=utf-8';
    payload = body;
  }
  if (method !== 'GET' && path.startsWith('/portal/api/') && session.csrf) h['X-CSRF-Token'] = session.csrf;
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: payload, credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
  } catch {
    throw new ApiError(0, null);
  }
  const ct = resp.headers.get('content-type') || '';
  let data;
  try {
    data = ct.includes('json') ? parseJson(await resp.text()) : await resp.text();
  } catch {
    throw new ApiError(0, null);
  }
  if (!resp.ok) throw new ApiError(resp.status, data, resp.headers.get('retry-after'));
  return data;
}

export const get = (path) => call(path);
export const post = (path, opts = {}) => call(path, { method: 'POST', ...opts });

/** The node's public description ({did, logOrigin, …}), fetched once. */
export async function nodeInfo() {
  if (!session.node) session.node = await get('/v1/node');
  return session.node;
}

let catalogPromise = null;
export function catalog() {
  if (!catalogPromise) catalogPromise = get('/v1/catalog').catch((e) => {
    catalogPromise = null;
    throw e;
  });
  return catalogPromise;
}

/** Fetches text, retrying while the node says to (a receipt before its checkpoint exists). */
export async function getTextWhenReady(path, { tries = 10 } = {}) {
  for (let i = 0; ; i++) {
    try {
      return await get(path);
    } catch (e) {
      if (i + 1 >= tries || !(e.status === 404 && e.retryAfter) ) throw e;
      await new Promise((r) => setTimeout(r, Math.max(500, e.retryAfter * 1000)));
    }
  }
}
