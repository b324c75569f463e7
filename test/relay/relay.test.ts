import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startRelay, toKafkaMessage, type RunningRelay } from '../../event-store-server/relay';
import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase, uniqueName, type TestDatabase } from '../support/database';
import { collectTopics, eventually, kafkaBrokers } from '../support/kafka-collector';
import { pausableProxy } from './pausable-proxy';

const quiet = pino({ level: 'silent' });

describe('event relay', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
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
  let prefix: string;

  beforeEach(async () => {
    db = testDatabase('relay');
    prefix = `${uniqueName('relay')}.`;
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 5 });
  });
  afterEach(async () => {
    for (const running of relays.splice(0)) await running.stop();
    await store.close();
    await db.drop();
  });

  const storedCursor = async (name = 'eventuate-relay') => {
    const { rows } = await db.pool.query(`SELECT cursor FROM "${db.schema}".relay_cursors WHERE relay_name = $1`, [name]).catch(() => ({ rows: [] }));
    return rows[0]?.cursor as string | undefined;
  };

  it('publishes the Eventuate message that a client other than kafkajs (kcat) reads, eventData as a JSON string', async () => {
    const created = await store.create({
      entityType: 'Order$Line',
      entityId: 'order-1',
      events: [{ eventType: 'OrderCreated', eventData: { total: 42, items: ['a'] }, metadata: { correlationId: 'c-1' } }],
    });
    relay();
    const topic = `${prefix}Order_DLR_Line`;
    await eventually(async () => (await storedCursor()) !== undefined, 'the relay stores its cursor');

    const { stdout } = await promisify(execFile)('kcat', ['-C', '-b', kafkaBrokers()[0], '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], {
      timeout: 20_000,
    });
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(records).toHaveLength(1);
    expect(records[0].key).toBe('order-1');
    expect(records[0].headers).toEqual(['event-id', created.eventIds[0], 'event-type', 'OrderCreated']);
    const value = JSON.parse(records[0].payload);
    expect(value).toEqual({
      id: created.eventIds[0],
      entityId: 'order-1',
      entityType: 'Order$Line',
      eventType: 'OrderCreated',
      eventData: expect.any(String),
      metadata: expect.any(String),
      entityVersion: 1,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      cursor: expect.any(String),
    });
    expect(JSON.parse(value.eventData)).toEqual({ total: 42, items: ['a'] });
    expect(JSON.parse(value.metadata)).toEqual({ correlationId: 'c-1' });
  });

  it('publishes, from the feed read with its JSON as text, the very message it made from the objects', async () => {
    const tricky = { '10': 'integer-like keys first', b: [1e21, 5e-324, 2 ** 60, -0, 0.1], s: ['a, b: c', '"\\', '\u2028😀é', '\u0001'], e: { o: {}, a: [] } };
    await store.create({ entityType: 'Tricky', entityId: 't-1', events: [{ eventType: 'Odd', eventData: tricky, metadata: { m: tricky } }] });
    relay();
    await eventually(async () => (await storedCursor()) !== undefined, 'the relay stores its cursor');
    const { stdout } = await promisify(execFile)('kcat', ['-C', '-b', kafkaBrokers()[0], '-t', `${prefix}Tricky`, '-o', 'beginning', '-e', '-J', '-q'], {
      timeout: 20_000,
    });
    const [record] = stdout.trim().split('\n').map((line) => JSON.parse(line));
    const [asObjects] = (await store.readFeed({ entityTypes: ['Tricky'] })).events;
    expect(record.payload).toBe(toKafkaMessage(asObjects).value);
  });

  it('while the broker is down: retries, is not ready, reports lag, keeps its cursor; a relay on a live broker then loses nothing', async () => {
    // Port 1 refuses connections: a broker that is down.
    const down = relay({ brokers: ['127.0.0.1:1'], requestTimeoutMs: 1000 });
    for (let i = 0; i < 5; i++) await store.create({ entityType: 'Parcel', entityId: `p-${i}`, events: [{ eventType: 'Sent', eventData: { i } }] });
    await eventually(() => down.status().leader && down.status().lagEvents === 5, 'the relay leads and measures 5 events of lag');
    await new Promise((r) => setTimeout(r, 1500));
    const status = down.status();
    expect(status).toMatchObject({ ready: false, leader: true, lagEvents: 5, publishedEvents: 0 });
    expect(status.lagSeconds).toBeGreaterThan(0);
    await expect(down.checkReady()).rejects.toThrow(/cannot publish to Kafka/);
    const registry = new Registry();
    down.registerMetrics(registry);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/^eventuate_relay_lag_events 5$/m);
    expect(metrics).toMatch(/^eventuate_relay_ready 0$/m);
    expect(await storedCursor()).toBeUndefined();
    await down.stop();

    const collector = await collectTopics([`${prefix}Parcel`]);
    try {
      const up = relay();
      await collector.waitFor(5);
      await eventually(() => up.status().ready && up.status().lagEvents === 0, 'the relay is ready and caught up');
      await expect(up.checkReady()).resolves.toBeUndefined();
      expect(collector.messages.map((m) => m.key).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
    } finally {
      await collector.stop();
    }
  });

  it('elects one leader; when the leader\'s database connection dies another relay takes over from the stored cursor', async () => {
    const collector = await collectTopics([`${prefix}Ticket`]);
    try {
      const first = relay({ relayName: 'shared' });
      await eventually(() => first.status().leader, 'the first relay leads');
      const second = relay({ relayName: 'shared' });
      await store.create({ entityType: 'Ticket', entityId: 't-1', events: [{ eventType: 'Opened', eventData: {} }] });
      await collector.waitFor(1);
      expect(second.status().leader).toBe(false);

      // Kill the leader's lock connection from the database side, as if its host vanished, and keep
      // that relay from coming back so the standby must take over.
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [`eventuate-relay:${db.schema}:shared`],
      );
      expect(killed.rowCount).toBe(1);
      await first.stop();
      await eventually(() => second.status().leader, 'the standby takes over');
      await store.create({ entityType: 'Ticket', entityId: 't-2', events: [{ eventType: 'Opened', eventData: {} }] });
      await collector.waitFor(2);
      expect(collector.messages.map((m) => m.key)).toEqual(['t-1', 't-2']);
    } finally {
      await collector.stop();
    }
  });

  it('a leader whose lock session is terminated stops publishing and moving its cursor by itself, then resumes from its cursor once it leads again', async () => {
    const collector = await collectTopics([`${prefix}Bell`]);
    const rival = new Client({ connectionString: db.connectionString });
    await rival.connect();
    try {
      const leader = relay({ relayName: 'lone' });
      await store.create({ entityType: 'Bell', entityId: 'b-1', events: [{ eventType: 'Rang', eventData: {} }] });
      await collector.waitFor(1);
      await eventually(async () => (await storedCursor('lone')) !== undefined, 'the cursor is stored');
      const cursorBefore = await storedCursor('lone');
      const publishedBefore = leader.status().publishedEvents;

      // The rival queues for the lock first, so that it, not the relay, gets it when the session dies:
      // nothing but the relay itself can then stop it from publishing.
      const lockName = `eventuate-relay:${db.schema}:lone`;
      const rivalHolds = rival.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
      await eventually(async () => {
        const { rows } = await db.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = $1`, [(rival as any).processID]);
        return rows.length === 1;
      }, 'the rival waits for the lock');
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [lockName],
      );
      expect(killed.rowCount).toBe(1);
      await rivalHolds;
      await eventually(() => !leader.status().leader, 'the relay notices it no longer leads');

      await store.create({ entityType: 'Bell', entityId: 'b-2', events: [{ eventType: 'Rang', eventData: {} }] });
      // Long enough for heartbeats, lag samples and the relay's own attempts to take the lock again.
      await new Promise((r) => setTimeout(r, 2000));
      expect(collector.messages.map((m) => m.key)).toEqual(['b-1']);
      expect(leader.status()).toMatchObject({ leader: false, publishedEvents: publishedBefore });
      expect(await storedCursor('lone')).toBe(cursorBefore);

      await rival.query('SELECT pg_advisory_unlock_all()');
      await collector.waitFor(2);
      await eventually(() => leader.status().leader, 'the relay leads again');
      await new Promise((r) => setTimeout(r, 300));
      expect(collector.messages.map((m) => m.key)).toEqual(['b-1', 'b-2']);
    } finally {
      await rival.end();
      await collector.stop();
    }
  });

  it('a leader whose lock session went silent (and was ended by the database) publishes nothing: it checks the lock before each batch', async () => {
    const collector = await collectTopics([`${prefix}Gate`]);
    const proxy = await pausableProxy(db.connectionString);
    const rival = new Client({ connectionString: db.connectionString });
    await rival.connect();
    try {
      // Only the lock session goes through the proxy; the feed is read directly.
      const leader = relay({ relayName: 'cut', connectionString: proxy.connectionString });
      await store.create({ entityType: 'Gate', entityId: 'g-1', events: [{ eventType: 'Opened', eventData: {} }] });
      await collector.waitFor(1);
      await eventually(() => leader.status().lagEvents === 0, 'the relay caught up');

      // The lock session goes silent, as across a partition or for a process paused between reading a batch and
      // sending it; the database then ends it (as its idle_session_timeout would) and a rival takes the lock.
      proxy.pause();
      const lockName = `eventuate-relay:${db.schema}:cut`;
      const rivalHolds = rival.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [lockName],
      );
      await rivalHolds;
      // The relay has not heard of it (its heartbeat needs up to lockTimeoutMs / 2 to give up), and the feed wakes it at once.
      expect(leader.status().leader).toBe(true);
      await store.create({ entityType: 'Gate', entityId: 'g-2', events: [{ eventType: 'Opened', eventData: {} }] });
      await eventually(() => !leader.status().leader, 'the relay finds it lost the lock');
      await new Promise((r) => setTimeout(r, 500));
      expect(collector.messages.map((m) => m.key)).toEqual(['g-1']);
      expect(leader.status().publishedEvents).toBe(1);
    } finally {
      await rival.end();
      await proxy.close();
      await collector.stop();
    }
  });

  it('refuses a batch size the feed would refuse to read, at start, instead of retrying for ever', () => {
    for (const batchSize of [0, 1001, 2.5]) {
      expect(() => relay({ batchSize })).toThrow(
        `the relay's batchSize must be an integer from 1 to 1000 (the feed's largest page), not ${batchSize}`,
      );
    }
  });

  it('keeps one lock session however often lag is sampled, and leaves none holding the lock once stopped', async () => {
    const collector = await collectTopics([`${prefix}Dial`]);
    const heldBy = async () =>
      (
        await db.pool.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
          [`eventuate-relay:${db.schema}:dial`],
        )
      ).rows[0].n as number;
    try {
      // Lag samples ask for the lock's session while the election is connecting it.
      const busy = relay({ relayName: 'dial', lagIntervalMs: 1 });
      await store.create({ entityType: 'Dial', entityId: 'd-1', events: [{ eventType: 'Turned', eventData: {} }] });
      await collector.waitFor(1, 20_000);
      expect(busy.status().leader).toBe(true);
      expect(await heldBy()).toBe(1);
      await busy.stop();
      expect(await heldBy()).toBe(0);
    } finally {
      await collector.stop();
    }
  });
});
