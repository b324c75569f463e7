import { createEntity, event, serverFixture, ServerFixture } from './server-fixture';

describe('concurrent appends over HTTP', () => {
  let f: ServerFixture;
  beforeAll(async () => {
    f = await serverFixture();
  });
  afterAll(() => f.close());

  it('lets exactly one of 20 appends at the same version win; the others get optimistic_lock_error; no gap', async () => {
    await createEntity(f, 'Account', 'contested');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => f.call('POST', '/entity/Account/contested', { entityVersion: 1, events: [event('Debited', { writer: i })] })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const loser of responses.filter((r) => r.status === 409)) {
      expect(loser.json()).toMatchObject({ error: 'optimistic_lock_error', expectedVersion: 1, actualVersion: 2 });
    }

    const { rows } = await f.db.pool.query(`SELECT entity_version FROM "${f.db.schema}".events WHERE entity_id = 'contested' ORDER BY entity_version`);
    expect(rows.map((r) => r.entity_version)).toEqual([1, 2]);
    const winner = responses.find((r) => r.status === 200)!.json();
    const history = (await f.call('GET', '/entity/Account/contested/history')).json();
    expect(history.events[1].eventId).toBe(winner.eventIds[0]);
  });
});
