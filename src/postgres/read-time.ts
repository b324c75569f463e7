import { types } from 'pg';
import { EventStoreError } from '../errors';

/** node-postgres's own parser of timestamptz text: what every read's times went through before. */
const parseTimestamptz = types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

const SPACE = 0x20;
const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A time column read as `column AT TIME ZONE 'UTC'` (PostgreSQL writes it in DateStyle ISO, whatever
 * the session's time zone: `2026-11-24 06:15:30.129`, the fraction's trailing zeros dropped, up to
 * microseconds) as every read answers times: Date.toISOString's text, in milliseconds with `Z`.
 *
 * The common shape is sliced, which costs a fortieth of parsing a Date (measured: 30 µs against
 * 1.26 ms for 1,000 rows) and gives the same text: the milliseconds are cut, as node-postgres's Date
 * cut them (test/core/read-time.test.ts holds the two equal). Years past 9999 and BC (` BC` after
 * the fraction: hence the last character a digit) go through that same Date; a time no Date can
 * hold (infinity) or text of another DateStyle is an error that says so.
 */
export function utcTimestampAsIso(text: string): string {
  const n = text.length;
  if (
    n >= 19 &&
    n <= 26 &&
    n !== 20 &&
    text.charCodeAt(4) === DASH &&
    text.charCodeAt(7) === DASH &&
    text.charCodeAt(10) === SPACE &&
    text.charCodeAt(13) === COLON &&
    text.charCodeAt(16) === COLON &&
    (n === 19 || (text.charCodeAt(19) === DOT && isDigit(text.charCodeAt(n - 1))))
  ) {
    const millis = n === 19 ? '000' : n >= 23 ? text.slice(20, 23) : text.slice(20).padEnd(3, '0');
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${millis}Z`;
  }
  // As PostgreSQL writes a timestamptz in UTC: the zone before the era (`0044-03-15 12:00:00+00 BC`).
  const bc = text.endsWith(' BC');
  const date = parseTimestamptz(bc ? `${text.slice(0, -3)}+00 BC` : `${text}+00`);
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new EventStoreError(
      'internal_error',
      `PostgreSQL wrote the time '${text}', which is not an ISO time a JavaScript Date can hold: ` +
        `set the database's DateStyle to ISO, and keep times finite`,
    );
  }
  return date.toISOString();
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}
