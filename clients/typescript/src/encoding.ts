/** Byte encodings, all strict: canonical base64/base64url (no stray bits), base58btc, hex, UTF-8. */
import { fail } from './errors.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const rev = (alpha: string): Int16Array => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < alpha.length; i++) t[alpha.charCodeAt(i)] = i;
  return t;
};
const B64_REV = rev(B64);
const B64URL_REV = rev(B64URL);

function encode64(bytes: Uint8Array, alpha: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alpha[n >> 18] + alpha[(n >> 12) & 63] + alpha[(n >> 6) & 63] + alpha[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += alpha[n >> 18] + alpha[(n >> 12) & 63] + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alpha[n >> 18] + alpha[(n >> 12) & 63] + alpha[(n >> 6) & 63] + (pad ? '=' : '');
  }
  return out;
}

/** Node's Buffer (a native base64 decoder), where there is one. */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array & { write(s: string, enc: 'base64' | 'base64url'): number } } }).Buffer;
const B64_CHARS = /^[A-Za-z0-9+/]*$/;
const B64URL_CHARS = /^[A-Za-z0-9_-]*$/;

function decode64(text: string, table: Int16Array, padded: boolean, code: string, what: string): Uint8Array {
  if (NodeBuffer !== undefined && text.length > 64) {
    // Node's decoder skips characters outside the alphabet and accepts any trailing bits, so it
    // is given only text that passes every check below (else the loop below says what is wrong).
    let len = text.length;
    if (padded && len % 4 === 0) {
      if (text.charCodeAt(len - 1) === 0x3d) len--;
      if (text.charCodeAt(len - 1) === 0x3d) len--;
    }
    const body = len === text.length ? text : text.slice(0, len);
    const last = len > 0 ? table[text.charCodeAt(len - 1) & 0x7f] : 0;
    const rest = len % 4;
    if (
      (!padded || text.length % 4 === 0) &&
      rest !== 1 &&
      (table === B64URL_REV ? B64URL_CHARS : B64_CHARS).test(body) &&
      (rest === 0 || (last & (rest === 2 ? 0x0f : 0x03)) === 0)
    ) {
      // Written into a buffer of its own (not a slice of Node's shared pool), returned as a plain Uint8Array.
      const size = Math.floor((len * 3) / 4);
      const out = NodeBuffer.allocUnsafeSlow(size);
      if (out.write(body, table === B64URL_REV ? 'base64url' : 'base64') === size) return new Uint8Array(out.buffer, out.byteOffset, size);
    }
  }
  let len = text.length;
  if (padded) {
    if (len % 4 !== 0) fail(code, `${what}: base64 length is not a multiple of 4`);
    if (text.endsWith('==')) len -= 2;
    else if (text.endsWith('=')) len -= 1;
  }
  if (len % 4 === 1) fail(code, `${what}: impossible base64 length`);
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  // Four characters to three bytes at a time; a character outside the alphabet (-1 in the table,
  // or beyond it) makes the OR of the four negative.
  const whole = len - (len % 4);
  let o = 0;
  let i = 0;
  for (; i < whole; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    const va = a < 128 ? table[a] : -1;
    const vb = b < 128 ? table[b] : -1;
    const vc = c < 128 ? table[c] : -1;
    const vd = d < 128 ? table[d] : -1;
    if ((va | vb | vc | vd) < 0) break;
    const n = (va << 18) | (vb << 12) | (vc << 6) | vd;
    out[o] = n >> 16;
    out[o + 1] = (n >> 8) & 0xff;
    out[o + 2] = n & 0xff;
    o += 3;
  }
  // The last 2 or 3 characters, and the exact first bad character if the loop stopped at one.
  let acc = 0;
  let bits = 0;
  for (; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? table[c] : -1;
    if (v < 0) fail(code, `${what}: invalid base64 character ${JSON.stringify(text[i])}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) fail(code, `${what}: non-canonical base64 (trailing bits are not zero)`);
  return out;
}

/** Unpadded base64url (RFC 4648 §5), as JWS uses it. */
export function b64urlEncode(bytes: Uint8Array): string {
  return encode64(bytes, B64URL, false);
}
/** Decodes canonical unpadded base64url; padding, other characters or non-zero trailing bits throw `code`. */
export function b64urlDecode(text: string, code = 'base64url', what = 'value'): Uint8Array {
  return decode64(text, B64URL_REV, false, code, what);
}
/** Standard base64 with padding (RFC 4648 §4). */
export function b64Encode(bytes: Uint8Array): string {
  return encode64(bytes, B64, true);
}
/** Decodes canonical padded standard base64. */
export function b64Decode(text: string, code = 'base64', what = 'value'): Uint8Array {
  return decode64(text, B64_REV, true, code, what);
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_REV = rev(B58);

/** Base58 (Bitcoin alphabet); leading zero bytes become leading `1`s. */
export function b58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '1'.repeat(zeros);
  for (let i = digits.length - 1; i >= 0; i--) out += B58[digits[i]];
  return out;
}

/** Decodes base58btc; refuses other characters. Canonical by construction of the alphabet (checked by re-encoding). */
export function b58Decode(text: string, code = 'base58', what = 'value'): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros++;
  // Little-endian base-256 digits, multiplied by 58^k and added to for up to three characters at
  // a time (58^3 · 255 + carry stays far below 2^31).
  const bytes: number[] = [];
  for (let i = zeros; i < text.length; ) {
    let mul = 1;
    let add = 0;
    for (let k = 0; k < 3 && i < text.length; k++, i++) {
      const c = text.charCodeAt(i);
      const v = c < 128 ? B58_REV[c] : -1;
      if (v < 0) fail(code, `${what}: invalid base58 character ${JSON.stringify(text[i])}`);
      mul *= 58;
      add = add * 58 + v;
    }
    let carry = add;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * mul;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let i = 0; i < bytes.length; i++) out[out.length - 1 - i] = bytes[i];
  return out;
}

/** Lowercase hex. */
export function hexEncode(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}
/** Decodes hex (lowercase only unless `anyCase`). */
export function hexDecode(text: string, code = 'hex', what = 'value', anyCase = false): Uint8Array {
  const re = anyCase ? /^(?:[0-9a-fA-F]{2})*$/ : /^(?:[0-9a-f]{2})*$/;
  if (!re.test(text)) fail(code, `${what}: not ${anyCase ? '' : 'lowercase '}hex`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const enc = new TextEncoder();
// Strict: invalid UTF-8 throws, and a byte-order mark is kept as U+FEFF (then refused by the parsers)
// rather than silently dropped.
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}
/** Decodes UTF-8, refusing invalid sequences with `code`. */
export function fromUtf8(b: Uint8Array, code = 'utf8', what = 'value'): string {
  try {
    return dec.decode(b);
  } catch {
    fail(code, `${what}: not valid UTF-8`);
  }
}
/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
/** Constant-length byte comparison. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
