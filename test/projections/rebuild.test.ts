import pino from 'pino';
import { ProjectionRebuildError, postgresProjection } from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { rebuildUnderWrites } from './rebuild-under-writes';
import { WalletBalances, balancesIn } from './wallet-balances';

describe('rebuilding a projection blue-green', () => {
  let db: TestDatabase;

  beforeEach(() => {
    db = testDatabase('rebuild');
  });

  afterEach(async () => {
    await db.drop();
  });

  it('rebuilds while writes go on: the switched view equals the store replayed, and readers never saw a half-built table', async () => {
    const outcome = await rebuildUnderWrites({ connectionString: db.connectionString, schema: db.schema, wallets: 40, depositsPerWallet: 74 });
    expect(outcome.seeded).toBe(3000);
    expect(outcome.writtenDuring).toBeGreaterThan(0);
    expect(outcome.readerChecks).toBeGreaterThan(0);
    expect(outcome.halfBuiltReads).toEqual([]);
    expect(outcome.view).toEqual(outcome.expected);
    // It replayed at least what was there when it started, and reported progress up to the switch-over.
    expect(outcome.rebuild.events).toBeGreaterThanOrEqual(3000);
    expect(outcome.progress.map((p) => p.phase).slice(-2)).toEqual(['switching', 'done']);
    expect(outcome.progress[0].total).toBeGreaterThanOrEqual(3000);
    const counts = outcome.progress.map((p) => p.events);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it('runs one rebuild at a time per projection: a second one is refused, the tables in use unchanged', async () => {
    const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
    const viewSchema = `${db.schema}_view`;
    try {
      for (let i = 0; i < 5; i++) {
        await store.create({ entityType: 'Wallet', entityId: `w-${i}`, events: [{ eventType: 'WalletOpened', eventData: { owner: `o${i}` } }, ...Array.from({ length: 400 }, () => ({ eventType: 'Deposited', eventData: { amount: 1 } }))] });
      }
      const quiet = pino({ level: 'silent' });
      const one = postgresProjection(new WalletBalances(), { connectionString: db.connectionString, schema: viewSchema, feed: store, logger: quiet });
      const two = postgresProjection(new WalletBalances(), { connectionString: db.connectionString, schema: viewSchema, feed: store, logger: quiet });
      const results = await Promise.allSettled([one.rebuild(), two.rebuild()]);
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(ProjectionRebuildError);
      expect(refused[0].message).toContain(`another rebuild of it (schema ${viewSchema}) is running on this database`);
      expect(await balancesIn(db.pool, viewSchema)).toHaveLength(5);
      // The copy records what it was built from, so the projection's next start finds no entity type added.
      const { rows } = await db.pool.query(`SELECT entity_types FROM "${viewSchema}".eventuate_projection_state`);
      expect(rows[0].entity_types).toEqual(['Wallet']);
      await one.close();
      await two.close();
    } finally {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE`);
      await store.close();
    }
  });
});
