/** XML Schema dateTimeStamp / RFC 3339 instants, strictly (upper-case T and Z, a zone required). */
import { VerificationError } from './errors.js';

const RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Days in a month of the proleptic Gregorian calendar. */
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export function daysInMonth(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : DAYS[m - 1];
}

/**
 * Parses a dateTimeStamp (`YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm)`) to milliseconds since the epoch;
 * throws `code` otherwise (24:00:00, lower-case t/z, missing zone, impossible dates, offsets beyond ±14:00).
 */
export function parseDateTimeStamp(value: unknown, code: string, field: string): number {
  const bad = (why: string): never => {
    throw new VerificationError(code, `${field}: ${JSON.stringify(value)} is not a dateTimeStamp: ${why}`);
  };
  if (typeof value !== 'string') return bad('not a string');
  // The usual form, `YYYY-MM-DDThh:mm:ssZ`, read without the regular expression (same checks).
  if (
    value.length === 20 &&
    value.charCodeAt(19) === 0x5a &&
    value.charCodeAt(4) === 0x2d &&
    value.charCodeAt(7) === 0x2d &&
    value.charCodeAt(10) === 0x54 &&
    value.charCodeAt(13) === 0x3a &&
    value.charCodeAt(16) === 0x3a
  ) {
    const y = digits(value, 0, 4);
    const mo = digits(value, 5, 2);
    const d = digits(value, 8, 2);
    const h = digits(value, 11, 2);
    const mi = digits(value, 14, 2);
    const s = digits(value, 17, 2);
    if (y >= 0 && mo >= 0 && d >= 0 && h >= 0 && mi >= 0 && s >= 0) {
      if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) bad('no such date');
      if (h > 23 || mi > 59 || s > 59) bad('no such time');
      return Date.UTC(y, mo - 1, d, h, mi, s, 0);
    }
  }
  const m = RE.exec(value);
  if (!m) return bad('expected YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)');
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const h = +m[4];
  const mi = +m[5];
  const s = +m[6];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) bad('no such date');
  if (h > 23 || mi > 59 || s > 59) bad('no such time');
  let off = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 14 || om > 59 || (oh === 14 && om > 0)) bad('time-zone offset beyond ±14:00');
    off = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - off * 60000;
}

/** `YYYY-MM-DDTHH:MM:SSZ` in UTC (whole seconds). */
export function formatUtcSeconds(t: Date | number): string {
  const d = new Date(typeof t === 'number' ? t : t.getTime());
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The value of the `n` ASCII digits of `s` from `at`, or -1 if one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** A real calendar date written `YYYY-MM-DD`, or null. */
export function parseDate(value: unknown): { y: number; m: number; d: number } | null {
  if (typeof value !== 'string' || value.length !== 10 || value.charCodeAt(4) !== 0x2d || value.charCodeAt(7) !== 0x2d) return null;
  const y = digits(value, 0, 4);
  const m = digits(value, 5, 2);
  const d = digits(value, 8, 2);
  if (y < 0 || m < 0 || d < 0) return null;
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return { y, m, d };
}
