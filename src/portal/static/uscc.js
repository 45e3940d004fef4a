// The Unified Social Credit Code check (GB 32100-2015 with GB 11714-1997), as spec/grant.md §6.1:
// length, character set, division digits, organization-code check (position 17), final check (18).

export const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const FINAL_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];

/** Returns null when `code` is a valid USCC, else {code, position?, expected?}: the first failing check. */
export function usccProblem(code) {
  if (typeof code !== 'string' || code.length !== 18) return { code: 'length', length: code?.length ?? 0 };
  for (let i = 0; i < 18; i++) {
    if (!CHARSET.includes(code[i])) return { code: 'character', position: i + 1, char: code[i] };
  }
  if (!/^[0-9]{6}$/.test(code.slice(2, 8))) return { code: 'division' };
  const body = code.slice(8, 16);
  const value = (c) => (c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 55);
  const s = [...body].reduce((a, c, i) => a + value(c) * ORG_WEIGHTS[i], 0);
  const c17 = 11 - (s % 11);
  const expected17 = c17 === 10 ? 'X' : c17 === 11 ? '0' : String(c17);
  if (code[16] !== expected17) return { code: 'org-check', position: 17 };
  const sum = [...code.slice(0, 17)].reduce((a, c, i) => a + CHARSET.indexOf(c) * FINAL_WEIGHTS[i], 0);
  const c18 = (31 - (sum % 31)) % 31;
  if (code[17] !== CHARSET[c18]) return { code: 'final-check', position: 18 };
  return null;
}

export function isValidUscc(code) {
  return usccProblem(code) === null;
}

/**
 * While typing: the first problem visible in what was typed so far (a character outside the set, a
 * non-digit in the division code), or, once 18 characters are there, the full check.
 */
export function usccTypingProblem(code) {
  if (code.length >= 18) return usccProblem(code);
  for (let i = 0; i < code.length; i++) {
    if (!CHARSET.includes(code[i])) return { code: 'character', position: i + 1, char: code[i] };
    if (i >= 2 && i < 8 && !/[0-9]/.test(code[i])) return { code: 'division' };
  }
  return null;
}
