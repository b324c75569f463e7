import { Pool } from 'pg';
import { utcTimestampAsIso, writeUtcTimestampAsIso } from '../../src/postgres/read-time';
import { databaseUrl } from '../support/database';

/**
 * Reads select times `AT TIME ZONE 'UTC'` and slice PostgreSQL's text into Date.toISOString's; before,
 * node-postgres parsed the timestamptz into a Date and toISOString wrote it. The two must agree on
 * every time PostgreSQL can give.
 */
describe('times read as ISO text', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ connectionString: databaseUrl(), max: 1 });
  });
  afterAll(() => pool.end());

  /** Each time as the reads now make it, and as node-postgres's Date made it. */
  async function bothWays(times: string[], timeZone: string): Promise<Array<{ sliced: string; dated: string }>> {
    const client = await pool.connect();
    try {
      await client.query(`SET TIME ZONE '${timeZone}'`);
      const { rows } = await client.query({
        text: `SELECT (t AT TIME ZONE 'UTC')::text AS utc, t AS tz FROM unnest($1::timestamptz[]) WITH ORDINALITY AS u(t, i) ORDER BY i`,
        values: [times],
      });
      return rows.map((r) => ({ sliced: utcTimestampAsIso(r.utc), dated: (r.tz as Date).toISOString() }));
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
  }

  const times = [
    '2026-11-24 06:15:30+00', // no fraction
    '2026-11-24 06:15:30.1+00',
    '2026-11-24 06:15:30.12+00',
    '2026-11-24 06:15:30.123+00',
    '2026-11-24 06:15:30.1234+00',
    '2026-11-24 06:15:30.123999+00', // microseconds are cut, not rounded
    '2026-11-24 06:15:30.999999+00',
    '2026-12-31 23:59:59.999+00',
    '2024-02-29 00:00:00.5+05:30',
    '1970-01-01 00:00:00+00',
    '0099-06-01 12:00:00.25+00', // two-digit year, written with four
    '10000-01-01 00:00:00.5+00', // past 9999: +010000 in toISOString
    '0044-03-15 12:00:00+00 BC',
    '0044-03-15 12:00:00.5+00 BC', // BC after a fraction
    '0044-03-15 12:00:00.25+00 BC',
    '0044-03-15 12:00:00.123+00 BC',
    '0044-03-15 12:00:00.1234+00 BC',
    ...Array.from({ length: 1000 }, (_, ms) => `2026-01-02 03:04:05.${String(ms).padStart(3, '0')}+00`),
  ];

  it('gives the text Date.toISOString gave, for every fraction PostgreSQL writes and in any session time zone', async () => {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns']) {
      const got = await bothWays(times, zone);
      expect(got.map((g) => g.sliced)).toEqual(got.map((g) => g.dated));
    }
    expect((await bothWays(['10000-01-01 00:00:00.5+00', '0044-03-15 12:00:00+00 BC'], 'UTC')).map((g) => g.sliced)).toEqual([
      '+010000-01-01T00:00:00.500Z',
      '-000043-03-15T12:00:00.000Z',
    ]);
  });

  it('writes the same text from bytes, with room enough for the text and 8 bytes more', async () => {
    // Beside those, the texts Date.toISOString writes most longer: a five-digit year without a fraction
    // (7 bytes more), the latest time a Date holds and the earliest PostgreSQL does.
    const { rows } = await pool.query({
      text: `SELECT (t AT TIME ZONE 'UTC')::text AS utc FROM unnest($1::timestamptz[]) WITH ORDINALITY AS u(t, i) ORDER BY i`,
      values: [[...times, '10000-01-01 00:00:00+00', '275760-09-13 00:00:00+00', '4714-11-24 00:00:00+00 BC']],
    });
    for (const { utc } of rows as Array<{ utc: string }>) {
      // Between other bytes, in a buffer with just that room.
      const src = Buffer.from(`\x1f${utc}\x1e`);
      const out = new Uint8Array(2 + utc.length + 8);
      const end = writeUtcTimestampAsIso(src, 1, src.length - 1, out, 2);
      expect({ utc, iso: Buffer.from(out.subarray(2, end)).toString('latin1') }).toEqual({ utc, iso: utcTimestampAsIso(utc) });
    }
    expect(() => writeUtcTimestampAsIso(Buffer.from('infinity'), 0, 8, new Uint8Array(16), 0)).toThrow(/'infinity'.*keep times finite/);
  });

  it('refuses by name a time no Date holds and text of another DateStyle', async () => {
    expect(() => utcTimestampAsIso('infinity')).toThrow(/'infinity'.*DateStyle to ISO, and keep times finite/);
    const client = await pool.connect();
    try {
      await client.query("SET DateStyle = 'SQL, DMY'");
      const { rows } = await client.query(`SELECT ('2026-11-24 06:15:30.5+00'::timestamptz AT TIME ZONE 'UTC')::text AS utc`);
      expect(() => utcTimestampAsIso(rows[0].utc)).toThrow(/DateStyle to ISO/);
    } finally {
      await client.query('RESET DateStyle');
      client.release();
    }
  });
});
