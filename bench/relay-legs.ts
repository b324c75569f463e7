/**
 * Where an event's time from append to subscriber goes, leg by leg, with the relay as it runs inside
 * the server (the store's own commits wake it, it reads the feed with the JSON as text): appends in process at BENCH_RATE events/s (one event
 * each, open loop), the relay publishing to Kafka, a kafkaSource subscriber handling them.
 *   commit -> relay read:   the append resolved (it had committed) until the relay's feed read returned it
 *   relay read -> Kafka ack: until the broker acknowledged the batch holding it (acks -1)
 *   Kafka ack -> handler:    until the subscriber's handler ran (mostly the consumer's fetch wait)
 *   append -> Kafka ack:     the first two together, the target (p99 10 ms)
 * Then a burst (BENCH_BURST events, 100 per append, 8 writers) relayed while it is written (bounded by
 * the write rate), and the same as a backlog: written while the relay is stopped, then relayed.
 * Run: npm run bench -- relay-legs   (BENCH_MAX_WAIT sets the consumer's fetch wait; librdkafka's
 * mock broker holds every fetch that long, real Kafka answers at once.)
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { DomainEvent, EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, kafkaSource, memoryDeadLetters } from '../client';
import { KafkaPublisher } from '../event-store-server/relay/kafka-publisher';
import { startRelay, type BatchPublisher, type FeedReader } from '../event-store-server/relay';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import type { EventWithData } from '../src/stored-event-text';
import { startMockKafka } from '../test/support/kafka-mock';
import { benchDatabase, cpuBudget, describeBudget, percentile, report, runBenchmark, startCpuMeter } from './support';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 1;
const BURST_EVENTS = Number(process.env.BENCH_BURST ?? 30_000);
const MAX_WAIT_MS = Number(process.env.BENCH_MAX_WAIT ?? 50);
const prefix = `legs${Date.now()}.`;

const committedAt = new Map<string, number>();
const readAt = new Map<string, number>();
const ackedAt = new Map<string, number>();
const handledAt = new Map<string, number>();

@DomainEvent('Ticked')
class Ticked {}

@EventSubscriber('benchLegs', { entityTypes: ['BenchTick'] })
class LegProbe {
  @EventHandlerMethod(Ticked)
  ticked(ctx: EventHandlerContext<Ticked>) {
    if (!handledAt.has(ctx.eventId)) handledAt.set(ctx.eventId, performance.now());
  }
}

/** The store's feed as the server's relay reads it (the events' JSON as text), noting when each event was first read. */
function timedFeed(store: PostgresEventStore): FeedReader {
  return {
    readFeed: (options) => store.readFeed(options),
    jsonText: {
      async readFeed(options) {
        const page = await store.jsonText.readFeed(options);
        const now = performance.now();
        for (const event of page.events) if (!readAt.has(event.eventId)) readAt.set(event.eventId, now);
        return page;
      },
    },
  };
}

/** The real Kafka publisher, noting when each event's batch was acknowledged. */
function timedPublisher(inner: KafkaPublisher): BatchPublisher {
  return {
    connect: () => inner.connect(),
    disconnect: () => inner.disconnect(),
    async publish(events: readonly EventWithData[]) {
      await inner.publish(events);
      const now = performance.now();
      for (const event of events) if (!ackedAt.has(event.eventId)) ackedAt.set(event.eventId, now);
    },
  };
}


/** Until every one of `ids` is in `seen`: looks at each id once, so waiting costs nothing the relay would feel. */
async function until(ids: readonly string[], seen: Map<string, number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < ids.length; ) {
    if (seen.has(ids[i])) i++;
    else if (Date.now() > deadline) throw new Error(`timed out: ${ids.length - i} events not there yet`);
    else await new Promise((r) => setTimeout(r, 5));
  }
}

async function append(store: PostgresEventStore, events: number): Promise<string[]> {
  const ids = Array.from({ length: events }, () => randomUUID());
  await store.create({ entityType: 'BenchTick', events: ids.map((eventId) => ({ eventId, eventType: 'Ticked', eventData: {} })) });
  const now = performance.now();
  for (const id of ids) committedAt.set(id, now);
  return ids;
}

function leg(label: string, ids: string[], from: Map<string, number>, to: Map<string, number>): void {
  const ms = ids.map((id) => to.get(id)! - from.get(id)!).sort((a, b) => a - b);
  report(`${label}: p50`, percentile(ms, 50), 'ms', `p99 ${percentile(ms, 99).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`);
}

