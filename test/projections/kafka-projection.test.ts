import pino from 'pino';
import { AggregateRepository, SubscriptionManager, memoryDeadLetters, postgresProjection } from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { eventually, kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { Deposit, OpenWallet, Wallet } from '../subscriptions/wallet-domain';
import { WalletBalances, balancesIn } from './wallet-balances';

const quiet = pino({ level: 'silent' });

describe('a projection fed from Kafka', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let viewSchema: string;
  const prefix = `${uniqueName('kproj')}.`;
  const startRelayHere = () => startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });

  beforeAll(async () => {
    db = testDatabase('kproj');
    viewSchema = `${db.schema}_view`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 6 });
  });

  afterAll(async () => {
    await store.close();
    await db.pool.query(`DROP SCHEMA IF EXISTS "${viewSchema}" CASCADE`);
    await db.drop();
  });

  jest.setTimeout(120_000);

  it('applies each event once when a relay that lost its cursor publishes everything again at new offsets', async () => {
    let relay: RunningRelay = startRelayHere();
    const balances = new WalletBalances();
    const projection = postgresProjection(balances, { connectionString: db.connectionString, schema: viewSchema, logger: quiet });
    const manager = new SubscriptionManager({
      source: testKafkaSource(prefix),
      deadLetters: memoryDeadLetters(),
      subscribers: [projection],
      logger: quiet,
    });
    try {
      await manager.start();
      const wallets = new AggregateRepository(Wallet, store);
      for (const id of ['k-1', 'k-2', 'k-3']) {
        await wallets.save(new OpenWallet(id), { entityId: id });
        for (const amount of [1, 2, 3, 4]) await wallets.update(id, new Deposit(amount));
      }
      for (const id of ['k-1', 'k-2', 'k-3']) await projection.waitFor({ entityType: 'Wallet', entityId: id, entityVersion: 5 }, { timeoutMs: 60_000 });
      const exact = [
        { walletId: 'k-1', balance: 10, deposits: 4 },
        { walletId: 'k-2', balance: 10, deposits: 4 },
        { walletId: 'k-3', balance: 10, deposits: 4 },
      ];
      expect(await balancesIn(db.pool, viewSchema)).toEqual(exact);
      expect(balances.calls).toBe(15);

      // The relay loses its cursor and publishes all 15 events again, behind the first copies.
      await relay.stop();
      await db.pool.query(`DELETE FROM "${db.schema}".relay_cursors`);
      relay = startRelayHere();
      await wallets.update('k-1', new Deposit(100));
      await projection.waitFor({ entityType: 'Wallet', entityId: 'k-1', entityVersion: 6 }, { timeoutMs: 60_000 });
      // The redelivered copies came before the new deposit (one partition per entity, in order): all passed over.
      await eventually(async () => (await balancesIn(db.pool, viewSchema))[0].balance === 110, 'the new deposit is applied');
      expect(await balancesIn(db.pool, viewSchema)).toEqual([{ walletId: 'k-1', balance: 110, deposits: 5 }, ...exact.slice(1)]);
      expect(balances.calls).toBe(16);
    } finally {
      await manager.stop();
      await projection.close();
      await relay.stop();
    }
  });
});
