import pino from 'pino';
import { startRelay, type BatchPublisher, type RunningRelay } from '../../event-store-server/relay';
import { KafkaPublisher } from '../../event-store-server/relay/kafka-publisher';
import type { StoredEvent } from '../../src/model';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import type { EventWithData } from '../../src/stored-event-text';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers } from '../support/kafka-collector';

describe('the relay reading ahead of its publishing', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    db = testDatabase('readahead');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
  });
  afterEach(async () => {
    await relay?.stop();
    await store.close();
    await db.drop();
  });

  it('publishes pages read during a slow publish in later batches: every event once, in feed order, no batch over the size', async () => {
    const prefix = `${uniqueName('readahead')}.`;
    const collector = await collectTopics([`${prefix}Meter`]);
    const kafka = new KafkaPublisher({ brokers: kafkaBrokers(), topicPrefix: prefix, clientId: 'read-ahead', requestTimeoutMs: 10_000, maxMessageBytes: 1_000_000 });
    const batches: string[][] = [];
    // A slow broker: every acknowledged batch is held 30 ms more, while appends go on and the feed is read ahead.
    const publisher: BatchPublisher = {
      connect: () => kafka.connect(),
      disconnect: () => kafka.disconnect(),
      async publish(events: readonly EventWithData[]) {
        await kafka.publish(events);
        batches.push(events.map((event) => event.eventId));
        await new Promise((resolve) => setTimeout(resolve, 30));
      },
    };
    try {
      relay = startRelay({ store, publisher, connectionString: db.connectionString, schema: db.schema, brokers: kafkaBrokers(), topicPrefix: prefix, logger: pino({ level: 'silent' }), batchSize: 7 });
      const entities = ['m-0', 'm-1', 'm-2', 'm-3', 'm-4'];
      await Promise.all(
        entities.map(async (entityId) => {
          await store.create({ entityType: 'Meter', entityId, events: [{ eventType: 'Read', eventData: { n: 0 } }] });
          for (let version = 1; version < 40; version++) {
            await store.append({ entityType: 'Meter', entityId, expectedVersion: version, events: [{ eventType: 'Read', eventData: { n: version } }] });
          }
        }),
      );
      await collector.waitFor(200);
      const feed: StoredEvent[] = [];
      for (let cursor = ''; ; ) {
        const page = await store.readFeed({ after: cursor, limit: 1000 });
        if (page.events.length === 0) break;
        feed.push(...page.events);
        cursor = page.cursor;
      }
      await eventually(async () => {
        const { rows } = await db.pool.query(`SELECT cursor FROM "${db.schema}".relay_cursors`);
        return rows[0]?.cursor === feed.at(-1)!.cursor;
      }, 'the relay stores the cursor of the last event');

      expect(batches.flat()).toEqual(feed.map((event) => event.eventId));
      expect(Math.max(...batches.map((batch) => batch.length))).toBeLessThanOrEqual(7);
      // Pages were merged: fewer batches than single-event appends.
      expect(batches.length).toBeLessThan(200);
      for (const entityId of entities) {
        const versions = collector.messages.filter((m) => m.key === entityId).map((m) => m.value.entityVersion);
        expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    } finally {
      await collector.stop();
    }
  });
});
