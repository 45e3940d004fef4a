/** Errors raised by the Consentry client library. */

/** One reason a check failed: a stable `code` (spec/grant.md §4, spec/problems.md) and a message. */
export interface Reason {
  code: string;
  message: string;
}

/** Base class of every error this library throws on purpose. */
export class ConsentryError extends Error {
  /** A stable, machine-readable code (for example `bad-signature`, `malformed-json`). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'ConsentryError';
    this.code = code;
  }
}

/**
 * A verification failed: a signature, a proof, a grant rule, a receipt, a webhook. `reasons` has
 * every reason (grant rules report all of them at once); `code` is the first one's.
 */
export class VerificationError extends ConsentryError {
  readonly reasons: Reason[];
  /** A more specific code from a lower layer (for example `invalidPublicKey` under `verification-method`). */
  readonly causeCode?: string;
  constructor(code: string, message: string, reasons?: Reason[], causeCode?: string) {
    super(code, message);
    this.name = 'VerificationError';
    if (causeCode !== undefined) this.causeCode = causeCode;
    this.reasons = reasons && reasons.length > 0 ? reasons : [{ code, message }];
  }
  /** Throws a VerificationError carrying every reason of `reasons` (which must not be empty). */
  static of(reasons: Reason[]): VerificationError {
    const first = reasons[0];
    const msg = reasons.map((r) => `${r.code}: ${r.message}`).join('; ');
    const e = new VerificationError(first.code, msg, reasons);
    e.message = msg;
    return e;
  }
}

/** Shortcut: throw a single-reason verification error. */
export function fail(code: string, message: string): never {
  throw new VerificationError(code, message);
}

/**
 * An RFC 9457 problem answered by a node or platform (`application/problem+json`). `problemCode`
 * is the part of `type` after `#` (spec/problems.md).
 */
export class ProblemError extends ConsentryError {
  /** The HTTP status. */
  readonly status: number;
  /** The full problem `type` URI. */
  readonly type: string;
  /** The problem's `title`. */
  readonly title: string;
  /** What went wrong in this case. */
  readonly detail: string;
  /** Every reason (`release-refused`, `grant-invalid`, 400 problems…); may be empty. */
  readonly reasons: Reason[];
  /** The index of the logged refusal (`release-refused` only). */
  readonly logIndex?: number;
  /** The whole problem object as received. */
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    const type = typeof body.type === 'string' ? body.type : 'about:blank';
    const code = type.includes('#') ? type.slice(type.indexOf('#') + 1) : `http-${status}`;
    const detail = typeof body.detail === 'string' ? body.detail : '';
    super(code, detail || String(body.title ?? `HTTP ${status}`));
    this.name = 'ProblemError';
    this.status = status;
    this.type = type;
    this.title = typeof body.title === 'string' ? body.title : '';
    this.detail = detail;
    this.reasons = Array.isArray(body.reasons)
      ? body.reasons
          .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
          .map((r) => ({ code: String(r.code ?? ''), message: String(r.message ?? '') }))
      : [];
    if (typeof body.logIndex === 'number') this.logIndex = body.logIndex;
    this.body = body;
  }
  /** The problem code (`release-refused`, `conflict`, …): same as `code`. */
  get problemCode(): string {
    return this.code;
  }
  /** The reason codes, in order. */
  get reasonCodes(): string[] {
    return this.reasons.map((r) => r.code);
  }
}

/** The server answered something this library cannot accept (not a problem, not the promised shape). */
export class ProtocolError extends ConsentryError {
  constructor(message: string) {
    super('protocol', message);
    this.name = 'ProtocolError';
  }
}
