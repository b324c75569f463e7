import Ajv from 'ajv';
import Fastify, { FastifyInstance } from 'fastify';
import { InMemoryEventStore } from '../../src/memory/in-memory-event-store';
import { buildApp } from '../../event-store-server/app';
import { getEventSchema, historySchema, loadEntitySchema, readFeedSchema } from '../../event-store-server/schemas';
import { httpCall, serverFixture, ServerFixture } from './server-fixture';

/**
 * The reads that carry events answer with text the server writes from the store's JSON text
 * (read-answers.ts). Before, Fastify serialized the objects node-postgres parsed, by the response
 * schemas: `before` below is that path, kept as it was, and every answer must be the same bytes.
 */

/** Values whose JSON jsonb writes otherwise than JavaScript (spacing, numbers, key order), or that are easy to get wrong. */
const TRICKY_BODY = `{
  "10": "integer-like keys go first in JavaScript", "2": 2, "b": {"z": 1, "a": 2, "": 3, "01": "not an index"},
  "numbers": [1.50, 1e2, 0.0000001, 1000000000000000000000, -0, 1.5e300, 5e-324, 0.1, -12.25, 123456789012345, 9007199254740991],
  "strings": ["a, b: c", "quote \\" and backslash \\\\", "ends in a backslash \\\\", "\\u00e9\\u2028\\ud83d\\ude00 é", "\\u0001\\u001f\\t\\n\\r\\b\\f", "/ \\/"],
  "empty": {"o": {}, "a": [], "s": ""}, "deep": {"a": [{"b": [[{"c": null}]]}, true, false]}
}`;

/** Schema-valid for every 200 the new path gives. */
const ajv = new Ajv({ strict: false });
const valid = (schema: unknown, body: string) => {
  const validate = ajv.compile(schema as object);
  if (!validate(JSON.parse(body))) throw new Error(`not valid against the response schema: ${ajv.errorsText(validate.errors)}`);
};