async function latencyAtRate(store: PostgresEventStore): Promise<void> {
  const pending: Promise<void>[] = [];
  const measured: string[] = [];
  const start = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const warm = i >= RATE * WARMUP_SECONDS;
    pending.push(append(store, 1).then(([id]) => void (warm && measured.push(id))));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  await until(measured, handledAt, 60_000);
  report(`appends offered (1 event each, ${SECONDS}s, first ${WARMUP_SECONDS}s not measured)`, total / elapsed, 'events/s');
  leg('commit -> relay read', measured, committedAt, readAt);
  leg('relay read -> Kafka ack', measured, readAt, ackedAt);
  leg(`Kafka ack -> handler (fetch wait ${MAX_WAIT_MS} ms)`, measured, ackedAt, handledAt);
  leg('append -> Kafka ack', measured, committedAt, ackedAt);
  leg('append -> handler', measured, committedAt, handledAt);
}

/** BENCH_BURST events, 100 per append, by 8 writers; how long writing them took. */
async function writeBurst(store: PostgresEventStore): Promise<{ ids: string[]; seconds: number }> {
  const appends = Math.ceil(BURST_EVENTS / 100);
  const ids: string[] = [];
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < appends) {
        next++;
        ids.push(...(await append(store, 100)));
      }
    }),
  );
  return { ids, seconds: (performance.now() - start) / 1000 };
}

async function burstThroughput(store: PostgresEventStore): Promise<void> {
  const start = performance.now();
  const { ids, seconds: written } = await writeBurst(store);
  await until(ids, ackedAt, 120_000);
  const acked = (performance.now() - start) / 1000;
  await until(ids, handledAt, 120_000);
  const handled = (performance.now() - start) / 1000;
  report(`burst of ${ids.length} events written (100 per append, 8 writers)`, ids.length / written, 'events/s');
  report('burst: relayed to Kafka (acknowledged)', ids.length / acked, 'events/s');
  report('burst: handled by the subscriber', ids.length / handled, 'events/s');
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const kafka = process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined } : await startMockKafka();
  const schema = `bench_legs_${Date.now()}`;
  const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema });
  const brokers = kafka.brokers.split(',');
  const logger = pino({ level: 'warn' });
  const startTimedRelay = () =>
    startRelay({
      store: timedFeed(store),
      connectionString: database.connectionString,
      schema,
      brokers,
      topicPrefix: prefix,
      logger,
      publisher: timedPublisher(new KafkaPublisher({ brokers, topicPrefix: prefix, clientId: 'bench-legs', requestTimeoutMs: 10_000, maxMessageBytes: 1_000_000 })),
    });
  let relay = startTimedRelay();
  const manager = new SubscriptionManager({
    source: kafkaSource({ brokers, topicPrefix: prefix, maxWaitTimeMs: MAX_WAIT_MS }),
    deadLetters: memoryDeadLetters(),
    subscribers: [new LegProbe()],
    logger,
  });
  try {
    await manager.start();
    // The first event creates the topic and lets the group settle; not measured.
    const [first] = await append(store, 1);
    await until([first], handledAt, 60_000);
    console.log(`Kafka: ${process.env.KAFKA_BROKERS ? kafka.brokers : "librdkafka's mock broker (kcat)"}; relay in the appending process`);
    await latencyAtRate(store);
    await burstThroughput(store);
    // A backlog: the relay stopped while the burst is written, then started on it.
    await relay.stop();
    const backlog = await writeBurst(store);
    const started = performance.now();
    const cpuSpent = startCpuMeter(database);
    relay = startTimedRelay();
    await until(backlog.ids, ackedAt, 120_000);
    const acked = (performance.now() - started) / 1000;
    await until(backlog.ids, handledAt, 120_000);
    const handled = (performance.now() - started) / 1000;
    report(`backlog of ${backlog.ids.length} events: relayed to Kafka (acknowledged)`, backlog.ids.length / acked, 'events/s');
    report('backlog: handled by the subscriber', backlog.ids.length / handled, 'events/s');
    // Whether the relay is bound by CPU here: with every core busy, the rate is the cores over the CPU an event costs.
    console.log(`backlog: relay and subscriber in this process, ${describeBudget(cpuBudget(cpuSpent(), backlog.ids.length), 'events/s')}`);
  } finally {
    await manager.stop();
    await relay.stop();
    await store.close();
    await kafka.stop();
    await database.stop();
  }
}

runBenchmark(main);
