import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { buildApp } from '../../event-store-server/app';
import { testDatabase, TestDatabase } from '../support/database';
import { httpCall } from './server-fixture';
import { SseClient } from './sse-client';

/**
 * Every event below is larger than a response's write buffer, and each is appended on its own once
 * the stream has the one before, so each reaches the stream as a page of its own whose write waits
 * for 'drain'. That wait must leave no listener behind: one per drain reached thousands on a long stream.
 */
describe('an SSE stream under backpressure', () => {
  const EVENTS = 120;
  let db: TestDatabase;
  let app: FastifyInstance;
  let url: string;
  const streams: ServerResponse[] = [];
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    db = testDatabase('ssebp');
    const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    app = buildApp({ store, defaultMetrics: false, heartbeatMs: 300 });
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/events/stream')) streams.push(reply.raw);
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    process.on('warning', onWarning);
  });

  afterAll(async () => {
    process.off('warning', onWarning);
    await app.close();
    await db.drop();
  });

  it('delivers every event and leaves no listener behind on the response', async () => {
    const client = new SseClient(`${url}/events/stream`);
    try {
      await client.until(() => streams.length === 1, 'the stream');
      const [response] = streams;
      let drains = 0;
      response.on('drain', () => drains++);
      const padding = 'x'.repeat(40 * 1024);
      for (let n = 0; n < EVENTS; n++) {
        expect((await httpCall(url, 'POST', '/entity/Big', { events: [{ eventType: 'Big', eventData: { n, padding } }] })).status).toBe(201);
        await client.until(() => client.messages.length > n, `event ${n}`, 30_000);
      }

      expect(client.messages.map((m) => JSON.parse(m.data).eventData.n)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
      // The waits did happen, so the count below is not trivially small...
      expect(drains).toBeGreaterThanOrEqual(EVENTS / 2);
      // ...and what remains is the server's own (the request's lifetime, Fastify's, at most one wait in progress), not one per drain.
      expect(response.listenerCount('close')).toBeLessThanOrEqual(3);
      expect(response.listenerCount('drain')).toBeLessThanOrEqual(2);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      client.close();
    }
  });
});
