import Fastify, { FastifyInstance } from 'fastify';
import { loadEntitySchema } from '../../event-store-server/schemas';
import { httpCall, serverFixture, ServerFixture } from './server-fixture';

/**
 * GET /entity/:type/:id answers from the events PostgreSQL packs into one text (packed-events.ts):
 * the same bytes as the store's objects through Fastify's serializer (as read-answers.test.ts holds
 * for the other reads), for what the packing and its one pass could get wrong.
 */
describe('loads from packed events', () => {
  let f: ServerFixture;
  let before: FastifyInstance;
  let beforeUrl: string;

  beforeAll(async () => {
    f = await serverFixture();
    before = Fastify();
    const s = f.store;
    before.get('/entity/:entityType/:entityId', { schema: { response: loadEntitySchema.response } }, (r: any) =>
      s.load(r.params.entityType, r.params.entityId, {
        useSnapshot: r.query.snapshot !== 'false',
        toVersion: r.query.toVersion === undefined ? undefined : Number(r.query.toVersion),
        asOf: r.query.asOf === undefined ? undefined : new Date(r.query.asOf),
      }),
    );
    beforeUrl = await before.listen({ port: 0, host: '127.0.0.1' });

    await s.create({ entityType: 'Packed', entityId: 'p:1@a', events: [{ eventType: 'Opened', eventData: { n: 1 } }] });
    await s.append({
      entityType: 'Packed',
      entityId: 'p:1@a',
      expectedVersion: 1,
      triggeringEventToken: 'tok\u0001 "q" \\ é',
      events: [
        { eventType: 'A', eventData: { '7': 'integer-like key', x: [1.5, 0.25, -3] }, metadata: { tags: ['a, b: c'], '3': 3 } },
        { eventType: 'B', eventData: { s: '\u2028 😀 \u001f \u001e' }, metadata: { r: 0.1 } },
        { eventType: 'C', eventData: {} },
      ],
    });
    await s.saveSnapshot('Packed', 'p:1@a', 4, { snapshotType: 'S', snapshotData: { at: 4 } });
    // What this store's writes refuse but rows written otherwise may hold: an event type JSON escapes,
    // times without a fraction, with trailing zeros dropped, and with microseconds.
    await f.db.pool.query(
      `UPDATE "${f.db.schema}".events SET event_type = E'We"ird\\\\\\x01', created_at = '2026-01-02 03:04:05+00' WHERE event_type = 'A';
       UPDATE "${f.db.schema}".events SET created_at = '2026-01-02 03:04:05.1+00' WHERE event_type = 'B';
       UPDATE "${f.db.schema}".events SET created_at = '2026-01-02 03:04:05.123999+00' WHERE event_type = 'C'`,
    );
    await s.create({ entityType: 'Packed', entityId: 'many', events: Array.from({ length: 300 }, (_, i) => ({ eventType: 'E', eventData: { i, f: i / 8 } })) });
  });
  afterAll(async () => {
    await before?.close();
    await f?.close();
  });

  it('answers with the bytes of the objects through Fastify', async () => {
    const paths = [
      '/entity/Packed/p:1@a', // from the snapshot at the last version: no events
      '/entity/Packed/p:1@a?snapshot=false',
      '/entity/Packed/p:1@a?toVersion=3',
      '/entity/Packed/p:1@a?asOf=2026-01-02T03:04:05.100Z',
      '/entity/Packed/many',
      '/entity/Packed/many?toVersion=1',
    ];
    for (const path of paths) {
      const [now, then] = await Promise.all([f.call('GET', path), httpCall(beforeUrl, 'GET', path)]);
      expect({ path, status: now.status, body: now.text }).toEqual({ path, status: 200, body: then.text });
    }
    const all = (await f.call('GET', '/entity/Packed/p:1@a?snapshot=false')).json();
    expect(all.events.map((e: any) => e.eventType)).toEqual(['Opened', 'We"ird\\\u0001', 'B', 'C']);
    expect(all.events[1].triggeringEventToken).toBe('tok\u0001 "q" \\ é');
    expect(all.events.map((e: any) => e.createdAt.slice(11))).toEqual([expect.any(String), '03:04:05.000Z', '03:04:05.100Z', '03:04:05.123Z']);
  });

  it('answers 404 for an entity not there, or not yet at asOf, as before', async () => {
    for (const path of ['/entity/Packed/none', '/entity/Packed/many?asOf=2000-01-01T00:00:00.000Z']) {
      expect((await f.call('GET', path)).status).toBe(404);
    }
  });
});
