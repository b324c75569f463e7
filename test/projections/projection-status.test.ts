import pino from 'pino';
import { Registry } from 'prom-client';
import { AggregateRepository, SubscriptionManager, feedSource, memoryCursorStore, memoryDeadLetters, postgresProjection } from '../../client';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { Deposit, OpenWallet, Wallet } from '../subscriptions/wallet-domain';
import { WalletBalances } from './wallet-balances';

const quiet = pino({ level: 'silent' });

describe('where a projection stands: checkpoint, lag, state, gauges', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = testDatabase('projstat');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
  });

  afterAll(async () => {
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${db.schema}_view" CASCADE`);
    await db.drop();
  });

  it('reports events waiting and their age while stopped, none once caught up, as gauges too', async () => {
    const wallets = new AggregateRepository(Wallet, store);
    const projection = postgresProjection(new WalletBalances(), { connectionString: db.connectionString, schema: `${db.schema}_view`, logger: quiet });
    const manager = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [projection],
      logger: quiet,
    });
    const registry = new Registry();
    manager.registerMetrics(registry);

    await manager.start();
    const first = await wallets.save(new OpenWallet('ann'), { entityId: 'w-1' });
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-1', entityVersion: first.entityVersion });
    await manager.stop();
    expect(manager.status()[0]).toMatchObject({ subscriberId: 'wallet_balances', state: 'stopped', running: false });

    for (const amount of [1, 2, 3]) await wallets.update('w-1', new Deposit(amount));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [behind] = await manager.positions();
    expect(behind.lag).toMatchObject({ events: 3, atLeast: false });
    expect(behind.lag!.seconds).toBeGreaterThanOrEqual(0.05);
    expect(behind.checkpoint).toBe((await projection.checkpoint())?.cursor);
    const stoppedMetrics = await registry.metrics();
    expect(stoppedMetrics).toContain('eventuate_subscriber_lag_events{subscriber="wallet_balances"} 3');
    expect(stoppedMetrics).toContain('eventuate_subscriber_running{subscriber="wallet_balances"} 0');

    await manager.start();
    await projection.waitFor({ entityType: 'Wallet', entityId: 'w-1', entityVersion: 4 });
    // The checkpoint moves after the batch commits; the page's cursor lies at the feed's end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [caughtUp] = await manager.positions();
    expect(caughtUp.lag).toEqual({ events: 0, atLeast: false, seconds: 0 });
    expect(manager.status()[0].state).toBe('running');
    expect(await registry.metrics()).toContain('eventuate_subscriber_lag_events{subscriber="wallet_balances"} 0');
    await manager.stop();
    await projection.close();
  });
});
