import { Writable } from 'node:stream';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { AggregateRepository, DeadLetterStoreError, SubscriptionManager, postgresDeadLetters, type DeadLetterStore } from '../../client';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { eventually, kafkaBrokers } from '../support/kafka-collector';
import { testKafkaSource } from '../support/test-kafka-source';
import { balanceOf, balanceViewClass, createBalanceTable } from './balance-view';
import { Deposit, OpenWallet, Wallet } from './wallet-domain';

const quiet = pino({ level: 'silent' });
const KafkaBalanceView = balanceViewClass('kafkaBalanceView');
const StoreFailureView = balanceViewClass('storeFailureView');

/** A logger whose records the test can read. */
function recordingLogger() {
  const records: Array<{ msg: string; [key: string]: unknown }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      records.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), records };
}

describe('dead letters of a Kafka subscriber, in PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let relay: RunningRelay;
  let wallets: AggregateRepository<Wallet>;
  let deadLetters: DeadLetterStore;
  let table: string;
  const managers: SubscriptionManager[] = [];
  const prefix = `${uniqueName('dlkafka')}.`;
  const run = async (subscriber: object, options: Partial<ConstructorParameters<typeof SubscriptionManager>[0]> = {}) => {
    const manager = new SubscriptionManager({
      source: testKafkaSource(prefix),
      deadLetters,
      deadLetterPollMs: 300,
      subscribers: [subscriber],
      logger: quiet,
      ...options,
    });
    managers.push(manager);
    await manager.start();
    return manager;
  };
  const deposits = async (wallet: string, amounts: number[]) => {
    await wallets.save(new OpenWallet(wallet), { entityId: wallet });
    for (const amount of amounts) await wallets.update(wallet, new Deposit(amount));
  };
  const balance = (wallet: string) => balanceOf(db.pool, table, wallet);

  beforeAll(async () => {
    db = testDatabase('dlkafka');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 6 });
    relay = startRelay({ store, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: quiet });
    wallets = new AggregateRepository(Wallet, store);
    deadLetters = postgresDeadLetters({ connectionString: db.connectionString, schema: db.schema });
    table = `"${db.schema}".balances`;
    await createBalanceTable(db.pool, table);
  });

  afterAll(async () => {
    for (const manager of managers) await manager.stop();
    await relay.stop();
    await deadLetters.close?.();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(120_000);

  it('parks a poison event’s entity with the Kafka message it came in; a retry after the fix ends the view exact', async () => {
    const view = new KafkaBalanceView(db.pool, table);
    const manager = await run(view);
    await deposits('k-poisoned', [1, 13, 2, 3]);
    await deposits('k-healthy', [10, 20]);
    await eventually(async () => (await balance('k-healthy'))?.version === 3 && manager.status()[0].deadLetters.parked === 2, 'healthy done, two parked', 60_000);
    expect(await balance('k-poisoned')).toEqual({ balance: 1, version: 2 });
    const listed = await manager.deadLetters('kafkaBalanceView').list();
    expect(listed.map((l) => [l.entityKey, l.entityVersion, l.state])).toEqual([
      ['Wallet/k-poisoned', 3, 'failed'],
      ['Wallet/k-poisoned', 4, 'parked'],
      ['Wallet/k-poisoned', 5, 'parked'],
    ]);
    expect(listed[0]).toMatchObject({ error: 'amount 13 is unlucky', attempts: 2, origin: { source: 'kafka', topic: `${prefix}Wallet`, partition: expect.any(Number), offset: expect.any(String) } });

    view.broken.clear();
    await manager.deadLetters('kafkaBalanceView').retry(listed[0].id);
    expect(await balance('k-poisoned')).toEqual({ balance: 19, version: 5 });
    expect(await manager.deadLetters('kafkaBalanceView').list()).toEqual([]);
    await wallets.update('k-poisoned', new Deposit(4));
    await eventually(async () => (await balance('k-poisoned'))?.version === 6, 'the next deposit, handled as it comes', 30_000);
    expect(await balance('k-poisoned')).toEqual({ balance: 23, version: 6 });
  });

  it('retries a failing dead-letter store, then halts without committing past the event; after a restart the event comes again', async () => {
    const { logger, records } = recordingLogger();
    const halted: Error[] = [];
    // The table exists (the first test's subscriber made it); now every insert fails, as a full disk or a revoked grant would.
    await db.pool.query(`ALTER TABLE "${db.schema}".subscriber_dead_letters ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
    const first = await run(new StoreFailureView(db.pool, table), { logger, deadLetterWriteAttempts: 3, onSubscriberHalted: (_id, error) => void halted.push(error) });
    // It reads from the beginning: the first poison event it meets is the previous test's.
    await eventually(() => halted.length === 1, 'the subscriber halts', 60_000);
    const error = halted[0] as DeadLetterStoreError;
    expect(error).toBeInstanceOf(DeadLetterStoreError);
    expect(error.message).toBe(
      `subscriber storeFailureView stopped: its dead-letter store failed 3 times while recording event ${error.eventId} ` +
        '(new row for relation "subscriber_dead_letters" violates check constraint "refuse_all"). ' +
        'It stopped rather than go past an event unrecorded or out of order; once the store works again, start the subscriber: what was not committed is delivered again.',
    );
    expect(records.filter((r) => r.msg === 'dead-letter store failed; retrying')).toHaveLength(3);
    expect(first.status()[0]).toMatchObject({ running: false, error });
    const [poison] = (await store.history('Wallet', 'k-poisoned')).events.filter((e) => e.eventData.amount === 13);
    expect(error.eventId).toBe(poison.eventId);

    await db.pool.query(`ALTER TABLE "${db.schema}".subscriber_dead_letters DROP CONSTRAINT refuse_all`);
    const restarted = await run(new StoreFailureView(db.pool, table));
    // Nothing was committed past it: it comes again, is dead-lettered, and the events behind it park.
    await eventually(async () => (await deadLetters.counts('storeFailureView')).parked === 3, 'the poison event dead-lettered and the next ones parked', 60_000);
    expect((await deadLetters.list('storeFailureView')).map((l) => [l.id === poison.eventId, l.entityVersion, l.state])).toEqual([
      [true, 3, 'failed'],
      [false, 4, 'parked'],
      [false, 5, 'parked'],
      [false, 6, 'parked'],
    ]);
    expect(restarted.status()[0]).toMatchObject({ running: true });
    await restarted.stop();
  });
  it('dead-letters a message that is not an event, naming where it is and why, and never skips it silently', async () => {
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({
        topic: `${prefix}Wallet`,
        acks: -1,
        messages: [
          { key: 'stranger', value: 'this is not JSON' },
          { key: 'stranger', value: JSON.stringify({ hello: 'world' }) },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    await deposits('k-after-garbage', [5]);
    await eventually(async () => (await balance('k-after-garbage'))?.version === 2, 'the event after the garbage is handled', 60_000);
    const letters = await deadLetters.list('kafkaBalanceView');
    expect(letters.map((l) => [l.entityKey, l.state, l.unreadable])).toEqual([
      ['Wallet/stranger', 'failed', 'this is not JSON'],
      // The second one waits behind the first: same key, same partition, parked in order.
      ['Wallet/stranger', 'parked', '{"hello":"world"}'],
    ]);
    const [garbage] = letters;
    expect(garbage.id).toMatch(new RegExp(`^${prefix.replace('.', '\\.')}Wallet/\\d+@\\d+$`));
    expect(garbage.error).toBe(
      `UnreadableMessageError: Kafka message ${garbage.id} is not an event the relay publishes (Unexpected token 'h', "this is not JSON" is not valid JSON); no handler can take it: discard it once you know where it came from`,
    );
    // Discarded, the parked one is tried and fails for its own reason: then it is the failed one.
    await managers[0].deadLetters('kafkaBalanceView').discard(garbage.id);
    const [second] = await deadLetters.list('kafkaBalanceView');
    expect(second).toMatchObject({ state: 'failed', unreadable: '{"hello":"world"}', error: expect.stringMatching(/^not an event: it can only be discarded$/) });
    await managers[0].deadLetters('kafkaBalanceView').discard(second.id);
    expect(await deadLetters.list('kafkaBalanceView')).toEqual([]);
  });

});
