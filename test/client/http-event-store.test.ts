import { createServer } from 'node:http';
import { PostgresEventStore, ServiceUnavailableError } from '../../src';
import { buildApp } from '../../event-store-server';
import { HttpEventStore } from '../../client/http-event-store';
import { scratchDatabase, testDatabase } from '../support/database';
import { eventStoreContract } from '../support/event-store-contract';

eventStoreContract('HttpEventStore against the server on PostgreSQL', async ({ feedFallbackPollMs }) => {
  const db = await scratchDatabase('httpcontract');
  const backing = await PostgresEventStore.connect({ connectionString: db.connectionString });
  // The server's feed tail, not the store's long poll, serves waiting reads: the fallback poll is the tail's.
  const app = buildApp({ store: backing, defaultMetrics: false, feedFallbackPollMs });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const store = new HttpEventStore({ url });
  return {
    store,
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
});

describe('HttpEventStore retries', () => {
  it('retries a create through a 503 with the same ids, writing it once', async () => {
    const db = testDatabase('httpretry');
    const backing = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });
    const app = buildApp({ store: backing, defaultMetrics: false });
    await app.ready();
    // A flaky proxy: the first request reaches the server but its answer is replaced by a 503.
    let requests = 0;
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await app.inject({ method: req.method as 'POST', url: req.url!, headers: req.headers, payload: Buffer.concat(chunks) });
      requests += 1;
      if (requests === 1) {
        res.writeHead(503, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ error: 'service_unavailable', status: 503, detail: 'flaky' }));
        return;
      }
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] as string });
      res.end(answer.body);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const store = new HttpEventStore({ url: `http://127.0.0.1:${port}` });
      const created = await store.create({ entityType: 'Flaky', events: [{ eventType: 'Made', eventData: {} }] });
      expect(requests).toBe(2);
      expect(created.entityVersion).toBe(1);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
      expect(rows[0].n).toBe(1);
      // The retry was answered from the stored rows: the cursor is the event's place in the feed.
      expect((await store.readFeed()).events.map((e) => e.cursor)).toEqual([created.cursor]);
    } finally {
      proxy.close();
      await app.close();
      await db.drop();
    }
  });

  it("names a server of an earlier version (write answers without a cursor, no GET /events/end) instead of passing its answers on", async () => {
    // What a server before cursors answered: a write without `cursor`, and /events/end taken for an event id.
    const older = createServer((req, res) => {
      req.resume();
      if (req.method === 'GET' && req.url === '/events/end') {
        res.writeHead(400, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ error: 'validation_error', status: 400, detail: 'params/eventId must match pattern', field: 'params/eventId' }));
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ entityType: 'Old', entityId: 'o-1', entityVersion: 1, eventIds: ['5f0c6d52-1d7e-4d59-9a3c-0b3c4d2e1f00'] }));
    });
    await new Promise<void>((r) => older.listen(0, '127.0.0.1', r));
    try {
      const store = new HttpEventStore({ url: `http://127.0.0.1:${(older.address() as { port: number }).port}` });
      await expect(store.create({ entityType: 'Old', entityId: 'o-1', events: [{ eventType: 'Made', eventData: {} }] })).rejects.toThrow(
        /Old o-1, version 1\) without its feed cursor: the server is of an earlier version. The write was made/,
      );
      await expect(store.readFeedEnd()).rejects.toThrow(/has no GET \/events\/end: the server is of an earlier version/);
    } finally {
      older.close();
    }
  });

  it('gives up with ServiceUnavailableError when nothing listens', async () => {
    const store = new HttpEventStore({ url: 'http://127.0.0.1:1', retries: 1 });
    await expect(store.listEntityTypes()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
