import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { buildApp } from '../../event-store-server/app';
import { sharedBuffersMb } from '../../event-store-server/embedded-postgres';
import { Child, startPostgresProcess } from './child-process';
import { event, httpCall } from './server-fixture';

/** A PostgreSQL of its own, so the test can stop and restart it without disturbing the other test files. */
describe('when the database goes away', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-down-'));
  let pg: { child: Child; connectionString: string; port: number };
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    pg = await startPostgresProcess(dataDir);
    const store = await PostgresEventStore.connect({ connectionString: pg.connectionString, poolSize: 5 });
    app = buildApp({ store, defaultMetrics: false });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await pg?.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the embedded PostgreSQL runs with the store\'s settings, and the caller\'s flags beside them', async () => {
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: pg.connectionString, max: 1 });
    try {
      // max_wal_size and shared_buffers: see DEFAULT_SETTINGS in embedded-postgres.ts; fsync: postgres-process.ts's own flag.
      const settings = await pool.query(`SELECT name, setting, unit FROM pg_settings WHERE name IN ('max_wal_size', 'fsync', 'shared_buffers') ORDER BY name`);
      expect(settings.rows).toEqual([
        { name: 'fsync', setting: 'off', unit: null },
        { name: 'max_wal_size', setting: '8192', unit: 'MB' },
        { name: 'shared_buffers', setting: String((sharedBuffersMb() * 1024) / 8), unit: '8kB' },
      ]);
    } finally {
      await pool.end();
    }
  });

  it('gives shared_buffers a quarter of the memory, from PostgreSQL\'s default of 128 MB up to 1 GB', () => {
    const GB = 2 ** 30;
    expect([0.25, 0.5, 2, 3, 4, 24].map((gb) => sharedBuffersMb(gb * GB))).toEqual([128, 128, 512, 768, 1024, 1024]);
  });

  it('answers 503 service_unavailable, then recovers when it comes back', async () => {
    const created = await httpCall(url, 'POST', '/entity/Account', { entityId: 'a-1', events: [event('Opened')] });
    expect(created.status).toBe(201);

    expect(await pg.child.stop()).toBe(0);

    const append = await httpCall(url, 'POST', '/entity/Account/a-1', { entityVersion: 1, events: [event('Debited')] });
    expect(append.status).toBe(503);
    expect(append.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(append.json()).toMatchObject({ error: 'service_unavailable', status: 503 });
    const ready = await httpCall(url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.json().error).toBe('service_unavailable');
    const read = await httpCall(url, 'GET', '/entity/Account/a-1');
    expect(read.status).toBe(503);
    // The driver's "connect ECONNREFUSED 127.0.0.1:PORT" goes to the log, not to callers (/ready is open to anyone).
    for (const res of [append, ready, read]) {
      expect(res.text).not.toContain(String(pg.port));
      expect(res.text).not.toContain('ECONNREFUSED');
    }
    expect((await httpCall(url, 'GET', '/health')).status).toBe(200);

    pg = await startPostgresProcess(dataDir, pg.port);

    expect((await httpCall(url, 'GET', '/ready')).status).toBe(200);
    const retried = await httpCall(url, 'POST', '/entity/Account/a-1', { entityVersion: 1, events: [event('Debited')] });
    expect(retried.status).toBe(200);
    expect(retried.json().entityVersion).toBe(2);
    const history = (await httpCall(url, 'GET', '/entity/Account/a-1/history')).json();
    expect(history.events.map((e: any) => e.eventType)).toEqual(['Opened', 'Debited']);
  }, 120_000);
});
