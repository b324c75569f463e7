import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { startRelay, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { uniqueName } from '../support/database';
import { collectTopics, eventually, kafkaBrokers, type KafkaCollector } from '../support/kafka-collector';
import { startPostgresProcess, type Child } from '../server/child-process';

/** A PostgreSQL of its own, so the test can stop and restart it under a leading relay without disturbing other test files. */
describe('a leading relay whose database goes away', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-relay-down-'));
  let pg: { child: Child; connectionString: string; port: number };
  let store: PostgresEventStore;
  let relay: RunningRelay | undefined;
  let collector: KafkaCollector | undefined;

  beforeAll(async () => {
    pg = await startPostgresProcess(dataDir);
    store = await PostgresEventStore.connect({ connectionString: pg.connectionString, poolSize: 4 });
  }, 120_000);

  afterAll(async () => {
    await relay?.stop();
    await collector?.stop();
    await store?.close();
    await pg?.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const storedCursor = async () => {
    const client = new Client({ connectionString: pg.connectionString });
    await client.connect();
    try {
      return (await client.query('SELECT cursor FROM eventuate.relay_cursors')).rows[0]?.cursor as string | undefined;
    } finally {
      await client.end();
    }
  };

  it('backs off while it is down, takes the lock again when it is back, and resumes from its stored cursor', async () => {
    const prefix = `${uniqueName('down')}.`;
    collector = await collectTopics([`${prefix}Lamp`]);
    relay = startRelay({
      store,
      connectionString: pg.connectionString,
      brokers: kafkaBrokers(),
      topicPrefix: prefix,
      logger: pino({ level: 'silent' }),
      leaderPollMs: 200,
      lockTimeoutMs: 10_000,
      lagIntervalMs: 200,
      retry: { baseMs: 50, maxMs: 500 },
    });
    for (let i = 1; i <= 3; i++) await store.create({ entityType: 'Lamp', entityId: `l-${i}`, events: [{ eventType: 'On', eventData: { i } }] });
    await collector.waitFor(3);
    await eventually(() => relay!.status().lagEvents === 0 && relay!.status().leader, 'the relay leads and caught up');
    const cursorBeforeStop = await storedCursor();
    expect(cursorBeforeStop).toBeDefined();

    expect(await pg.child.stop()).toBe(0);
    await eventually(() => !relay!.status().leader, 'the relay gives up the leadership it can no longer prove');
    // It keeps trying (the backoff): after a while it is still standing, not leading and not crashed.
    await new Promise((r) => setTimeout(r, 1500));
    expect(relay.status()).toMatchObject({ leader: false, publishedEvents: 3 });

    pg = await startPostgresProcess(dataDir, pg.port);
    await eventually(() => relay!.status().leader, 'the relay takes the lock again', 60_000);
    for (let i = 4; i <= 5; i++) await store.create({ entityType: 'Lamp', entityId: `l-${i}`, events: [{ eventType: 'On', eventData: { i } }] });
    await collector.waitFor(5);
    await eventually(() => relay!.status().lagEvents === 0, 'the relay caught up');
    // Let anything published twice arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    // Resumed from the stored cursor: nothing before it published again (keys spread over partitions, hence sorted).
    expect(collector.messages.map((m) => m.key).sort()).toEqual(['l-1', 'l-2', 'l-3', 'l-4', 'l-5']);
    expect(relay.status().publishedEvents).toBe(5);
    expect(await storedCursor()).not.toBe(cursorBeforeStop);
  }, 180_000);
});
