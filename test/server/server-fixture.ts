import type { FastifyInstance } from 'fastify';
import { PostgresEventStore, PostgresEventStoreOptions } from '../../src/postgres/postgres-event-store';
import { AppOptions, buildApp } from '../../event-store-server/app';
import type { ServerStore } from '../../event-store-server/server-store';
import { scratchDatabase, testDatabase, TestDatabase } from '../support/database';

export interface ServerFixture {
  db: TestDatabase;
  store: PostgresEventStore;
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  /** A request over HTTP to the app; `body` objects are sent as JSON, strings as they are. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpResponse>;
  /** Row counts of the store's three tables. */
  tableCounts(): Promise<{ events: number; entities: number; snapshots: number }>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Store settings beyond the connection. */
  store?: Omit<PostgresEventStoreOptions, 'connectionString' | 'schema'>;
  /**
   * A database of its own rather than a schema in the shared one: for feed timings, which other
   * test files' open transactions in the shared database would hold back.
   */
  ownDatabase?: boolean;
  /** Puts something between the app and the store (e.g. to count its calls). */
  serveStore?: (store: PostgresEventStore) => ServerStore;
}

/** A real PostgresEventStore in a schema of its own, served by a fresh app listening on a free port. */
export async function serverFixture(options: Omit<AppOptions, 'store'> = {}, fixture: FixtureOptions = {}): Promise<ServerFixture> {
  const own = fixture.ownDatabase ? await scratchDatabase('srv') : undefined;
  const db = testDatabase('srv', own?.connectionString);
  const store = await PostgresEventStore.connect({ poolSize: 30, ...fixture.store, connectionString: db.connectionString, schema: db.schema });
  const app = buildApp({ store: fixture.serveStore?.(store) ?? store, defaultMetrics: false, ...options });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    db,
    store,
    app,
    url,
    call: (method, path, body, headers) => httpCall(url, method, path, body, headers),
    async tableCounts() {
      const { rows } = await db.pool.query(
        `SELECT (SELECT count(*) FROM "${db.schema}".events)::int AS events,
                (SELECT count(*) FROM "${db.schema}".entities)::int AS entities,
                (SELECT count(*) FROM "${db.schema}".snapshots)::int AS snapshots`,
      );
      return rows[0];
    },
    async close() {
      await app.close();
      await db.drop();
      await own?.drop();
    },
  };
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body (throws if it is not JSON). */
  json(): any;
}

// Requests go over real HTTP, as a client's do (sockets, keep-alive, the server's timeouts), rather than Fastify's inject().
export async function httpCall(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export function event(eventType = 'Happened', eventData: Record<string, unknown> = { n: 1 }) {
  return { eventType, eventData };
}

export async function createEntity(f: Pick<ServerFixture, 'call'>, entityType: string, entityId: string, count = 1) {
  const res = await f.call('POST', `/entity/${entityType}`, { entityId, events: Array.from({ length: count }, (_, i) => event('Happened', { i })) });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json();
}

/** Every event after `after`, by plain reads (no waiting), and the cursor at the end of the feed. */
export async function readToEnd(f: Pick<ServerFixture, 'call'>, after = ''): Promise<{ events: any[]; cursor: string }> {
  const events: any[] = [];
  let cursor = after;
  for (;;) {
    const res = await f.call('GET', `/events?limit=1000&after=${cursor}`);
    if (res.status !== 200) throw new Error(`GET /events: ${res.status} ${res.text}`);
    const page = res.json();
    if (page.events.length === 0) return { events, cursor: page.cursor };
    events.push(...page.events);
    cursor = page.cursor;
  }
}
