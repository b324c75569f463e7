import { Client } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { OptimisticLockingError, PostgresEventStore, ServiceUnavailableError, StoredEvent } from '../../src';
import { decodeCursor } from '../../src/cursor';
import { testDatabase, TestDatabase } from '../support/database';
import { drain } from '../support/event-store-contract';

const events = (n: number) => Array.from({ length: n }, (_, i) => ({ eventType: 'Counted', eventData: { i } }));

describe('PostgresEventStore on a real PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = testDatabase('pgstore');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  /** A transaction that has written one event row and stays open until the caller ends it. */
  async function openTransactionWriting(entityType: string, entityId: string): Promise<Client> {
    const client = new Client({ connectionString: db.connectionString });
    await client.connect();
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "${db.schema}".events (event_id, entity_type, entity_id, entity_version, event_type, event_data)
       VALUES ($1, $2, $3, 1, 'Written', '{}')`,
      [uuidv4(), entityType, entityId],
    );
    return client;
  }

  const count = async (table: string) => Number((await db.pool.query(`SELECT count(*) FROM "${db.schema}".${table}`)).rows[0].count);

  it('lets exactly one of 20 concurrent appends at the same version win, leaving no gap', async () => {
    const { entityId } = await store.create({ entityType: 'Race', events: events(1) });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.append({ entityType: 'Race', entityId, expectedVersion: 1, events: events(2) })),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const l of lost) {
      expect(l.reason).toBeInstanceOf(OptimisticLockingError);
      expect(l.reason).toMatchObject({ expectedVersion: 1, actualVersion: 3 });
    }
    const { rows } = await db.pool.query(
      `SELECT entity_version FROM "${db.schema}".events WHERE entity_type = 'Race' AND entity_id = $1 ORDER BY entity_version`,
      [entityId],
    );
    expect(rows.map((r) => r.entity_version)).toEqual([1, 2, 3]);
  });

  it('never moves the feed cursor past a transaction that commits out of order', async () => {
    let cursor = await drain(store, undefined);
    const seen: StoredEvent[] = [];
    const poll = async (waitMs = 0) => {
      // Only this test's types: earlier tests' events may still be joining the feed.
      const page = await store.readFeed({ after: cursor, limit: 100, waitMs, entityTypes: ['Late', 'Early'] });
      seen.push(...page.events);
      cursor = page.cursor;
    };
    // Transaction A takes the lower position and stays open...
    const slow = await openTransactionWriting('Late', 'late-1');
    // ...while B, with the higher position, commits first.
    await store.create({ entityType: 'Early', entityId: 'early-1', events: events(1) });
    const slowXid = BigInt((await slow.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid);
    await poll();
    await poll();
    expect(seen).toEqual([]);
    expect(decodeCursor(cursor).transactionId).toBeLessThan(slowXid);
    await slow.query('COMMIT');
    await slow.end();
    while (seen.length < 2) await poll(10_000);
    expect(seen.map((e) => e.entityId)).toEqual(['late-1', 'early-1']);
  });

  it('orders the feed by transaction id as a number, also where its digits grow (9 before 10)', async () => {
    for (const [xid, version] of [
      [10, 2],
      [9, 1],
    ]) {
      await db.pool.query(
        `INSERT INTO "${db.schema}".events (event_id, entity_type, entity_id, entity_version, event_type, event_data, transaction_id)
         VALUES ($1, 'Digits', 'd-1', $2, 'Written', '{}', $3::text::xid8)`,
        [uuidv4(), version, xid],
      );
    }
    const first = await store.readFeed({ entityTypes: ['Digits'], limit: 1 });
    const second = await store.readFeed({ after: first.cursor, entityTypes: ['Digits'], limit: 1 });
    expect([...first.events, ...second.events].map((e) => e.entityVersion)).toEqual([1, 2]);
    const unfiltered = await store.readFeed({ limit: 2 });
    expect(unfiltered.events.map((e) => e.entityId)).toEqual(['d-1', 'd-1']);
  });

  it('is not stalled by an append that rolled back', async () => {
    const cursor = await drain(store, undefined);
    const doomed = await openTransactionWriting('Doomed', 'd-1');
    await store.create({ entityType: 'After', entityId: 'after-rollback', events: events(1) });
    const waiting = store.readFeed({ after: cursor, waitMs: 15_000, entityTypes: ['After', 'Doomed'] });
    await new Promise((r) => setTimeout(r, 50));
    await doomed.query('ROLLBACK');
    await doomed.end();
    const page = await waiting;
    expect(page.events.map((e) => e.entityId)).toEqual(['after-rollback']);
  });

  it('keeps all or none of an append whose connection is killed in the middle', async () => {
    const { entityId } = await store.create({ entityType: 'Killed', events: events(1) });
    // Slow every insert of this entity's events down, so the append is surely mid-way when killed.
    await db.pool.query(`
      CREATE FUNCTION "${db.schema}".slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END $$;
      CREATE TRIGGER slow_insert BEFORE INSERT ON "${db.schema}".events
        FOR EACH ROW WHEN (NEW.entity_type = 'Killed') EXECUTE FUNCTION "${db.schema}".slow_insert();`);
    try {
      const append = store.append({ entityType: 'Killed', entityId, expectedVersion: 1, events: events(500) });
      const outcome = append.then(
        () => 'committed',
        (err) => err,
      );
      let pid: number | undefined;
      for (let i = 0; i < 200 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 25));
        const { rows } = await db.pool.query(
          `SELECT pid FROM pg_stat_activity WHERE query LIKE '%WITH updated AS%' AND state = 'active' AND pid <> pg_backend_pid()`,
        );
        pid = rows[0]?.pid;
      }
      expect(pid).toBeDefined();
      await new Promise((r) => setTimeout(r, 300));
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      expect(await outcome).toBeInstanceOf(ServiceUnavailableError);
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n, max(entity_version) AS v FROM "${db.schema}".events WHERE entity_type = 'Killed' AND entity_id = $1`,
        [entityId],
      );
      expect(rows[0]).toEqual({ n: 1, v: 1 });
      expect((await store.load('Killed', entityId)).entityVersion).toBe(1);
      // The store recovers: the next append works.
      await store.append({ entityType: 'Killed', entityId, expectedVersion: 1, events: events(1) });
    } finally {
      await db.pool.query(`DROP TRIGGER slow_insert ON "${db.schema}".events`);
    }
  });

  it('changes no table when a write is refused', async () => {
    const { entityId } = await store.create({ entityType: 'Refused', events: events(2) });
    const before = [await count('entities'), await count('events'), await count('snapshots')];
    const refused = [
      () => store.append({ entityType: 'Refused', entityId, expectedVersion: 1, events: events(3), snapshot: { snapshotType: 'S', snapshotData: {} } }),
      () => store.create({ entityType: 'Refused', entityId, events: events(1) }),
      () => store.append({ entityType: 'Refused', entityId, expectedVersion: 2, events: [{ eventType: 'Bad', eventData: { text: 'nul \u0000 inside' } }] }),
      () => store.append({ entityType: 'Refused', entityId: 'missing', expectedVersion: 1, events: events(1) }),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toThrow();
    expect([await count('entities'), await count('events'), await count('snapshots')]).toEqual(before);
  });

  it('loads a 1,000-event entity with one query for the events', async () => {
    const { entityId } = await store.create({ entityType: 'Big', events: events(1000) });
    const seen: string[] = [];
    const original = (store as any).pool.query.bind((store as any).pool);
    (store as any).pool.query = (text: string, params: unknown[]) => {
      seen.push(text);
      return original(text, params);
    };
    try {
      const loaded = await store.load('Big', entityId);
      expect(loaded.events).toHaveLength(1000);
    } finally {
      (store as any).pool.query = original;
    }
    expect(seen).toHaveLength(2); // the head (version bound and snapshot) and the events
  });

  it('applies migrations once when several stores start together', async () => {
    const schema = `${db.schema}_m`;
    const stores = await Promise.all(
      [1, 2, 3].map(() => PostgresEventStore.connect({ connectionString: db.connectionString, schema })),
    );
    try {
      const { rows } = await db.pool.query(`SELECT version FROM "${schema}".schema_migrations`);
      expect(rows.map((r) => r.version)).toEqual([1, 2]);
      await stores[0].create({ entityType: 'Migrated', events: events(1) });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  it('answers ServiceUnavailableError when the database cannot be reached', async () => {
    const dead = new PostgresEventStore({ connectionString: 'postgres://postgres:x@127.0.0.1:1/postgres' });
    try {
      await expect(dead.ping()).rejects.toBeInstanceOf(ServiceUnavailableError);
      await expect(dead.append({ entityType: 'X', entityId: 'y', expectedVersion: 1, events: events(1) })).rejects.toBeInstanceOf(
        ServiceUnavailableError,
      );
    } finally {
      await dead.close();
    }
  });
});
