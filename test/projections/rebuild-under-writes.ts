import { Pool } from 'pg';
import pino from 'pino';
import { AggregateRepository, SubscriptionManager, feedSource, memoryCursorStore, memoryDeadLetters, postgresProjection, type RebuildProgress } from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { Deposit, Wallet } from '../subscriptions/wallet-domain';
import { WalletBalances, balancesIn, type BalanceRow } from './wallet-balances';

export interface RebuildScenario {
  connectionString: string;
  /** The event store's schema; the view goes in `<schema>_view`. */
  schema: string;
  /** Events written before the rebuild (wallets × (1 + deposits each)). */
  wallets: number;
  depositsPerWallet: number;
  log?: (line: string) => void;
}

export interface RebuildOutcome {
  seeded: number;
  writtenDuring: number;
  rebuild: { events: number; seconds: number; eventsPerSecond: number };
  progress: RebuildProgress[];
  /** Reads of the view made while the rebuild ran; every one saw every wallet and no fewer deposits than the read before. */
  readerChecks: number;
  /** Reads that saw fewer wallets or deposits than before: a half-built table served. */
  halfBuiltReads: string[];
  view: BalanceRow[];
  expected: BalanceRow[];
}

/**
 * Seeds wallets with deposits, runs the balance projection until it is caught up, then rebuilds
 * it while a writer keeps depositing and a reader keeps reading the view; afterwards the view must
 * equal the balances replayed from the store. The CI test runs it small, `npm run soak:rebuild`
 * at 100,000 events.
 */
export async function rebuildUnderWrites(scenario: RebuildScenario): Promise<RebuildOutcome> {
  const log = scenario.log ?? (() => undefined);
  const quiet = pino({ level: 'silent' });
  const viewSchema = `${scenario.schema}_view`;
  const store = await PostgresEventStore.connect({ connectionString: scenario.connectionString, schema: scenario.schema, poolSize: 6 });
  const pool = new Pool({ connectionString: scenario.connectionString, max: 4 });
  const projection = postgresProjection(new WalletBalances(), { connectionString: scenario.connectionString, schema: viewSchema, feed: store, logger: quiet });
  const manager = new SubscriptionManager({
    source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200, pageSize: 1000 }),
    deadLetters: memoryDeadLetters(),
    subscribers: [projection],
    logger: quiet,
  });
  try {
    const walletIds = Array.from({ length: scenario.wallets }, (_, i) => `w-${String(i).padStart(6, '0')}`);
    let seeded = 0;
    let last: { cursor: string } | undefined;
    for (const walletId of walletIds) {
      const events = [
        { eventType: 'WalletOpened', eventData: { owner: walletId } },
        ...Array.from({ length: scenario.depositsPerWallet }, (_, i) => ({ eventType: 'Deposited', eventData: { amount: i + 1 } })),
      ];
      for (let from = 0; from < events.length; from += 1000) {
        const chunk = events.slice(from, from + 1000);
        last = from === 0 ? await store.create({ entityType: 'Wallet', entityId: walletId, events: chunk }) : await store.append({ entityType: 'Wallet', entityId: walletId, expectedVersion: from, events: chunk });
        seeded += chunk.length;
      }
    }
    log(`seeded ${seeded} events in ${scenario.wallets} wallets`);
    await manager.start();
    await projection.waitFor(last!, { timeoutMs: 600_000 });
    log('live projection caught up');

    const wallets = new AggregateRepository(Wallet, store);
    let writing = true;
    let writtenDuring = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await wallets.update(walletIds[i % walletIds.length], new Deposit(1));
        writtenDuring++;
      }
    })();
    let reading = true;
    let readerChecks = 0;
    const halfBuiltReads: string[] = [];
    const reader = (async () => {
      let deposits = 0;
      while (reading) {
        const { rows } = await pool.query(`SELECT count(*)::int AS wallets, coalesce(sum(deposits), 0)::bigint AS deposits FROM "${viewSchema}".balances`);
        const seen = { wallets: rows[0].wallets as number, deposits: Number(rows[0].deposits) };
        if (seen.wallets < walletIds.length || seen.deposits < deposits) halfBuiltReads.push(`${seen.wallets} wallets, ${seen.deposits} deposits after ${deposits}`);
        deposits = Math.max(deposits, seen.deposits);
        readerChecks++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const progress: RebuildProgress[] = [];
    const rebuilt = await projection.rebuild({ onProgress: (p) => progress.push(p) });
    log(`rebuilt ${rebuilt.events} events in ${rebuilt.seconds.toFixed(1)} s`);
    writing = false;
    await writer;
    // The writer's last deposits reach the switched-over copy through the live runner.
    for (const walletId of walletIds) {
      const { entityVersion } = await store.load('Wallet', walletId, { useSnapshot: false }).then((l) => ({ entityVersion: l.entityVersion }));
      await projection.waitFor({ entityType: 'Wallet', entityId: walletId, entityVersion }, { timeoutMs: 60_000 });
    }
    reading = false;
    await reader;

    const expected: BalanceRow[] = [];
    for (const walletId of walletIds) {
      const found = await wallets.find(walletId);
      expected.push({ walletId, balance: found.entity.balance, deposits: found.entityVersion - 1 });
    }
    return {
      seeded,
      writtenDuring,
      rebuild: { events: rebuilt.events, seconds: rebuilt.seconds, eventsPerSecond: rebuilt.events / rebuilt.seconds },
      progress,
      readerChecks,
      halfBuiltReads,
      view: await balancesIn(pool, viewSchema),
      expected,
    };
  } finally {
    await manager.stop();
    await projection.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE`).catch(() => undefined);
    await pool.end();
    await store.close();
  }
}
