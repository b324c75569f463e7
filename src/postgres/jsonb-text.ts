import { endOfJsonString } from '../json-string-end';

/**
 * jsonb's text output (`event_data::text`) turned into the exact text JSON.stringify writes for the
 * value node-postgres parses from it: the bytes every read answered with when the server parsed
 * each event's data into objects and stringified it again, now made without building objects.
 *
 * jsonb's text differs from that in three ways:
 * - a space after every `,` and `:` between values, and no other whitespace outside strings;
 * - numbers in numeric's plain notation, with their scale and all their digits: `1.50`,
 *   `0.0000001`, `1000000000000000000000`, `9007199254740993` (stored by other means than this
 *   store's writes, which refuse it) where JavaScript writes `1.5`, `1e-7`, `1e+21`, `9007199254740992`;
 * - keys in jsonb's order (shorter first), where JavaScript puts integer-like keys ("2", "10") before
 *   the others, in numeric order.
 * Strings are escaped alike (`\"`, `\\`, `\n` and the other short forms, `\u00xx` in lower case for the
 * other control characters, everything else as it is; jsonb refuses `\u0000` and lone surrogates).
 * One pass drops the spaces outside strings; the other two differences are rare, and a value that
 * has one is left to JSON.parse and JSON.stringify, which give the bytes exactly.
 */
export function jsonbTextAsJson(text: string): string {
  let compact = '';
  let copiedTo = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = endOfJsonString(text, i);
      if (text.charCodeAt(end + 1) === COLON && isIntegerLike(text, i + 1, end)) return JSON.stringify(JSON.parse(text));
      i = end;
    } else if (c === SPACE) {
      compact += text.slice(copiedTo, i);
      copiedTo = i + 1;
    } else if (c === MINUS || isDigit(c)) {
      let end = i + 1;
      let fraction = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === DOT) fraction = true;
        else if (!isDigit(d)) break;
      }
      // Up to 15 digits, an integer is a double exactly and JavaScript writes it as jsonb does.
      if (fraction || end - i > 15) {
        const token = text.slice(i, end);
        if (String(Number(token)) !== token) return JSON.stringify(JSON.parse(text));
      }
      i = end - 1;
    }
  }
  return copiedTo === 0 ? text : compact + text.slice(copiedTo);
}

const QUOTE = 0x22;
const COLON = 0x3a;
const SPACE = 0x20;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= 0x39;
}

/** A key of digits without a leading zero, between `start` and `end`: one JavaScript may order first. */
function isIntegerLike(text: string, start: number, end: number): boolean {
  if (end === start || (text.charCodeAt(start) === ZERO && end - start > 1)) return false;
  for (let i = start; i < end; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}
