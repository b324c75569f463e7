import pino from 'pino';
import { AggregateRepository, EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, memoryDeadLetters, type ReadFrom } from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { eventually, kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { Deposit, Deposited, OpenWallet, Wallet, WalletOpened } from './wallet-domain';

const quiet = pino({ level: 'silent' });

/** A subscriber class recording what it was given, `entityId@version` in delivery order. */
function recordingSubscriber(subscriberId: string, readFrom?: ReadFrom) {
  @EventSubscriber(subscriberId, { readFrom })
  class Recording {
    readonly seen: string[] = [];
    @EventHandlerMethod(WalletOpened)
    opened(ctx: EventHandlerContext<WalletOpened>) {
      this.seen.push(`${ctx.entityId}@${ctx.entityVersion}`);
    }
    @EventHandlerMethod(Deposited)
    deposited(ctx: EventHandlerContext<Deposited>) {
      this.seen.push(`${ctx.entityId}@${ctx.entityVersion}`);
    }
  }
  return Recording;
}

const KafkaFromBeginning = recordingSubscriber('kafkaFromBeginning');
const KafkaFromEnd = recordingSubscriber('kafkaFromEnd', 'end');

describe('kafkaSource: where a new consumer group starts (readFrom)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let relay: RunningRelay;
  let wallets: AggregateRepository<Wallet>;
  const managers: SubscriptionManager[] = [];
  const prefix = `${uniqueName('readfrom')}.`;
  const run = async (subscriber: object) => {
    const manager = new SubscriptionManager({
      source: testKafkaSource(prefix),
      deadLetters: memoryDeadLetters(),
      subscribers: [subscriber],
      logger: quiet,
    });
    managers.push(manager);
    await manager.start();
    return manager;
  };
  const settle = () => new Promise((r) => setTimeout(r, 1500)); // a delivery that should not happen would show up by now

  beforeAll(async () => {
    db = testDatabase('readfrom');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
    wallets = new AggregateRepository(Wallet, store);
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await relay.stop();
    await store.close();
    await db.drop();
  });

  it("'beginning' gets what was published before it; 'end' skips it, keeps the position it started at across a restart, and gets what came after", async () => {
    await wallets.save(new OpenWallet('old'), { entityId: 'old' });
    await wallets.update('old', new Deposit(1));
    const fromBeginning = new KafkaFromBeginning();
    await run(fromBeginning);
    // Once a group has them, they are in the topic: 'end' must now skip them.
    await eventually(() => fromBeginning.seen.length === 2, 'the events published before', 30_000);

    // Started and stopped before any event reached it: its start position must have been committed.
    const first = await run(new KafkaFromEnd());
    await first.stop();
    await wallets.update('old', new Deposit(2));
    await wallets.save(new OpenWallet('new'), { entityId: 'new' });

    const fromEnd = new KafkaFromEnd();
    await run(fromEnd);
    await wallets.update('new', new Deposit(3));
    await eventually(() => fromEnd.seen.length >= 3, 'the events written after it first started', 30_000);
    await eventually(() => fromBeginning.seen.length >= 5, 'every event, from the beginning', 30_000);
    await settle();
    expect([...fromEnd.seen].sort()).toEqual(['new@1', 'new@2', 'old@3']);
    expect([...fromBeginning.seen].sort()).toEqual(['new@1', 'new@2', 'old@1', 'old@2', 'old@3']);
  });
});
