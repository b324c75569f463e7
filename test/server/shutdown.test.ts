import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import type { AppendEventsRequest, AppendResult } from '../../src/model';
import { buildApp } from '../../event-store-server/app';
import { testDatabase, TestDatabase } from '../support/database';
import { createEntity, event, httpCall } from './server-fixture';
import { SseClient } from './sse-client';

/** The real store, with appends held at a gate until the test opens it. */
class GatedStore extends PostgresEventStore {
  entered!: Promise<void>;
  private signalEntered!: () => void;
  private gate!: Promise<void>;
  open!: () => void;

  hold(): void {
    this.entered = new Promise((resolve) => (this.signalEntered = resolve));
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  override async append(request: AppendEventsRequest): Promise<AppendResult> {
    this.signalEntered?.();
    await this.gate;
    return super.append(request);
  }
}

async function untilRefused(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const refused = await fetch(`${url}/health`).then(
      (res) => res.status === 503,
      () => true,
    );
    if (refused) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the server kept accepting requests after close()');
}

describe('graceful shutdown', () => {
  let db: TestDatabase;
  beforeAll(() => {
    db = testDatabase('shut');
  });
  afterAll(() => db.drop());

  it('stops accepting, lets an in-flight append finish, then closes the store', async () => {
    const store = new GatedStore({ connectionString: db.connectionString, schema: db.schema });
    await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema }).then((s) => s.close()); // migrate
    const app = buildApp({ store, defaultMetrics: false });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await createEntity({ call: (m, p, b, h) => httpCall(url, m, p, b, h) }, 'Account', 'a-1');

    store.hold();
    const append = httpCall(url, 'POST', '/entity/Account/a-1', { entityVersion: 1, events: [event('Debited')] });
    await store.entered;
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await untilRefused(url);
    expect(closed).toBe(false);

    store.open();
    const res = await append;
    expect(res.status).toBe(200);
    expect(res.json().entityVersion).toBe(2);
    await closing;
    await expect(store.ping()).rejects.toThrow();
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
    expect(rows[0].n).toBe(2);
  });

  it('ends long polls and event streams so that closing is not held up', async () => {
    // A store of its own, with no events: the other tests' events, committed but perhaps still behind
    // the feed's horizon when the head was read, would otherwise reach the poll before the close.
    const empty = testDatabase('shutdownpoll');
    const store = await PostgresEventStore.connect({ connectionString: empty.connectionString, schema: empty.schema });
    const app = buildApp({ store, defaultMetrics: false });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const head = (await httpCall(url, 'GET', '/events?limit=1000')).json().cursor;
      const poll = httpCall(url, 'GET', `/events?after=${head}&waitMs=30000`);
      const stream = new SseClient(`${url}/events/stream?after=${head}`);
      await stream.until(() => stream.response !== undefined, 'the stream');
      await new Promise((r) => setTimeout(r, 200));

      await app.close();
      expect((await poll).json()).toEqual({ events: [], cursor: head });
      await stream.until(() => stream.response!.complete, 'the stream to end');
    } finally {
      await app.close();
      await empty.drop();
    }
  });
});
