/**
 * Three-step orchestrated sagas (the order saga of test/sagas: credit, stock, delivery) over the
 * event store's feed, in process: the orchestrator and the participants each in a SubscriptionManager
 * of their own on one PostgresEventStore. Prints sagas completed per second, p50/p99 from start to
 * completion, the events each saga wrote, and, as the yardstick measured in the same run, the rate of
 * one-event appends made one after another on the same store: a saga's events are appends in a chain,
 * so "events written per second by sagas / sequential append rate" says how much the orchestration
 * costs beyond its writes. Flags: --sagas 200 --concurrency 8.
 * Not yet: participants in another process, and over Kafka (issue 12).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AggregateRepository, SubscriptionManager, feedSource, memoryCursorStore, memoryDeadLetters, sagaOrchestrator, sagaParticipant } from '../client';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { AddStock, Courier, Customer, OpenCourier, OpenCustomer, Warehouse, orderSaga, sagaEndings } from '../test/sagas/order-saga-domain';
import { benchDatabase } from './support';

const { values } = parseArgs({ options: { sagas: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } } });
const SAGAS = Number(values.sagas);
const CONCURRENCY = Number(values.concurrency);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: 'bench_sagas', poolSize: 8 });
  const quiet = pino({ level: 'silent' });
  try {
    // The yardstick: one-event appends one after another.
    const probeStarted = performance.now();
    await store.create({ entityType: 'BenchProbe', entityId: 'p', events: [{ eventType: 'Probed', eventData: {} }] });
    const APPENDS = 500;
    for (let v = 1; v <= APPENDS; v++) await store.append({ entityType: 'BenchProbe', entityId: 'p', expectedVersion: v, events: [{ eventType: 'Probed', eventData: {} }] });
    const appendRate = (APPENDS + 1) / ((performance.now() - probeStarted) / 1000);

    const orders = sagaOrchestrator(orderSaga, store, { logger: quiet });
    const orchestration = new SubscriptionManager({ source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 }), deadLetters: memoryDeadLetters(), subscribers: [orders], logger: quiet });
    const participation = new SubscriptionManager({
      source: feedSource({ store, cursorStore: memoryCursorStore(), waitMs: 1000 }),
      deadLetters: memoryDeadLetters(),
      subscribers: [
        sagaParticipant(Customer, store, { sagas: [orderSaga], logger: quiet }),
        sagaParticipant(Warehouse, store, { sagas: [orderSaga], logger: quiet }),
        sagaParticipant(Courier, store, { sagas: [orderSaga], logger: quiet }),
      ],
      logger: quiet,
    });
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
    await orchestration.start();
    await participation.start();
    const eventsBefore = (await store.listEntityTypes()).reduce((sum, t) => sum + t.eventCount, 0);

    const startedAt = new Map<string, number>();
    const latencies: number[] = [];
    let waiting = new Map<string, () => void>();
    const push = sagaEndings.push.bind(sagaEndings);
    sagaEndings.push = (...endings) => {
      for (const ending of endings) {
        const at = startedAt.get(ending.sagaId);
        if (at !== undefined && ending.ending === 'completed') latencies.push(performance.now() - at);
        waiting.get(ending.sagaId)?.();
      }
      return push(...endings);
    };
    const runStarted = performance.now();
    let next = 0;
    await Promise.all(
      parties.map(async (party) => {
        for (let i = next++; i < SAGAS; i = next++) {
          const sagaId = randomUUID();
          const ended = new Promise<void>((resolve) => waiting.set(sagaId, resolve));
          startedAt.set(sagaId, performance.now());
          await orders.start({ orderId: randomUUID(), ...party, amount: 1, quantity: 1, delivery: true }, { sagaId });
          await ended;
        }
      }),
    );
    const seconds = (performance.now() - runStarted) / 1000;
    waiting = new Map();
    const eventsAfter = (await store.listEntityTypes()).reduce((sum, t) => sum + t.eventCount, 0);
    await orchestration.stop();
    await participation.stop();

    const sorted = [...latencies].sort((a, b) => a - b);
    const eventsPerSaga = (eventsAfter - eventsBefore) / SAGAS;
    const sagaRate = latencies.length / seconds;
    console.log(`${SAGAS} sagas of 3 steps, ${CONCURRENCY} at a time, over the feed in process`);
    console.log(`completed: ${latencies.length}, ${sagaRate.toFixed(1)} sagas/s, p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms`);
    console.log(
      `events per saga: ${eventsPerSaga.toFixed(1)}; sequential one-event appends in the same run: ${Math.round(appendRate)}/s; ` +
        `sagas wrote ${Math.round(sagaRate * eventsPerSaga)} events/s = ${((sagaRate * eventsPerSaga) / appendRate).toFixed(2)}x that rate`,
    );
  } finally {
    await store.close();
    await database.stop();
  }
}

void main();
