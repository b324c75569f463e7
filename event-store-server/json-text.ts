/**
 * What JSON.parse hides: it accepts any nesting depth, reads numbers into doubles (so `1e400`
 * becomes Infinity, stored as null, and `9007199254740993` becomes ...992), and keeps the last of
 * repeated keys. The event store stores values exactly as sent, so these are refused, and only the
 * body's text can tell: `checkJsonText` reads it once, after JSON.parse accepted it as JSON.
 */
import { endOfJsonString } from '../src/json-string-end';

/** Objects and arrays nest at most this deep in a request body (the body itself is level 1). */
export const MAX_JSON_DEPTH = 100;

export type JsonTextProblem =
  | { kind: 'too_deep' }
  /** `path` is a JSON pointer into the body, e.g. /events/0/eventData/amount. */
  | { kind: 'inexact_number'; path: string; token: string }
  | { kind: 'repeated_key'; path: string };

const QUOTE = 0x22;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;

/**
 * Checks the text of a value JSON.parse accepted. The common case costs one pass over the text and
 * one over the parsed value; a problem found is then located (its path) by a slower second pass.
 */
export function checkJsonText(text: string, parsed: unknown, maxDepth = MAX_JSON_DEPTH): JsonTextProblem | undefined {
  const scan = scanText(text, maxDepth);
  if (scan.tooDeep) return { kind: 'too_deep' };
  // Each member of an object has one colon outside strings; fewer keys after parsing means a key repeated.
  if (!scan.inexactNumber && scan.members === countKeys(parsed)) return undefined;
  const problem = locate(text);
  if (!problem) throw new Error('checkJsonText: the first pass found a problem the second could not locate');
  return problem;
}

function isNumberChar(c: number): boolean {
  // digits . + - e E
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === MINUS || c === 0x65 || c === 0x45;
}

/** End (exclusive) of the number token starting at `start`. */
function endOfNumber(text: string, start: number): number {
  let end = start + 1;
  while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
  return end;
}

function scanText(text: string, maxDepth: number): { tooDeep: boolean; members: number; inexactNumber: boolean } {
  let depth = 0;
  let members = 0;
  let inexactNumber = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfJsonString(text, i);
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return { tooDeep: true, members, inexactNumber };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === COLON) {
      members++;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      let exponent = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (!isNumberChar(d)) break;
      }
      // Short tokens without an exponent are exact (see isExactNumber); only the others are cut out and looked at.
      if ((exponent || end - i > 15) && !inexactNumber && !isExactNumber(text.slice(i, end))) inexactNumber = true;
      i = end - 1;
    }
  }
  return { tooDeep: false, members, inexactNumber };
}

/**
 * True when the double JSON.parse makes of `token` is the number the token writes, so that storing
 * the double (as JSON.stringify writes it) stores the same value. `1.50` and `1.5e0` are exact; `0.1`
 * is too, in this sense: it is read as the double nearest 0.1 and written back as 0.1.
 */
export function isExactNumber(token: string): boolean {
  // Up to 15 characters there are at most 15 significant digits, and every such decimal survives a trip
  // through a double, unless an exponent takes it out of range (1e400, 1e-400).
  if (token.length <= 15 && !/[eE]/.test(token)) return true;
  const written = String(Number(token));
  // What JavaScript writes (as most clients send it) reads back as itself.
  if (written === token) return true;
  return decimalValue(token) === decimalValue(written);
}

/** A canonical form of a decimal number (sign, significant digits, exponent); undefined for Infinity and NaN. */
function decimalValue(text: string): string | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0'; // -0 and 0 are the same number, and JSON has no other zero
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  return `${sign}${digits}e${BigInt(exponent) - BigInt(fraction.length) + BigInt(trailing)}`;
}

function countKeys(value: unknown): number {
  let keys = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) pending.push(item);
    } else {
      for (const key in next) {
        keys++;
        const item = (next as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) pending.push(item);
      }
    }
  }
  return keys;
}

type Frame = { kind: 'object'; keys: Set<string>; key?: string; expectingKey: boolean } | { kind: 'array'; index: number };

/** The slow pass, run only when the fast one found something: walks the text keeping the path, and says what and where. */
function locate(text: string): JsonTextProblem | undefined {
  const frames: Frame[] = [];
  const path = () => frames.map((f) => `/${f.kind === 'array' ? f.index : pointerSegment(f.key!)}`).join('');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = frames.at(-1);
    if (c === QUOTE) {
      const end = endOfJsonString(text, i);
      if (top?.kind === 'object' && top.expectingKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        top.key = key;
        top.expectingKey = false;
        if (top.keys.has(key)) return { kind: 'repeated_key', path: path() };
        top.keys.add(key);
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      frames.push({ kind: 'object', keys: new Set(), expectingKey: true });
    } else if (c === OPEN_ARRAY) {
      frames.push({ kind: 'array', index: 0 });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      frames.pop();
    } else if (c === COMMA && top) {
      if (top.kind === 'array') top.index++;
      else top.expectingKey = true;
    } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const end = endOfNumber(text, i);
      const token = text.slice(i, end);
      if (!isExactNumber(token)) return { kind: 'inexact_number', path: path(), token };
      i = end - 1;
    }
  }
  return undefined;
}

/** RFC 6901: `~` and `/` in a key are escaped in a JSON pointer. */
function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
