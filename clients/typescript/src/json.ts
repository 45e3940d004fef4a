/**
 * Strict I-JSON (RFC 7493) parsing and RFC 8785 canonicalization (JCS).
 *
 * `parseStrict` refuses duplicate member names, lone surrogates, numbers no double can hold
 * (overflow), and integer literals beyond ±(2^53 − 1) that no IEEE double holds exactly — unless
 * the literal is exactly what JCS writes for the double it reads as (spec/grant.md §2.1).
 */
import { VerificationError } from './errors.js';
import { utf8, fromUtf8 } from './encoding.js';

/** A JSON value as this library represents it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A JSON object. */
export type JsonObject = { [k: string]: Json };

const MAX_SAFE = 9007199254740991n;

/** Parses `s` from `i` to `n` (exclusive); offsets in messages count from `base` (where the text begins). */
class Parser {
  i: number;
  readonly base: number;
  constructor(
    readonly s: string,
    readonly code: string,
    start: number,
    readonly n: number,
  ) {
    this.i = start;
    this.base = start;
  }
  err(msg: string): never {
    throw new VerificationError(this.code, `${msg} at offset ${this.i - this.base}`);
  }
  ws(): void {
    const s = this.s;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }
  value(depth: number): Json {
    if (depth > 128) this.err('JSON nested too deeply');
    this.ws();
    switch (this.s.charCodeAt(this.i)) {
      case 0x7b: // {
        return this.object(depth);
      case 0x5b: // [
        return this.array(depth);
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.lit('true', true);
      case 0x66: // f
        return this.lit('false', false);
      case 0x6e: // n
        return this.lit('null', null);
      default: {
        const c = this.i < this.n ? this.s[this.i] : undefined;
        if (c !== undefined && (c === '-' || (c >= '0' && c <= '9'))) return this.number();
        this.err(c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`);
      }
    }
  }
  lit<T extends Json>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    this.err('invalid literal');
  }
  object(depth: number): JsonObject {
    const s = this.s;
    this.i++;
    const out: JsonObject = {};
    this.ws();
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return out;
    }
    // The member names so far: a linear scan while there are few (every grant object), a Set after.
    const names: string[] = [];
    let set: Set<string> | undefined;
    for (;;) {
      this.ws();
      if (s.charCodeAt(this.i) !== 0x22) this.err('expected a member name');
      const k = this.string();
      if (set === undefined) {
        for (let j = 0; j < names.length; j++) if (names[j] === k) this.err(`duplicate member name ${JSON.stringify(k)}`);
        names.push(k);
        if (names.length > 16) set = new Set(names);
      } else {
        if (set.has(k)) this.err(`duplicate member name ${JSON.stringify(k)}`);
        set.add(k);
      }
      this.ws();
      if (s.charCodeAt(this.i) !== 0x3a) this.err("expected ':'");
      this.i++;
      const v = this.value(depth + 1);
      // Plain assignment keeps V8's fast (shape-based) objects; only `__proto__` needs
      // defineProperty, as assigning it would set the prototype instead of a member.
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
      this.ws();
      const c = s.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.err("expected ',' or '}'");
    }
  }
  array(depth: number): Json[] {
    this.i++;
    const out: Json[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.err("expected ',' or ']'");
    }
  }
  string(): string {
    const s = this.s;
    const n = this.n;
    let i = this.i + 1;
    // The common case: no escape, control character or surrogate before the closing quote (a
    // local index, not `this.i`, in the per-character loop).
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return s.slice(start, i);
      }
      if (c < 0x20 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) break;
      i++;
    }
    this.i = i;
    return this.stringRest(start, '');
  }
  /** The rest of a string from `this.i` (at a special character or the end), `out` holding the text before `start`. */
  stringRest(start: number, out: string): string {
    const s = this.s;
    for (;;) {
      if (this.i >= this.n) this.err('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.err('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        // Raw surrogates can only come from a JS string that was not valid UTF-8 text.
        const hi = c <= 0xdbff;
        const n = s.charCodeAt(this.i + 1);
        if (!hi || !(n >= 0xdc00 && n <= 0xdfff)) this.err('lone surrogate in string');
        this.i += 2;
        continue;
      }
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        this.i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const u = this.hex4();
            if (u >= 0xd800 && u <= 0xdbff) {
              if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') this.err('lone surrogate escape');
              this.i += 2;
              const lo = this.hex4();
              if (lo < 0xdc00 || lo > 0xdfff) this.err('lone surrogate escape');
              out += String.fromCharCode(u, lo);
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              this.err('lone surrogate escape');
            } else out += String.fromCharCode(u);
            break;
          }
          default:
            this.i -= 2;
            this.err('invalid escape');
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
  }
  hex4(): number {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.err('invalid \\u escape');
    this.i += 4;
    return parseInt(h, 16);
  }
  number(): number {
    const s = this.s;
    const start = this.i;
    const m = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    m.lastIndex = start;
    const r = m.exec(s);
    if (!r || r[0].length === 0 || r[0] === '-') this.err('invalid number');
    const text = r[0];
    this.i = start + text.length;
    const c = s[this.i];
    if (c !== undefined && /[0-9.eE+\-]/.test(c)) this.err('invalid number');
    const v = Number(text);
    if (!Number.isFinite(v)) this.err(`number ${text} is out of range for an IEEE double`);
    if (r[1] === undefined && r[2] === undefined) {
      const digits = text.length - (text[0] === '-' ? 1 : 0);
      if (digits > 15) {
        const big = BigInt(text);
        const abs = big < 0n ? -big : big;
        if (abs > MAX_SAFE && BigInt(v) !== big && numberToJcs(v) !== text) {
          this.err(
            `integer ${text} cannot be represented exactly as an IEEE double (JCS would write ${numberToJcs(v)})`,
          );
        }
      }
    }
    return v;
  }
}

/**
 * Parses strict I-JSON text (or UTF-8 bytes). Throws a `VerificationError` with `code`
 * (default `malformed-json`) on any violation; the whole text must be one value.
 */
export function parseStrict(input: string | Uint8Array, code = 'malformed-json'): Json {
  const text = typeof input === 'string' ? input : fromUtf8(input, code, 'JSON text');
  return parseRange(text, 0, text.length, code);
}

/**
 * `parseStrict(trimAsciiWhitespace(text))` without making the trimmed copy: a substring is a view
 * (a "sliced" string) in V8, which every character read then pays for.
 */
export function parseStrictTrimmed(text: string, code = 'malformed-json'): Json {
  const [a, b] = trimBounds(text);
  return parseRange(text, a, b, code);
}

function parseRange(text: string, start: number, end: number, code: string): Json {
  const p = new Parser(text, code, start, end);
  const v = p.value(0);
  p.ws();
  if (p.i !== end) p.err('trailing characters after the JSON value');
  return v;
}

/** The RFC 8785 (ECMAScript) form of a finite number. */
export function numberToJcs(n: number): string {
  if (!Number.isFinite(n)) throw new VerificationError('canonicalization', `${n} is not a finite number`);
  if (Object.is(n, -0)) return '0';
  return String(n);
}

const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** Whether a string has no lone surrogate: `String.prototype.isWellFormed` where the engine has it (Node 20+). */
const wellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as string & { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);
/** Strings JSON.stringify copies unchanged between quotes: no `"`, `\\`, control character or surrogate. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
function jcsString(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  if (!wellFormed(s)) throw new VerificationError('canonicalization', 'string with a lone surrogate');
  return JSON.stringify(s);
}

function jcsValue(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return numberToJcs(v);
    case 'string':
      return jcsString(v);
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          if (i) out += ',';
          out += jcsValue(v[i]);
        }
        return `${out}]`;
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const m = o[keys[i]];
        if (m === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${jcsString(keys[i])}:${jcsValue(m)}`;
      }
      return `${out}}`;
    }
    default:
      throw new VerificationError('canonicalization', `cannot canonicalize a ${typeof v}`);
  }
}

/** RFC 8785 canonical JSON text of `v` (members sorted by UTF-16 code units, ES6 numbers). */
export function canonicalize(v: unknown): string {
  return jcsValue(v);
}

/** UTF-8 bytes of the RFC 8785 canonical form. */
export function canonicalBytes(v: unknown): Uint8Array {
  return utf8(canonicalize(v));
}

/** True if `v` is a JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isAsciiWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
/**
 * The text without surrounding ASCII whitespace (space, tab, LF, CR, FF). A loop, not the regular
 * expression `/^[ \t\r\n\f]+|[ \t\r\n\f]+$/g`, which tries its second branch at every
 * position of a 2–3 KB grant (7 % of a verification's time).
 */
export function trimAsciiWhitespace(text: string): string {
  const [a, b] = trimBounds(text);
  return a === 0 && b === text.length ? text : text.slice(a, b);
}

/** Where `trimAsciiWhitespace` would cut: the first and after the last character kept. */
function trimBounds(text: string): [number, number] {
  let a = 0;
  let b = text.length;
  while (a < b && isAsciiWs(text.charCodeAt(a))) a++;
  while (b > a && isAsciiWs(text.charCodeAt(b - 1))) b--;
  return [a, b];
}
