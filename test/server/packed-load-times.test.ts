import { serverFixture, ServerFixture } from './server-fixture';

/**
 * The times of a load's packed events are written from their bytes (read-time.ts's
 * writeUtcTimestampAsIso); those not of the common shape go through utcTimestampAsIso's Date, and
 * must come out as every other read gives them: here beside the history's, which reads rows.
 */
describe('times of packed loads', () => {
  let f: ServerFixture;

  beforeAll(async () => {
    f = await serverFixture();
    await f.store.create({ entityType: 'PackedTime', entityId: 't', events: ['A', 'B', 'C', 'D'].map((eventType) => ({ eventType, eventData: {} })) });
    await f.db.pool.query(
      `UPDATE "${f.db.schema}".events SET created_at = CASE event_type
         WHEN 'A' THEN '10000-01-01 00:00:00+00'::timestamptz
         WHEN 'B' THEN '275760-09-13 00:00:00+00'
         WHEN 'C' THEN '0044-03-15 12:00:00.25+00 BC'
         ELSE '1999-12-31 23:59:59.99+00' END
       WHERE entity_type = 'PackedTime'`,
    );
  });
  afterAll(() => f?.close());

  it('writes years past 9999 and BC as Date.toISOString does, as the other reads do', async () => {
    const loaded = (await f.call('GET', '/entity/PackedTime/t')).json();
    const history = (await f.call('GET', '/entity/PackedTime/t/history')).json();
    expect(loaded.events.map((e: any) => e.createdAt)).toEqual([
      '+010000-01-01T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '-000043-03-15T12:00:00.250Z',
      '1999-12-31T23:59:59.990Z',
    ]);
    expect(loaded.events.map((e: any) => e.createdAt)).toEqual(history.events.map((e: any) => e.createdAt));
  });
});
