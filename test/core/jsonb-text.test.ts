import { Pool } from 'pg';
import { jsonbTextAsJson } from '../../src/postgres/jsonb-text';
import { databaseUrl } from '../support/database';

/** jsonb's text of each value, as PostgreSQL writes it. */
async function jsonbTexts(pool: Pool, values: string[]): Promise<string[]> {
  const { rows } = await pool.query('SELECT v::jsonb::text AS t FROM unnest($1::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i', [values]);
  return rows.map((r) => r.t);
}

describe('jsonb text as JSON.stringify writes it', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: databaseUrl(), max: 1 });
  });
  afterAll(() => pool.end());
  afterEach(() => jest.restoreAllMocks());

  it('gives the bytes of JSON.stringify(JSON.parse(text)), without parsing ordinary values', async () => {
    const ordinary = [
      '{}',
      '{"a": []}',
      '{"amount": 12.5, "note": "a, b: c", "n": -3, "big": 123456789012345, "f": 0.1}',
      String.raw`{"s": "quote \" backslash \\ end \\", "u": "\u00e9\u2028 😀", "c": "\u0001\u001f\t\n"}`,
      '{"nested": {"x": [{"y": [[null, true, false]]}], "zz": {"": ""}}, "01": "not an index"}',
    ];
    const texts = await jsonbTexts(pool, ordinary);
    const parse = jest.spyOn(JSON, 'parse');
    const compacted = texts.map(jsonbTextAsJson);
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
    expect(compacted).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
  });

  it('hands values jsonb writes otherwise than JavaScript to JSON.parse and JSON.stringify', async () => {
    const unusual = [
      '{"b": 1, "10": 2, "2": 3}', // integer-like keys: JavaScript orders them first
      '{"a": {"0": "x"}}',
      '{"n": 1.50}', // numeric keeps the scale
      '{"n": [1e-7, 0.0000001]}',
      '{"n": 1000000000000000000000}', // 1e+21 in JavaScript
      '{"n": 9007199254740993}', // not a double: refused by this store's writes, possible in rows written otherwise
      '{"n": 12345678901234567890.5}',
      '{"n": 1.5e300}',
    ];
    const texts = await jsonbTexts(pool, unusual);
    for (const text of texts) expect(jsonbTextAsJson(text)).toBe(JSON.stringify(JSON.parse(text)));
    expect(texts.map(jsonbTextAsJson)).toEqual([
      '{"2":3,"10":2,"b":1}',
      '{"a":{"0":"x"}}',
      '{"n":1.5}',
      '{"n":[1e-7,1e-7]}',
      '{"n":1e+21}',
      '{"n":9007199254740992}',
      '{"n":12345678901234567000}',
      '{"n":1.5e+300}',
    ]);
  });

  it('gives JSON.stringify(JSON.parse(text)) for scalars, signs, exponents, escapes and nested arrays', async () => {
    const values = [
      '1e100', '-1e100', '1E-100', '-0', '0.0', '1.0', '-1.50', '-0.5', '100', '1e2', '2.5e-5', '123456789012345678', '0.1000000000000000055511151231257827',
      '"s"', '""', 'null', 'true', 'false', '"\\u00e9 \\u0041 \\ud83d\\ude00 \\u001f \\u007f"', '"tab\\there, and: here"',
      '[]', '[[]]', '[[1, [2, [3, []]]], {}]', '[{"a": [{"b": {}}]}, [null]]', '{"a": {"b": {"c": {"d": [1.5, -2, "x"]}}}}',
    ];
    const texts = await jsonbTexts(pool, values);
    expect(texts.map(jsonbTextAsJson)).toEqual(texts.map((t) => JSON.stringify(JSON.parse(t))));
  });
});
