/**
 * Append throughput of the event store over HTTP against bare PostgreSQL on the same machine.
 * Run: npm run bench -- append   (DATABASE_URL to use your own PostgreSQL)
 */
import { Pool } from 'pg';
import { PostgresEventStore } from '../src';
import { benchDatabase, report, requestJson, runFor, startServerProcess } from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 16;

async function bareInsertBaseline(connectionString: string): Promise<void> {
  const pool = new Pool({ connectionString, max: CONCURRENCY });
  await pool.query('DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, data jsonb)');
  const single = await runFor(SECONDS, CONCURRENCY, async () => {
    await pool.query('INSERT INTO bench_baseline (data) VALUES ($1)', ['{"n":1}']);
  });
  report('bare PostgreSQL: single-row INSERT+COMMIT, 16 connections', single / SECONDS, 'tx/s');
  const rows = Array.from({ length: 100 }, (_, i) => `{"n":${i}}`);
  const batches = await runFor(SECONDS, CONCURRENCY, async () => {
    await pool.query('INSERT INTO bench_baseline (data) SELECT unnest($1::jsonb[])', [rows]);
  });
  report('bare PostgreSQL: 100-row INSERT, 16 connections', (batches * 100) / SECONDS, 'rows/s');
  await pool.query('DROP TABLE bench_baseline');
  await pool.end();
}

async function post(url: string, body: unknown): Promise<any> {
  const answer = await requestJson('POST', url, body);
  if (answer.status >= 300) throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function directAppends(connectionString: string): Promise<void> {
  const store = await PostgresEventStore.connect({ connectionString, schema: `bench_direct_${Date.now()}` });
  const entities: Array<{ id: string; version: number }> = [];
  for (let w = 0; w < CONCURRENCY; w++) {
    const created = await store.create({ entityType: 'BenchAccount', events: [{ eventType: 'Opened', eventData: {} }] });
    entities.push({ id: created.entityId, version: created.entityVersion });
  }
  const appends = await runFor(SECONDS, CONCURRENCY, async (w) => {
    const entity = entities[w];
    const result = await store.append({
      entityType: 'BenchAccount',
      entityId: entity.id,
      expectedVersion: entity.version,
      events: [{ eventType: 'Deposited', eventData: { amount: 1, note: 'bench' } }],
    });
    entity.version = result.entityVersion;
  });
  report('PostgresEventStore in process: 1-event appends, 16 concurrent', appends / SECONDS, 'appends/s');
  await store.close();
}

async function httpAppends(url: string, eventsPerAppend: number, label: string, unit: 'appends/s' | 'events/s'): Promise<void> {
  const events = Array.from({ length: eventsPerAppend }, (_, i) => ({ eventType: 'Deposited', eventData: { amount: i, note: 'bench' } }));
  const entities: Array<{ id: string; version: number }> = [];
  for (let w = 0; w < CONCURRENCY; w++) {
    const created = await post(`${url}/entity/BenchAccount`, { events: [{ eventType: 'Opened', eventData: {} }] });
    entities.push({ id: created.entityId, version: created.entityVersion });
  }
  const appends = await runFor(SECONDS, CONCURRENCY, async (w) => {
    const entity = entities[w];
    const result = await post(`${url}/entity/BenchAccount/${entity.id}`, { entityVersion: entity.version, events });
    entity.version = result.entityVersion;
  });
  report(label, ((unit === 'events/s' ? eventsPerAppend : 1) * appends) / SECONDS, unit);
}

async function httpLoad(url: string): Promise<void> {
  const events = Array.from({ length: 1000 }, (_, i) => ({ eventType: 'Deposited', eventData: { amount: i, note: 'bench' } }));
  const { entityId } = await post(`${url}/entity/BenchBig`, { events });
  const loads = await runFor(SECONDS, 1, async () => {
    const { body } = await requestJson('GET', `${url}/entity/BenchBig/${entityId}?snapshot=false`);
    if (body.events.length !== 1000) throw new Error('short load');
  });
  report('HTTP: load a 1,000-event entity, 1 client', (SECONDS * 1000) / loads, 'ms each', `(${(loads / SECONDS).toFixed(0)}/s)`);
}

export async function appendThroughput(): Promise<void> {
  const db = await benchDatabase();
  try {
    await bareInsertBaseline(db.connectionString);
    await directAppends(db.connectionString);
    const server = await startServerProcess({ DATABASE_URL: db.connectionString, EVENTUATE_SCHEMA: `bench_${Date.now()}` });
    try {
      await httpAppends(server.url, 1, 'HTTP: 1-event appends, 16 concurrent clients', 'appends/s');
      await httpAppends(server.url, 100, 'HTTP: 100-event appends, 16 concurrent clients', 'events/s');
      await httpLoad(server.url);
    } finally {
      await server.stop();
    }
  } finally {
    await db.stop();
  }
}

if (require.main === module) {
  appendThroughput().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
