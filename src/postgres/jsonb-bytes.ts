/**
 * jsonbTextAsJson (jsonb-text.ts) on UTF-8 bytes: jsonb's text of one value, from `src` between
 * `start` and `end`, written into `out` at `at` as JSON.stringify writes the value, for answers made
 * straight into bytes (a load's packed events: packed-events.ts) without a string per value.
 * The same rules: the spaces outside strings dropped in one pass; a value with an integer-like key
 * or a number JavaScript writes otherwise is not written (-1 is returned) and the caller hands its
 * text to JSON.parse and JSON.stringify. Bytes of multi-byte UTF-8 characters are never below 0x80,
 * so quotes and backslashes are found as in the text.
 *
 * Returns where the written value ends in `out`, which must have room for `end - start` bytes (the
 * value never grows).
 */
export function compactJsonbBytes(src: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  let o = at;
  for (let i = start; i < end; i++) {
    const c = src[i];
    if (c === QUOTE) {
      const open = i;
      out[o++] = c;
      for (i++; ; i++) {
        const d = src[i];
        out[o++] = d;
        if (d === QUOTE) break;
        if (d === BACKSLASH) out[o++] = src[++i];
      }
      if (src[i + 1] === COLON && isIntegerLike(src, open + 1, i)) return -1;
    } else if (c === SPACE) {
      // jsonb's space after `,` and `:`
    } else if (c === MINUS || isDigit(c)) {
      let e = i + 1;
      let fraction = false;
      for (; e < end; e++) {
        const d = src[e];
        if (d === DOT) fraction = true;
        else if (!isDigit(d)) break;
      }
      // Up to 15 digits, an integer is a double exactly and JavaScript writes it as jsonb does.
      if ((fraction || e - i > 15) && !writtenAlike(src, i, e)) return -1;
      for (; i < e; i++) out[o++] = src[i];
      i--;
    } else {
      out[o++] = c;
    }
  }
  return o;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SPACE = 0x20;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= 0x39;
}

/** Whether JavaScript writes the number jsonb wrote from `start` to `end` (plain notation) alike. */
function writtenAlike(src: Uint8Array, start: number, end: number): boolean {
  // Most fractions go without a string: at most 15 significant digits, none of them a trailing zero,
  // and at least 1e-6. A double keeps 15 digits apart, so JavaScript's shortest text for it is those
  // digits, in plain notation from 1e-6 on.
  let i = src[start] === MINUS ? start + 1 : start;
  let significant = 0;
  let point = false;
  if (src[i] === ZERO && src[i + 1] === DOT) {
    point = true;
    i += 2;
    const firstZero = i;
    while (i < end && src[i] === ZERO) i++;
    if (i - firstZero > 5) return slowlyWrittenAlike(src, start, end);
  }
  for (; i < end; i++) {
    if (src[i] === DOT) point = true;
    else significant++;
  }
  if (point && significant <= 15 && src[end - 1] !== ZERO) return true;
  return slowlyWrittenAlike(src, start, end);
}

function slowlyWrittenAlike(src: Uint8Array, start: number, end: number): boolean {
  const token = String.fromCharCode.apply(null, src.subarray(start, end) as unknown as number[]);
  return String(Number(token)) === token;
}

/** A key of digits without a leading zero: one JavaScript may order first. */
function isIntegerLike(src: Uint8Array, start: number, end: number): boolean {
  if (end === start || (src[start] === ZERO && end - start > 1)) return false;
  for (let i = start; i < end; i++) if (!isDigit(src[i])) return false;
  return true;
}
