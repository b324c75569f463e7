/**
 * Projection throughput into a PostgreSQL view, as a ratio to the same view rows written directly:
 * - direct: the handlers' own statements (an INSERT per opening, an UPDATE per deposit) run in
 *   transactions of `batch` events from events already in memory, with no runtime: what the
 *   machine can do for this view;
 * - projection: postgresProjection fed by feedSource from the store in process (feed reads,
 *   deserialization, version bookkeeping and checkpoint in each transaction);
 * - rebuild: the same events replayed into a fresh copy and switched over.
 * Each rate is measured in the same run, so the ratios hold on a shared machine whose absolute
 * figures drift. Flags: --wallets 1000 --deposits 99 (100,000 events) --batch 100 --rounds 3 (the median ratio is the figure).
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { Pool, PoolClient } from 'pg';
import pino from 'pino';
import {
  DomainEvent,
  EventHandlerMethod,
  Projection,
  SubscriptionManager,
  feedSource,
  memoryCursorStore,
  memoryDeadLetters,
  postgresProjection,
  type ProjectionContext,
  type StoredEvent,
  type WrittenPosition,
} from '../client';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { benchDatabase, benchPool } from './support';

const { values } = parseArgs({
  options: { wallets: { type: 'string', default: '1000' }, deposits: { type: 'string', default: '99' }, batch: { type: 'string', default: '100' }, rounds: { type: 'string', default: '3' } },
});
const WALLETS = Number(values.wallets);
const DEPOSITS = Number(values.deposits);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);

@DomainEvent('BenchWalletOpened')
class BenchWalletOpened {
  constructor(public owner: string) {}
}

@DomainEvent('BenchDeposited')
class BenchDeposited {
  constructor(public amount: number) {}
}

const OPEN_SQL = `INSERT INTO balances (wallet_id, owner, balance, deposits) VALUES ($1, $2, 0, 0)`;
const DEPOSIT_SQL = `UPDATE balances SET balance = balance + $2, deposits = deposits + 1 WHERE wallet_id = $1`;
const CREATE_SQL = `CREATE TABLE balances (wallet_id text PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL, deposits int NOT NULL)`;

@Projection('bench_balances', { batchSize: BATCH, entityTypes: ['BenchWallet'] })
class BenchBalances {
  async createTables(db: PoolClient) {
    await db.query(CREATE_SQL);
  }

  @EventHandlerMethod(BenchWalletOpened)
  async opened(ctx: ProjectionContext<BenchWalletOpened>) {
    await ctx.db.query(OPEN_SQL, [ctx.entityId, ctx.event.owner]);
  }

  @EventHandlerMethod(BenchDeposited)
  async deposited(ctx: ProjectionContext<BenchDeposited>) {
    await ctx.db.query(DEPOSIT_SQL, [ctx.entityId, ctx.event.amount]);
  }
}

async function seed(store: PostgresEventStore): Promise<void> {
  for (let w = 0; w < WALLETS; w++) {
    const events = [
      { eventType: 'BenchWalletOpened', eventData: { owner: `owner-${w}` } },
      ...Array.from({ length: DEPOSITS }, (_, i) => ({ eventType: 'BenchDeposited', eventData: { amount: i + 1 } })),
    ];
    for (let from = 0; from < events.length; from += 1000) {
      const chunk = events.slice(from, from + 1000);
      const entityId = `w-${w}`;
      if (from === 0) await store.create({ entityType: 'BenchWallet', entityId, events: chunk });
      else await store.append({ entityType: 'BenchWallet', entityId, expectedVersion: from, events: chunk });
    }
  }
}

async function allEvents(store: PostgresEventStore): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.readFeed({ after, limit: 1000 });
    all.push(...page.events);
    after = page.cursor;
    if (page.events.length < 1000) return all;
  }
}

/** The view's statements, `BATCH` events per transaction, no runtime. */
async function direct(pool: Pool, schema: string, events: StoredEvent[]): Promise<number> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"; ${CREATE_SQL.replace('balances', `"${schema}".balances`)}`);
  const db = await pool.connect();
  const started = performance.now();
  try {
    for (let from = 0; from < events.length; from += BATCH) {
      await db.query(`BEGIN; SET LOCAL search_path TO "${schema}"`);
      for (const event of events.slice(from, from + BATCH)) {
        if (event.eventType === 'BenchWalletOpened') await db.query(OPEN_SQL, [event.entityId, event.eventData.owner]);
        else await db.query(DEPOSIT_SQL, [event.entityId, event.eventData.amount]);
      }
      await db.query('COMMIT');
    }
  } finally {
    db.release();
  }
  return events.length / ((performance.now() - started) / 1000);
}

async function projected(connectionString: string, store: PostgresEventStore, schema: string, last: WrittenPosition): Promise<{ rate: number; rebuildRate: number }> {
  const quiet = pino({ level: process.env.BENCH_LOG ?? 'silent' });
  const projection = postgresProjection(new BenchBalances(), { connectionString, schema, feed: store, logger: quiet });
  const manager = new SubscriptionManager({
    source: feedSource({ store, cursorStore: memoryCursorStore(), pageSize: 1000, waitMs: 1000 }),
    deadLetters: memoryDeadLetters(),
    subscribers: [projection],
    logger: quiet,
  });
  const started = performance.now();
  await manager.start();
  await projection.waitFor(last, { timeoutMs: 3_600_000 });
  const rate = (WALLETS * (DEPOSITS + 1)) / ((performance.now() - started) / 1000);
  await manager.stop();
  const rebuilt = await projection.rebuild();
  await projection.close();
  return { rate, rebuildRate: rebuilt.events / rebuilt.seconds };
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: 'bench_projection_store', poolSize: 4 });
  const pool = benchPool(database, 2);
  try {
    await seed(store);
    const events = await allEvents(store);
    const last = events.at(-1)!;
    const lastWrite = { entityType: last.entityType, entityId: last.entityId, entityVersion: last.entityVersion };
    console.log(`${events.length.toLocaleString('en')} events, ${WALLETS} wallets, ${BATCH} events per transaction`);
    const ratios: Array<{ projection: number; rebuild: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const directRate = await direct(pool, `bench_direct_${round}`, events);
      const { rate, rebuildRate } = await projected(database.connectionString, store, `bench_projection_${round}`, lastWrite);
      const f = (n: number) => Math.round(n).toLocaleString('en').padStart(8);
      console.log(
        `round ${round}: direct ${f(directRate)} events/s | projection from the feed ${f(rate)} events/s = ${(rate / directRate).toFixed(2)}x | rebuild ${f(rebuildRate)} events/s = ${(rebuildRate / directRate).toFixed(2)}x`,
      );
      ratios.push({ projection: rate / directRate, rebuild: rebuildRate / directRate });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`median of ${ROUNDS} rounds: projection ${median(ratios.map((r) => r.projection)).toFixed(2)}x, rebuild ${median(ratios.map((r) => r.rebuild)).toFixed(2)}x the direct rate`);
  } finally {
    await pool.end();
    await store.close();
    await database.stop();
  }
}

void main();
