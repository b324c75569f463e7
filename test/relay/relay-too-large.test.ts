import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from '../../event-store-server/app';
import { startRelay, type BatchPublisher, type RunningRelay } from '../../event-store-server/relay';
import { KafkaPublisher } from '../../event-store-server/relay/kafka-publisher';
import { appendedEventMessageBytes, storedEventMessageBytes } from '../../event-store-server/relay/message-size';
import type { StoredEvent } from '../../src/model';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers, type KafkaCollector } from '../support/kafka-collector';
import { httpCall } from '../server/server-fixture';

const quiet = pino({ level: 'silent' });

/** What kafkajs throws when a broker answers MESSAGE_TOO_LARGE (error code 10), wrapped as its retrier wraps it. */
function brokerRefusal(): Error {
  // kafkajs's constructors take the protocol error's description and options its typings leave out.
  const description = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
  });
  const refusal = new KafkaJSProtocolError(description);
  const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
  return new NonRetriable(refusal, { cause: refusal });
}

describe('events too large for Kafka', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let prefix: string;
  let collector: KafkaCollector;
  const relays: RunningRelay[] = [];
  const relay = (options: Partial<Parameters<typeof startRelay>[0]> = {}) => {
    const running = startRelay({
      store,
      connectionString: db.connectionString,
      schema: db.schema,
      brokers: kafkaBrokers(),
      topicPrefix: prefix,
      logger: quiet,
      leaderPollMs: 200,
      lockTimeoutMs: 10_000,
      lagIntervalMs: 200,
      retry: { baseMs: 50, maxMs: 500 },
      ...options,
    });
    relays.push(running);
    return running;
  };
  const storedCursor = async () => {
    const { rows } = await db.pool.query(`SELECT cursor FROM "${db.schema}".relay_cursors`).catch(() => ({ rows: [] }));
    return rows[0]?.cursor as string | undefined;
  };
  const feed = async () => (await store.readFeed({ limit: 100 })).events;

  beforeEach(async () => {
    db = testDatabase('large');
    prefix = `${uniqueName('large')}.`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
    collector = await collectTopics([`${prefix}Doc`]);
  });
  afterEach(async () => {
    for (const running of relays.splice(0)) await running.stop();
    await collector.stop();
    await store.close();
    await db.drop();
  });

  it('an event over the configured limit halts the relay before it, loudly; skipping it by id lets the rest through', async () => {
    // Stored straight into the database, as by a server before the limit existed.
    for (const [id, text] of [['d-1', 'small'], ['d-2', 'x'.repeat(5000)], ['d-3', 'small']]) {
      await store.create({ entityType: 'Doc', entityId: id, events: [{ eventType: 'Written', eventData: { text } }] });
    }
    const [d1, d2] = await feed();
    const halted = relay({ maxMessageBytes: 2048 });
    await eventually(() => halted.status().halted !== undefined && !halted.status().leader, 'the relay halts and gives up the leadership');
    await collector.waitFor(1);

    const status = halted.status();
    expect(status).toMatchObject({ ready: false, leader: false, publishedEvents: 1 });
    expect(status.halted).toMatchObject({ eventId: d2.eventId, entityType: 'Doc', entityId: 'd-2', entityVersion: 1, limitBytes: 2048 });
    expect(status.halted!.messageBytes).toBe(storedEventMessageBytes(d2));
    expect(status.halted!.messageBytes).toBeGreaterThan(5000);
    // /ready says what, without the event's identity (its callers may be unauthenticated); the cause, for the log, says which and how to fix it.
    await expect(halted.checkReady()).rejects.toMatchObject({
      code: 'service_unavailable',
      message: expect.stringMatching(/^not ready: the event relay halted at an event too large for Kafka/),
      cause: expect.stringMatching(
        new RegExp(`^event ${d2.eventId} .* ${status.halted!.messageBytes} bytes, over EVENTUATE_RELAY_MAX_MESSAGE_BYTES=2048.*EVENTUATE_RELAY_SKIP_EVENTS=${d2.eventId}`),
      ),
    });
    await expect(halted.checkReady()).rejects.not.toThrow(new RegExp(d2.eventId));
    const registry = new Registry();
    halted.registerMetrics(registry);
    expect(await registry.metrics()).toMatch(/^eventuate_relay_halted 1$/m);
    // The cursor stops right before the event, never past it; nothing behind it goes out.
    expect(await storedCursor()).toBe(d1.cursor);
    await new Promise((r) => setTimeout(r, 1000));
    expect(collector.messages.map((m) => m.key)).toEqual(['d-1']);
    await halted.stop();

    const resumed = relay({ maxMessageBytes: 2048, skipEventIds: [d2.eventId] });
    await collector.waitFor(2);
    await eventually(() => resumed.status().lagEvents === 0, 'the relay caught up');
    expect(collector.messages.map((m) => m.key)).toEqual(['d-1', 'd-3']);
    expect(resumed.status()).toMatchObject({ ready: true, skippedEvents: 1, publishedEvents: 1 });
    expect(resumed.status().halted).toBeUndefined();
  });

  it('an event the broker refuses as too large halts the relay at that event, after publishing the ones before it once', async () => {
    const kafka = new KafkaPublisher({ brokers: kafkaBrokers(), topicPrefix: prefix, clientId: 'refusing', requestTimeoutMs: 10_000, maxMessageBytes: 1_000_000 });
    const sent: string[][] = [];
    // A broker with a lower limit than the relay's: it refuses any record batch holding the big event, and writes nothing of it.
    const refusing: BatchPublisher = {
      connect: () => kafka.connect(),
      disconnect: () => kafka.disconnect(),
      async publish(events: readonly StoredEvent[]) {
        sent.push(events.map((e) => e.entityId));
        if (events.some((e) => e.eventType === 'Scanned')) throw brokerRefusal();
        await kafka.publish(events);
      },
    };
    for (const [id, type] of [['a-1', 'Written'], ['a-2', 'Written'], ['a-3', 'Scanned'], ['a-4', 'Written']]) {
      await store.create({ entityType: 'Doc', entityId: id, events: [{ eventType: type, eventData: {} }] });
    }
    const [, a2, a3] = await feed();
    const halted = relay({ publisher: refusing });
    await eventually(() => halted.status().halted !== undefined && !halted.status().leader, 'the relay halts and gives up the leadership');
    await collector.waitFor(2);

    expect(halted.status().halted).toMatchObject({ eventId: a3.eventId, entityId: 'a-3', limitBytes: undefined });
    await expect(halted.checkReady()).rejects.toMatchObject({ cause: expect.stringMatching(/Kafka refused it as too large .*message\.max\.bytes/) });
    // The whole batch once, then one event at a time until the refused one; nothing after it.
    expect(sent).toEqual([['a-1', 'a-2', 'a-3', 'a-4'], ['a-1'], ['a-2'], ['a-3']]);
    expect(await storedCursor()).toBe(a2.cursor);
    await new Promise((r) => setTimeout(r, 500));
    expect(collector.messages.map((m) => m.key).sort()).toEqual(['a-1', 'a-2']);
  });

  it('the server refuses (413) an event whose message would exceed the limit, and the relay publishes the largest one it accepts', async () => {
    const limit = 4096;
    const app = buildApp({ store, maxEventMessageBytes: limit, defaultMetrics: false, closeStore: false });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const tooBig = await httpCall(url, 'POST', '/entity/Doc', { entityId: 'big', events: [{ eventType: 'Written', eventData: { text: 'x'.repeat(5000) } }] });
      expect(tooBig.status).toBe(413);
      expect(tooBig.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(tooBig.json()).toMatchObject({ error: 'payload_too_large', index: 0, limitBytes: limit });
      expect(tooBig.json().detail).toMatch(/events\[0\] \(Written\) would be a Kafka message of \d+ bytes, over the relay's limit of 4096 bytes \(EVENTUATE_RELAY_MAX_MESSAGE_BYTES/);
      expect(await feed()).toEqual([]);

      // The largest text that fits, by the server's own estimate: exactly at the limit.
      const fitting = (text: string) => ({ eventType: 'Written', eventData: { text } });
      const text = 'y'.repeat(limit - appendedEventMessageBytes('Doc', 'fits', fitting('')));
      expect(appendedEventMessageBytes('Doc', 'fits', fitting(text))).toBe(limit);
      expect((await httpCall(url, 'POST', '/entity/Doc', { entityId: 'fits', events: [fitting(text)] })).status).toBe(201);
      expect((await httpCall(url, 'POST', '/entity/Doc/fits', { entityVersion: 1, events: [fitting(`${text}z`)] })).status).toBe(413);

      const publishing = relay({ maxMessageBytes: limit });
      await collector.waitFor(1);
      expect(collector.messages[0].value.eventData).toBe(JSON.stringify({ text }));
      expect(publishing.status().halted).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('splits a batch so that no request to the broker exceeds the limit, keeping the order', async () => {
    const written = (i: number) => ({ eventType: 'Written', eventData: { text: 'p'.repeat(900), i } });
    await store.create({ entityType: 'Doc', entityId: 'same', events: [written(1)] });
    for (let i = 2; i <= 12; i++) await store.append({ entityType: 'Doc', entityId: 'same', expectedVersion: i - 1, events: [written(i)] });
    const largest = Math.max(...(await feed()).map(storedEventMessageBytes));
    const limit = 3 * largest + 10;
    const kafka = new KafkaPublisher({ brokers: kafkaBrokers(), topicPrefix: prefix, clientId: 'splitting', requestTimeoutMs: 10_000, maxMessageBytes: limit });
    // Watch the requests the publisher makes through its kafkajs producer.
    const requests: number[] = [];
    const producer = (kafka as unknown as { producer: { sendBatch(b: { topicMessages: Array<{ messages: unknown[] }> }): Promise<unknown> } }).producer;
    const sendBatch = producer.sendBatch.bind(producer);
    producer.sendBatch = (batch) => {
      requests.push(batch.topicMessages.reduce((n, t) => n + t.messages.length, 0));
      return sendBatch(batch);
    };
    relay({ publisher: kafka, maxMessageBytes: limit });
    await collector.waitFor(12);
    expect(requests).toEqual([3, 3, 3, 3]);
    expect(collector.messages.map((m) => m.value.entityVersion)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
