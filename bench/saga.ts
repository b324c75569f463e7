/**
 * Three-step orchestrated sagas (the order saga of test/sagas: credit, stock, delivery) with the
 * participants in another process (test/sagas/saga-participant-process.ts: their own
 * SubscriptionManager and store connections), the orchestrator here, first over the event store's
 * feed, then over Kafka (the relay in this process; KAFKA_BROKERS, or librdkafka's mock broker from
 * kcat, which holds every fetch for the consumers' maxWaitTime, 50 ms, and so adds to each hop).
 * Prints for each: sagas completed per second, p50/p99 from start to completion, the events each saga
 * wrote; and, as the yardstick measured in the same run, the rate of one-event appends made one after
 * another on the same store: a saga's events are appends in a chain, so "events written per second by
 * sagas / sequential append rate" says how much the orchestration costs beyond its writes.
 * Flags: --sagas 200 --concurrency 8 --via feed,kafka.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AggregateRepository, SubscriptionManager, feedSource, kafkaSource, memoryCursorStore, memoryDeadLetters, sagaOrchestrator, type EventSource } from '../client';
import { startRelay } from '../event-store-server/relay';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, sagaEndings } from '../test/sagas/order-saga-domain';
import { spawnTs } from '../test/server/child-process';
import { startMockKafka } from '../test/support/kafka-mock';
import { benchDatabase, percentile, runBenchmark, type BenchDatabase } from './support';

const { values } = parseArgs({ options: { sagas: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' }, via: { type: 'string', default: 'feed,kafka' } } });
const SAGAS = Number(values.sagas);
const CONCURRENCY = Number(values.concurrency);
const VIAS = values.via.split(',');
const quiet = pino({ level: 'silent' });


/** The yardstick: one-event appends one after another, per second. */
async function sequentialAppendRate(store: PostgresEventStore): Promise<number> {
  const started = performance.now();
  await store.create({ entityType: 'BenchProbe', entityId: 'p', events: [{ eventType: 'Probed', eventData: {} }] });
  const APPENDS = 500;
  for (let v = 1; v <= APPENDS; v++) await store.append({ entityType: 'BenchProbe', entityId: 'p', expectedVersion: v, events: [{ eventType: 'Probed', eventData: {} }] });
  return (APPENDS + 1) / ((performance.now() - started) / 1000);
}

/** Resolves when the saga's hook heard it end; the hooks run here, in the orchestrator. */
const waiting = new Map<string, (ending: string) => void>();
const push = sagaEndings.push.bind(sagaEndings);
sagaEndings.push = (...endings) => {
  for (const ending of endings) waiting.get(ending.sagaId)?.(ending.ending);
  return push(...endings);
};

async function run(via: string, database: BenchDatabase): Promise<void> {
  const schema = `bench_sagas_${via}_${Date.now()}`;
  const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema, poolSize: 8 });
  const kafka = via === 'kafka' ? (process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined } : await startMockKafka()) : undefined;
  const prefix = `${schema}.`;
  const relay = kafka ? startRelay({ store, connectionString: database.connectionString, schema, brokers: kafka.brokers.split(','), topicPrefix: prefix, logger: quiet }) : undefined;
  const participants = spawnTs(resolve(__dirname, '../test/sagas/saga-participant-process.ts'), [], {
    env: { ...process.env, DATABASE_URL: database.connectionString, EVENTUATE_SCHEMA: schema, SAGA_SOURCE: via, LOG_LEVEL: 'warn', ...(kafka ? { KAFKA_BROKERS: kafka.brokers, EVENTUATE_TOPIC_PREFIX: prefix } : {}) },
  });
  const source: EventSource = kafka
    ? kafkaSource({ brokers: kafka.brokers.split(','), topicPrefix: prefix })
    : feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 });
  const orders = sagaOrchestrator(orderSaga, store, { logger: quiet });
  const orchestration = new SubscriptionManager({ source, deadLetters: memoryDeadLetters(), subscribers: [orders], logger: quiet });
  try {
    const appendRate = await sequentialAppendRate(store);
    const customers = new AggregateRepository(Customer, store);
    const warehouses = new AggregateRepository(Warehouse, store);
    const couriers = new AggregateRepository(Courier, store);
    const parties = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => ({
        customerId: (await customers.save(new OpenCustomer(1_000_000_000))).entityId,
        warehouseId: (await warehouses.save(new AddStock(1_000_000))).entityId,
        courierId: (await couriers.save(new OpenCourier(true))).entityId,
      })),
    );
    await participants.waitForLine(/^participants ready$/, 120_000);
    await orchestration.start();
    const runOne = async (party: (typeof parties)[number]): Promise<number> => {
      const sagaId = randomUUID();
      const ended = new Promise<string>((done) => waiting.set(sagaId, done));
      const startedAt = performance.now();
      await orders.start({ orderId: randomUUID(), ...party, amount: 1, quantity: 1, delivery: true }, { sagaId });
      const ending = await ended;
      waiting.delete(sagaId);
      if (ending !== 'completed') throw new Error(`saga ${sagaId} ${ending}: the benchmark's sagas must complete`);
      return performance.now() - startedAt;
    };
    // Warm-up, not measured: Kafka's topics and groups settle on the first messages.
    await Promise.all(parties.map(runOne));
    const eventsBefore = (await store.listEntityTypes()).reduce((sum, t) => sum + t.eventCount, 0);
    const latencies: number[] = [];
    const runStarted = performance.now();
    let next = 0;
    await Promise.all(
      parties.map(async (party) => {
        while (next++ < SAGAS) latencies.push(await runOne(party));
      }),
    );
    const seconds = (performance.now() - runStarted) / 1000;
    const eventsAfter = (await store.listEntityTypes()).reduce((sum, t) => sum + t.eventCount, 0);

    const sorted = [...latencies].sort((a, b) => a - b);
    const eventsPerSaga = (eventsAfter - eventsBefore) / SAGAS;
    const sagaRate = latencies.length / seconds;
    const where = kafka ? `over Kafka (${process.env.KAFKA_BROKERS ? kafka.brokers : "librdkafka's mock broker"}, relay in the orchestrator's process)` : 'over the feed';
    console.log(`${SAGAS} sagas of 3 steps, ${CONCURRENCY} at a time, participants in another process, ${where}`);
    console.log(`  completed: ${latencies.length}, ${sagaRate.toFixed(1)} sagas/s, start -> completion p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`);
    console.log(
      `  events per saga: ${eventsPerSaga.toFixed(1)}; sequential one-event appends in the same run: ${Math.round(appendRate)}/s; ` +
        `sagas wrote ${Math.round(sagaRate * eventsPerSaga)} events/s = ${((sagaRate * eventsPerSaga) / appendRate).toFixed(2)}x that rate`,
    );
  } finally {
    await orchestration.stop();
    await participants.stop('SIGTERM');
    await relay?.stop();
    await kafka?.stop();
    await store.close();
  }
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  try {
    for (const via of VIAS) {
      if (via !== 'feed' && via !== 'kafka') throw new Error(`--via takes feed and/or kafka, not '${via}'`);
      await run(via, database);
    }
  } finally {
    await database.stop();
  }
}

runBenchmark(main);
