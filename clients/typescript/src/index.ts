/**
 * @consentry/client — the Consentry client library for Node 18+ and browsers.
 *
 * Keys and did:key, strict JSON and JCS, eddsa-jcs-2022 and VC-JWT, grants with every rule,
 * Bitstring Status Lists, access-log receipts, checkpoints and proofs, signed webhooks, and typed
 * HTTP clients for a node and a platform.
 */
export * from './errors.js';
export * from './encoding.js';
export * from './json.js';
export * from './crypto.js';
export * from './did.js';
export * from './datetime.js';
export * from './credential.js';
export * from './catalog.js';
export * from './grant.js';
export * from './client.js';
export * from './log.js';
export * from './statuslist.js';
export * from './webhook.js';
