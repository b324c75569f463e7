import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { AggregateRepository, EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, feedSource, memoryCursorStore, memoryDeadLetters } from '../../client';
import { buildApp } from '../../event-store-server/app';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/kafka-collector';
import { Deposit, Deposited, OpenWallet, Wallet } from './wallet-domain';

@EventSubscriber('patientDeposits')
class PatientDeposits {
  readonly amounts: number[] = [];
  @EventHandlerMethod(Deposited)
  deposited(ctx: EventHandlerContext<Deposited>) {
    this.amounts.push(ctx.event.amount);
  }
}

/** A port nothing listens on (yet). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('feedSource when the feed cannot be read', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let app: FastifyInstance | undefined;

  beforeAll(async () => {
    db = testDatabase('feedretry');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 4 });
  });

  afterAll(async () => {
    app?.server.closeAllConnections();
    await app?.close();
    await store.close();
    await db.drop();
  });

  it('retries while the server is unreachable, shows why in its status, and delivers everything once the server is up', async () => {
    const wallets = new AggregateRepository(Wallet, store);
    await wallets.save(new OpenWallet('pat'), { entityId: 'pat' });
    for (const amount of [1, 2, 3]) await wallets.update('pat', new Deposit(amount));

    const port = await freePort();
    const subscriber = new PatientDeposits();
    const manager = new SubscriptionManager({
      source: feedSource({ url: `http://127.0.0.1:${port}`, cursorStore: memoryCursorStore(), waitMs: 200 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [subscriber],
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
    try {
      await eventually(() => manager.status()[0].sourceError !== undefined, 'a failed read in the status');
      expect(manager.status()[0]).toMatchObject({ running: true, error: undefined, sourceError: expect.any(Error) });
      expect(subscriber.amounts).toEqual([]);

      app = buildApp({ store, closeStore: false, defaultMetrics: false });
      await app.listen({ port, host: '127.0.0.1' });
      await eventually(() => subscriber.amounts.length === 3, 'the deposits, once the server answers', 30_000);
      expect(subscriber.amounts).toEqual([1, 2, 3]);
      expect(manager.status()[0]).toMatchObject({ running: true, sourceError: undefined });
    } finally {
      await manager.stop();
    }
  });
});
