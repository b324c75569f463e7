import { Client } from 'pg';
import pino from 'pino';
import { startRelay, type BatchPublisher, type FeedReader, type RunningRelay } from '../../event-store-server/relay';
import { KafkaPublisher } from '../../event-store-server/relay/kafka-publisher';
import { LeaderLock } from '../../event-store-server/relay/leader-lock';
import { NamedCursorTable } from '../../src/postgres/named-cursor-table';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import type { EventWithData } from '../../src/stored-event-text';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers } from '../support/kafka-collector';
import { pausableProxy } from './pausable-proxy';

const quiet = pino({ level: 'silent' });

/**
 * The lock check before each batch. The relay stores a batch's cursor and checks the lock in one
 * statement, and lets that check serve the pages read by the time it was answered: these tests
 * fail if a check answered before the previous batch's acknowledgement were let through, or if the
 * cursor were written by a session no longer holding the lock.
 */
describe('the relay checks its lock before each batch', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let prefix: string;
  const relays: RunningRelay[] = [];

  beforeEach(async () => {
    db = testDatabase('relaylock');
    prefix = `${uniqueName('relaylock')}.`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
  });
  afterEach(async () => {
    for (const running of relays.splice(0)) await running.stop();
    await store.close();
    await db.drop();
  });

  it('a page read while the batch before it was being published waits for a check sent after that batch was acknowledged', async () => {
    const collector = await collectTopics([`${prefix}Latch`]);
    const proxy = await pausableProxy(db.connectionString);
    const rival = new Client({ connectionString: db.connectionString });
    await rival.connect();
    // The feed, noting every event the relay has read.
    const read = new Set<string>();
    const feed: FeedReader = {
      readFeed: (options) => store.readFeed(options),
      jsonText: {
        async readFeed(options) {
          const page = await store.jsonText.readFeed(options);
          for (const event of page.events) read.add(event.entityId);
          return page;
        },
      },
    };
    // The real publisher, holding the relay in the first batch's publish (acknowledged by Kafka) until released.
    const kafka = new KafkaPublisher({ brokers: kafkaBrokers(), topicPrefix: prefix, clientId: 'lock-check', requestTimeoutMs: 10_000, maxMessageBytes: 1_000_000 });
    let acknowledged!: () => void;
    const firstAcknowledged = new Promise<void>((resolve) => (acknowledged = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const publisher: BatchPublisher = {
      connect: () => kafka.connect(),
      disconnect: () => kafka.disconnect(),
      async publish(events: readonly EventWithData[]) {
        await kafka.publish(events);
        if (events.some((event) => event.entityId === 'l-1')) {
          acknowledged();
          await released;
        }
      },
    };
    try {
      // Only the lock session goes through the proxy; the feed is read directly.
      const leader = startRelay({
        store: feed,
        publisher,
        connectionString: proxy.connectionString,
        schema: db.schema,
        brokers: kafkaBrokers(),
        topicPrefix: prefix,
        relayName: 'latch',
        logger: quiet,
        lockTimeoutMs: 2000,
        lagIntervalMs: 60_000,
        retry: { baseMs: 50, maxMs: 500 },
      });
      relays.push(leader);
      await store.create({ entityType: 'Latch', entityId: 'l-1', events: [{ eventType: 'Set', eventData: {} }] });
      await firstAcknowledged;
      await store.create({ entityType: 'Latch', entityId: 'l-2', events: [{ eventType: 'Set', eventData: {} }] });
      await eventually(() => read.has('l-2'), 'the relay read the second page while publishing the first');

      // The lock is lost while the first batch is in its publish: the session goes silent, the database ends
      // it, a rival takes the lock. Any check answered before now would still say the relay leads.
      proxy.pause();
      const lockName = `eventuate-relay:${db.schema}:latch`;
      const rivalHolds = rival.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [lockName],
      );
      await rivalHolds;
      expect(leader.status().leader).toBe(true);
      release();

      await eventually(() => !leader.status().leader, 'the relay finds it lost the lock');
      await new Promise((r) => setTimeout(r, 500));
      expect(collector.messages.map((m) => m.key)).toEqual(['l-1']);
      expect(leader.status().publishedEvents).toBe(1);
      const { rows } = await db.pool.query(`SELECT cursor FROM "${db.schema}".relay_cursors WHERE relay_name = 'latch'`);
      expect(rows).toEqual([]);
    } finally {
      release();
      await rival.end();
      await proxy.close();
      await collector.stop();
    }
  });

  it('a cursor written with the lock check is written only by a session holding the lock', async () => {
    const lock = new LeaderLock({ connectionString: db.connectionString, connection: {}, lockName: `lock-check:${db.schema}`, pollMs: 100, timeoutMs: 10_000, logger: quiet });
    const cursors = new NamedCursorTable(db.schema, 'relay_cursors', 'relay_name');
    const lost: Error[] = [];
    const session = (await lock.acquire(new AbortController().signal, (reason) => lost.push(reason)))!;
    try {
      await session.exclusive((client) => cursors.ensure(client));
      const save = (cursor: string) => lock.holds(session, (held, values) => cursors.saveIf('r', cursor, held, values));
      expect(await save('first')).toBe(true);
      expect(await cursors.load(db.pool, 'r')).toBe('first');

      await session.query('SELECT pg_advisory_unlock_all()');
      expect(await save('second')).toBe(false);
      expect(await cursors.load(db.pool, 'r')).toBe('first');
      expect(lost.map((reason) => reason.message)).toEqual(['the leader lock session no longer holds the lock']);
    } finally {
      await lock.release();
    }
  });
});