describe('reads that pass JSON through', () => {
  let f: ServerFixture;
  let before: FastifyInstance;
  let beforeUrl: string;
  let eventIds: string[];

  beforeAll(async () => {
    f = await serverFixture();
    // Today's answers, as they were made: the store's objects through Fastify's serializer and the same schemas.
    before = Fastify();
    const s = f.store;
    before.get('/entity/:entityType/:entityId', { schema: { response: loadEntitySchema.response } }, (r: any) =>
      s.load(r.params.entityType, r.params.entityId, { useSnapshot: r.query.snapshot !== 'false' }),
    );
    before.get('/entity/:entityType/:entityId/history', { schema: { response: historySchema.response } }, (r: any) =>
      s.history(r.params.entityType, r.params.entityId),
    );
    before.get('/events/:eventId', { schema: { response: getEventSchema.response } }, (r: any) => s.getEvent(r.params.eventId));
    before.get('/events', { schema: { response: readFeedSchema.response } }, (r: any) => s.readFeed({ after: r.query.after }));
    beforeUrl = await before.listen({ port: 0, host: '127.0.0.1' });

    const created = await f.call('POST', '/entity/Tricky', `{"entityId":"t-1","events":[{"eventType":"Odd","eventData":${TRICKY_BODY},"metadata":${TRICKY_BODY}}]}`, {
      'content-type': 'application/json',
    });
    expect(created.status).toBe(201);
    const appended = await f.call('POST', '/entity/Tricky/t-1', {
      entityVersion: 1,
      triggeringEventToken: 'token, with: "quotes"',
      events: [{ eventType: 'Plain', eventData: { amount: 12.5, note: 'plain' } }, { eventType: 'Empty', eventData: {} }],
      snapshot: { snapshotType: 'Tricky', snapshotData: JSON.parse(TRICKY_BODY) },
    });
    expect(appended.status).toBe(200);
    eventIds = [...created.json().eventIds, ...appended.json().eventIds];
    // What this store's writes refuse but a row written by other means (or by an older version) may hold,
    // and a time written with microseconds (before times were kept in milliseconds).
    await f.db.pool.query(
      `UPDATE "${f.db.schema}".events SET event_data = '{"inexact": 9007199254740993, "long": 12345678901234567890.5}',
         created_at = '2026-01-02 03:04:05.123999+00' WHERE event_type = 'Empty'`,
    );
  });
  afterAll(async () => {
    await before?.close();
    await f?.close();
  });

  const paths = () => [
    '/entity/Tricky/t-1',
    '/entity/Tricky/t-1?snapshot=false',
    '/entity/Tricky/t-1/history',
    ...eventIds.map((id) => `/events/${id}`),
    '/events',
  ];

  it('answers with the same bytes as the objects through Fastify gave, and content type', async () => {
    for (const path of paths()) {
      const [now, then] = await Promise.all([f.call('GET', path), httpCall(beforeUrl, 'GET', path)]);
      expect({ path, status: now.status, body: now.text }).toEqual({ path, status: 200, body: then.text });
      expect(now.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
    // The values are the stored ones, with the objects' normalization: what a client always read.
    const history = (await f.call('GET', '/entity/Tricky/t-1/history')).json();
    expect(history.events[0].eventData.strings).toEqual(JSON.parse(TRICKY_BODY).strings);
    expect(history.events[0].eventData.numbers).toEqual([1.5, 100, 1e-7, 1e21, 0, 1.5e300, 5e-324, 0.1, -12.25, 123456789012345, 9007199254740991]);
    expect(history.events[1].triggeringEventToken).toBe('token, with: "quotes"');
    expect(history.events[2].createdAt).toBe('2026-01-02T03:04:05.123Z');
  });

  it('gives the feed through the tail (long poll, window, stream) in the same bytes', async () => {
    const all = await httpCall(beforeUrl, 'GET', '/events');
    const expected = JSON.parse(all.text);
    // A long poll is answered by the tail (its window once it follows the feed); the first read starts it.
    const viaTail = await f.call('GET', '/events?waitMs=1000');
    expect(viaTail.text).toBe(all.text);
    const again = await f.call('GET', '/events?waitMs=1000');
    expect(again.text).toBe(all.text);
    const res = await fetch(`${f.url}/events/stream`);
    const reader = res.body!.getReader();
    let sse = '';
    // SSE lines end at \n only (U+2028 in the data is no line end there, as it is in a RegExp).
    const dataLines = () => sse.split('\n').filter((line) => line.startsWith('data: '));
    while (dataLines().length < expected.events.length) sse += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = dataLines().map((line) => line.slice('data: '.length));
    // Each event's text is the one the feed page gives (the members in the schema's order).
    expect(`{"events":[${data.join(',')}],"cursor":${JSON.stringify(expected.cursor)}}`).toBe(all.text);
  });

  it('answers within the OpenAPI response schemas', async () => {
    const schemaOf: Array<[RegExp, unknown]> = [
      [/^\/entity\/[^/]+\/[^/?]+(\?.*)?$/, loadEntitySchema.response[200]],
      [/\/history$/, historySchema.response[200]],
      [/^\/events\/[0-9a-f-]{36}$/, getEventSchema.response[200]],
      [/^\/events$/, readFeedSchema.response[200]],
    ];
    for (const path of paths()) {
      const [, schema] = schemaOf.find(([pattern]) => pattern.test(path))!;
      valid(schema, (await f.call('GET', path)).text);
    }
  });
});

describe('reads that pass JSON through, on a store that reads objects', () => {
  it('answers an in-memory store in the same format', async () => {
    const store = new InMemoryEventStore();
    const app = buildApp({ store, defaultMetrics: false });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const { eventIds } = await store.create({ entityType: 'M', entityId: 'm-1', events: [{ eventType: 'E', eventData: { '10': 1, a: [1.5] } }] });
      const [stored] = (await store.load('M', 'm-1')).events;
      const res = await httpCall(url, 'GET', `/events/${eventIds[0]}`);
      expect(res.text).toBe(
        `{"eventId":"${stored.eventId}","entityType":"M","entityId":"m-1","entityVersion":1,"eventType":"E",` +
          `"eventData":{"10":1,"a":[1.5]},"metadata":{},"createdAt":"${stored.createdAt}"}`,
      );
      valid(getEventSchema.response[200], res.text);
    } finally {
      await app.close();
    }
  });
});
