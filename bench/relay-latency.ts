/**
 * End-to-end latency from an HTTP append's response to the subscriber's handler, through the relay
 * (inside the server, as deployed with KAFKA_BROKERS) and Kafka; then relay throughput with the
 * subscriber keeping up. Run: npm run bench -- relay   (KAFKA_BROKERS / DATABASE_URL to use your own;
 * otherwise librdkafka's mock broker from kcat and an embedded PostgreSQL). BENCH_RATE, BENCH_SECONDS,
 * BENCH_BURST change the load; BENCH_MAX_WAIT the subscriber's fetch wait (the mock broker holds
 * every fetch that long, so there it is a floor under the latency; Kafka answers at once).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { DomainEvent, EventHandlerContext, EventHandlerMethod, EventSubscriber, SubscriptionManager, kafkaSource, memoryDeadLetters } from '../client';
import { startMockKafka } from '../test/support/kafka-mock';
import { benchDatabase, percentile, report, requestJson, runBenchmark, startServerProcess } from './support';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 1;
const BURST_EVENTS = Number(process.env.BENCH_BURST ?? 20_000);
const prefix = `bench${Date.now()}.`;

@DomainEvent('Ticked')
class Ticked {}

const appendedAt = new Map<string, number>();
const handledAt = new Map<string, number>();

@EventSubscriber('benchLatency', { entityTypes: ['BenchTick'] })
class LatencyProbe {
  @EventHandlerMethod(Ticked)
  ticked(ctx: EventHandlerContext<Ticked>) {
    if (!handledAt.has(ctx.eventId)) handledAt.set(ctx.eventId, performance.now());
  }
}


async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the subscriber');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function append(url: string, events: number): Promise<string[]> {
  const ids = Array.from({ length: events }, () => randomUUID());
  const answer = await requestJson('POST', `${url}/entity/BenchTick`, { events: ids.map((eventId) => ({ eventId, eventType: 'Ticked', eventData: {} })) });
  if (answer.status !== 201) throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`);
  return ids;
}

/** Open loop: one append every 1000/RATE ms, whatever the previous ones are doing. */
async function latencyAtRate(url: string): Promise<void> {
  const pending: Promise<void>[] = [];
  const measured: string[] = [];
  const start = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const warm = i >= RATE * WARMUP_SECONDS;
    pending.push(
      append(url, 1).then(([id]) => {
        appendedAt.set(id, performance.now());
        if (warm) measured.push(id);
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  await until(() => measured.every((id) => handledAt.has(id)), 60_000);
  const latencies = measured.map((id) => handledAt.get(id)! - appendedAt.get(id)!).sort((a, b) => a - b);
  report(`appends/s offered (1 event each, ${SECONDS}s, first ${WARMUP_SECONDS}s not measured)`, total / elapsed, 'events/s');
  report('append response -> handler: p50', percentile(latencies, 50), 'ms');
  report('append response -> handler: p99', percentile(latencies, 99), 'ms');
  report('append response -> handler: max', latencies[latencies.length - 1], 'ms', '(negative: the handler ran before the client read the response)');
}

async function burstThroughput(url: string): Promise<void> {
  const perAppend = 100;
  const appends = Math.ceil(BURST_EVENTS / perAppend);
  const ids: string[] = [];
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < appends) {
        next++;
        ids.push(...(await append(url, perAppend)));
      }
    }),
  );
  const written = (performance.now() - start) / 1000;
  await until(() => ids.every((id) => handledAt.has(id)), 120_000);
  const delivered = (performance.now() - start) / 1000;
  report(`burst of ${ids.length} events: written over HTTP (100 per append, 8 writers)`, ids.length / written, 'events/s');
  report('burst: relayed to Kafka and handled by the subscriber', ids.length / delivered, 'events/s', `(last handled ${((delivered - written) * 1000).toFixed(0)} ms after the last append)`);
}

async function main(): Promise<void> {
  const database = await benchDatabase();
  const kafka = process.env.KAFKA_BROKERS ? { brokers: process.env.KAFKA_BROKERS, stop: async () => undefined } : await startMockKafka();
  const server = await startServerProcess({ DATABASE_URL: database.connectionString, KAFKA_BROKERS: kafka.brokers, EVENTUATE_TOPIC_PREFIX: prefix, EVENTUATE_SCHEMA: `bench_relay_${Date.now()}` });
  const manager = new SubscriptionManager({
    source: kafkaSource({ brokers: kafka.brokers.split(','), topicPrefix: prefix, maxWaitTimeMs: process.env.BENCH_MAX_WAIT ? Number(process.env.BENCH_MAX_WAIT) : undefined }),
    deadLetters: memoryDeadLetters(),
    subscribers: [new LatencyProbe()],
    logger: pino({ level: 'warn' }),
  });
  try {
    await manager.start();
    // The first event creates the topic and lets the group settle; not measured.
    const [first] = await append(server.url, 1);
    await until(() => handledAt.has(first), 60_000);
    console.log(`Kafka: ${process.env.KAFKA_BROKERS ? kafka.brokers : "librdkafka's mock broker (kcat)"}; relay inside the server process`);
    await latencyAtRate(server.url);

    await burstThroughput(server.url);
  } finally {
    await manager.stop();
    await server.stop();
    await kafka.stop();
    await database.stop();
  }
}

runBenchmark(main);
