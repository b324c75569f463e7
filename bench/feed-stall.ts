/**
 * How long an append takes to reach a feed reader while a transaction of ANOTHER database of the
 * same cluster stays open for 10 s (an analytics job, a forgotten psql session): the feed's horizon
 * should depend on this database's transactions only. Also the cost of a feed read at the end of
 * the feed, with and without such a transaction (the horizon then looks up who owns it).
 */
import { Client } from 'pg';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { benchDatabase } from './support';

const HOLD_MS = 10_000;
const TRIALS = 3;
const READS = 2000;

async function main(): Promise<void> {
  const db = await benchDatabase();
  const elsewhere = `bench_elsewhere_${Date.now()}`;
  const admin = new Client({ connectionString: db.connectionString });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${elsewhere}`);
  const elsewhereUrl = new URL(db.connectionString);
  elsewhereUrl.pathname = `/${elsewhere}`;
  const schema = `bench_stall_${Date.now()}`;
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema });
  try {
    let cursor = (await store.readFeed({ limit: 1000 })).cursor;
    const delays: number[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const other = new Client({ connectionString: elsewhereUrl.toString() });
      await other.connect();
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()');
      const ended = new Promise<void>((resolve) => setTimeout(() => void other.query('ROLLBACK').then(() => other.end()).then(resolve), HOLD_MS));
      await new Promise((r) => setTimeout(r, 500));
      await store.create({ entityType: 'Stalled', events: [{ eventType: 'Written', eventData: { trial } }] });
      const appendedAt = Date.now(); // committed
      for (;;) {
        const page = await store.readFeed({ after: cursor, waitMs: HOLD_MS * 2, entityTypes: ['Stalled'] });
        cursor = page.cursor;
        if (page.events.length > 0) break;
      }
      delays.push(Date.now() - appendedAt);
      await ended;
    }
    console.log(`commit -> feed reader while another database's transaction stays open ${HOLD_MS / 1000} s: ${delays.map((d) => `${d} ms`).join(', ')}`);

    const readCost = async (label: string) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < READS; i++) await store.readFeed({ after: cursor, entityTypes: ['Stalled'] });
      const micros = Number(process.hrtime.bigint() - started) / 1000 / READS;
      console.log(`feed read at the end of the feed, ${label}: ${Math.round(micros)} µs`);
    };
    await readCost('no transaction open');
    const other = new Client({ connectionString: elsewhereUrl.toString() });
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT pg_current_xact_id()');
    // A later commit, so that the open transaction lies below the snapshot's xmax (in its running list).
    await store.create({ entityType: 'Later', events: [{ eventType: 'Written', eventData: {} }] });
    await readCost("one transaction of another database open");
    await other.query('ROLLBACK');
    await other.end();
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.query(`DROP DATABASE ${elsewhere} WITH (FORCE)`);
    await admin.end();
    await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
