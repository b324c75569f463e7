import { DEFAULT_RELAY_BATCH_SIZE } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers, type KafkaCollector } from '../support/kafka-collector';
import { spawnRelay, type RelayProcess } from './relay-process';

const ENTITIES = 50;
const EVENTS_PER_ENTITY = 100;
const EVENTS_PER_APPEND = 5;
const TOTAL = ENTITIES * EVENTS_PER_ENTITY;
const RELAY_BATCH_SIZE = DEFAULT_RELAY_BATCH_SIZE;

describe('event relay killed mid-stream', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let collector: KafkaCollector | undefined;
  const relays: RelayProcess[] = [];

  beforeAll(async () => {
    db = testDatabase('crash');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 10 });
  });
  afterAll(async () => {
    for (const relay of relays) await relay.kill();
    await collector?.stop();
    await store.close();
    await db.drop();
  });

  jest.setTimeout(180_000);

  it(`a SIGKILLed relay, restarted, publishes all ${TOTAL} events; duplicates stay within one batch`, async () => {
    const prefix = `${uniqueName('crash')}.`;
    const env = { DATABASE_URL: db.connectionString, KAFKA_BROKERS: kafkaBrokers().join(','), EVENTUATE_SCHEMA: db.schema, EVENTUATE_TOPIC_PREFIX: prefix };
    collector = await collectTopics([`${prefix}Meter`]);
    relays.push(spawnRelay(env));

    // Ten writers append to fifty meters, five events at a time, in two halves: the first while the
    // first relay runs, the second only after it was killed. So the kill lands mid-stream whatever the
    // machine's speed: at most half the events exist when it comes, and the second relay must publish
    // the rest from the cursor the first one left.
    const nextVersion = new Map<string, number>();
    const rounds = (from: number, to: number) => {
      const appends: Array<{ id: string; count: number }> = [];
      for (let round = from; round < to; round++) {
        for (let e = 0; e < ENTITIES; e++) appends.push({ id: `meter-${e}`, count: EVENTS_PER_APPEND });
      }
      return appends;
    };
    let written = 0;
    const write = (appends: Array<{ id: string; count: number }>) => {
      const writer = async () => {
        for (let next = appends.shift(); next; next = appends.shift()) {
          const version = nextVersion.get(next.id) ?? 0;
          nextVersion.set(next.id, version + next.count);
          const events = Array.from({ length: next.count }, (_, i) => ({ eventType: 'Reading', eventData: { value: version + i + 1 } }));
          if (version === 0) await store.create({ entityType: 'Meter', entityId: next.id, events });
          else await store.append({ entityType: 'Meter', entityId: next.id, expectedVersion: version, events });
          written += next.count;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      return Promise.all(Array.from({ length: 10 }, writer));
    };
    const half = EVENTS_PER_ENTITY / EVENTS_PER_APPEND / 2;
    // Writing starts once the relay leads (it created its cursor table), so it publishes while they write.
    await eventually(async () => (await db.pool.query(`SELECT to_regclass($1) AS t`, [`"${db.schema}".relay_cursors`])).rows[0].t !== null, 'the relay leads', 90_000);
    const firstHalf = write(rounds(0, half));

    await eventually(() => collector!.messages.length >= TOTAL / 4, 'a quarter of the stream reached Kafka', 90_000);
    await relays[0].kill();
    const seenAtKill = collector.messages.length;
    const writtenAtKill = written;
    await firstHalf;
    relays.push(spawnRelay(env));
    await write(rounds(half, 2 * half));

    await eventually(() => new Set(collector!.messages.map((m) => m.value.id)).size >= TOTAL, `all ${TOTAL} events reached Kafka`, 60_000);
    // Let anything still in flight arrive before counting duplicates.
    await new Promise((r) => setTimeout(r, 500));
    const ids = collector.messages.map((m) => m.value.id as string);
    const duplicates = ids.length - new Set(ids).size;
    console.log(
      `relay SIGKILLed after ${seenAtKill} events reached Kafka (${writtenAtKill} of ${TOTAL} written; the rest written after the kill); ` +
        `the consumer saw all ${new Set(ids).size} events, ${duplicates} duplicates (bound: two batches of ${RELAY_BATCH_SIZE}: one published, one whose cursor was being stored)`,
    );
    expect(writtenAtKill).toBeLessThanOrEqual(TOTAL / 2);
    expect(seenAtKill).toBeLessThan(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    expect(duplicates).toBeLessThanOrEqual(2 * RELAY_BATCH_SIZE);

    // Per entity, the first delivery of each version comes in version order.
    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const m of collector.messages) {
      if (seen.has(m.value.id)) continue;
      seen.add(m.value.id);
      firstSeen.set(m.key, [...(firstSeen.get(m.key) ?? []), m.value.entityVersion]);
    }
    for (const versions of firstSeen.values()) expect(versions).toEqual(Array.from({ length: EVENTS_PER_ENTITY }, (_, i) => i + 1));
  });
});
