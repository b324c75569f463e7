import { Pool } from 'pg';
import { compactJsonbBytes } from '../../src/postgres/jsonb-bytes';
import { jsonbTextAsJson } from '../../src/postgres/jsonb-text';
import { databaseUrl } from '../support/database';

/** jsonb's text of each value, as PostgreSQL writes it. */
async function jsonbTexts(pool: Pool, values: string[]): Promise<string[]> {
  const { rows } = await pool.query('SELECT v::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i', [values]);
  return rows.map((r) => r.t);
}

/** compactJsonbBytes on the text's bytes, written after a few bytes already there: the JSON, or undefined when left to JSON.parse. */
function compacted(text: string): string | undefined {
  const src = Buffer.from(`xx${text}yy`);
  const out = Buffer.alloc(src.length + 3, '#');
  const end = compactJsonbBytes(src, 2, src.length - 2, out, 3);
  if (end === -1) return undefined;
  expect(out.subarray(0, 3).toString()).toBe('###');
  return out.toString('utf8', 3, end);
}

describe('jsonb bytes as JSON.stringify writes them', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: databaseUrl(), max: 1 });
  });
  afterAll(() => pool.end());

  it('writes ordinary values as JSON.stringify(JSON.parse(text)), multi-byte characters and escapes included', async () => {
    const texts = await jsonbTexts(pool, [
      '{}',
      '{"a": []}',
      '{"amount": 12.5, "note": "a, b: c", "n": -3, "big": 123456789012345, "f": 0.1, "rate": 1.25, "small": 0.000001, "neg": -0.5}',
      String.raw`{"s": "quote \" backslash \\ end \\", "u": "\u00e9\u2028 😀", "c": "\u0001\u001f\t\n"}`,
      '{"nested": {"x": [{"y": [[null, true, false]]}], "zz": {"": ""}}, "01": "not an index", "k: 1": "v, 2"}',
      '"s"', '""', 'null', 'true', '[]', '[[1, [2, [3, []]]], {}]', '123456789.123456', '-99999999999999.9',
    ]);
    expect(texts.map(compacted)).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
  });

  it('leaves to JSON.parse exactly the values jsonbTextAsJson does', async () => {
    const unusual = await jsonbTexts(pool, [
      '{"b": 1, "10": 2, "2": 3}',
      '{"a": {"0": "x"}}',
      '{"n": 1.50}',
      '{"n": [1e-7, 0.0000001]}',
      '{"n": 1000000000000000000000}',
      '{"n": 9007199254740993}',
      '{"n": 12345678901234567890.5}',
      '{"n": 1.5e300}',
      '{"n": 0.0}',
      '{"n": 0.1000000000000000055511151231257827}',
    ]);
    for (const text of unusual) expect(compacted(text)).toBeUndefined();
    // What jsonbTextAsJson (the same rules on text) gives for them is JSON.parse's and JSON.stringify's.
    for (const text of unusual) expect(jsonbTextAsJson(text)).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('writes every decimal it does not leave to JSON.parse as JavaScript does', async () => {
    // Decimals of every length and scale around the limits of the shortcut: 15 significant digits, 1e-6, trailing zeros.
    const decimals: string[] = [];
    for (let digits = 1; digits <= 18; digits++) {
      for (let scale = 0; scale <= 22; scale += 1) {
        const mantissa = '123456789987654321'.slice(0, digits);
        for (const m of [mantissa, `${mantissa.slice(0, -1)}0`, `9${'0'.repeat(digits - 1)}`]) {
          const text = scale === 0 ? m : m.length > scale ? `${m.slice(0, -scale)}.${m.slice(-scale)}` : `0.${m.padStart(scale, '0')}`;
          decimals.push(text, `-${text}`);
        }
      }
    }
    const texts = await jsonbTexts(pool, decimals.map((d) => `[${d}]`));
    let leftToParse = 0;
    for (const text of texts) {
      const written = compacted(text);
      if (written === undefined) leftToParse++;
      else expect({ text, written }).toEqual({ text, written: JSON.stringify(JSON.parse(text)) });
    }
    // Both ways are taken.
    expect(leftToParse).toBeGreaterThan(0);
    expect(leftToParse).toBeLessThan(texts.length);
  });
});
