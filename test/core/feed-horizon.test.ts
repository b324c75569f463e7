import { Client, Pool } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { PostgresEventStore, StoredEvent } from '../../src';
import { decodeCursor } from '../../src/cursor';
import { buildQueries } from '../../src/postgres/queries';
import { scratchDatabase, ScratchDatabase } from '../support/database';
import { drain } from '../support/event-store-contract';

/**
 * The feed's horizon depends on this database's transactions only. The store runs in a database of
 * its own, so that no other test file's transactions move its horizon; "another database" is a
 * second one.
 */
describe('the feed horizon', () => {
  let home: ScratchDatabase;
  let elsewhere: ScratchDatabase;
  let store: PostgresEventStore;
  let pool: Pool;
  const sessions: Client[] = [];

  beforeAll(async () => {
    [home, elsewhere] = await Promise.all([scratchDatabase('home'), scratchDatabase('elsewhere')]);
    store = await PostgresEventStore.connect({ connectionString: home.connectionString });
    pool = new Pool({ connectionString: home.connectionString, max: 2 });
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await Promise.all([home.drop(), elsewhere.drop()]);
  });

  async function session(database: ScratchDatabase): Promise<Client> {
    const client = new Client({ connectionString: database.connectionString });
    await client.connect();
    sessions.push(client);
    return client;
  }

  /** A transaction that has taken a transaction id (and written nothing) and stays open. */
  async function openTransaction(database: ScratchDatabase): Promise<{ client: Client; xid: bigint }> {
    const client = await session(database);
    await client.query('BEGIN');
    const { rows } = await client.query('SELECT pg_current_xact_id()::text AS xid');
    return { client, xid: BigInt(rows[0].xid) };
  }

  const insertEvent = (client: Client | Pool, entityType: string, entityId: string) =>
    client.query(
      `INSERT INTO eventuate.events (event_id, entity_type, entity_id, entity_version, event_type, event_data)
       VALUES ($1, $2, $3, 1, 'Written', '{}')`,
      [uuidv4(), entityType, entityId],
    );

  const queries = buildQueries('"eventuate"');

  /** The first step of the horizon (`feedHorizon`): the transactions that hold the feed back, and S1's xmax. */
  async function heldAndXmax(): Promise<{ held: string; xmax: string }> {
    const { rows } = await pool.query(queries.feedHorizon);
    return rows[0];
  }

  /** The horizon if every held transaction still runs at the read: the lowest held id, else xmax. */
  async function horizon(): Promise<bigint> {
    const { held, xmax } = await heldAndXmax();
    const ids = held.replace(/[{}]/g, '').split(',').filter(Boolean).map(BigInt);
    return ids.reduce((lowest, id) => (id < lowest ? id : lowest), BigInt(xmax));
  }

  async function readUntil(cursor: string, count: number, entityTypes: string[]): Promise<StoredEvent[]> {
    const seen: StoredEvent[] = [];
    while (seen.length < count) {
      const page = await store.readFeed({ after: cursor, waitMs: 10_000, entityTypes });
      if (page.events.length === 0) break;
      seen.push(...page.events);
      cursor = page.cursor;
    }
    return seen;
  }

  it("is not held back by another database's open transaction", async () => {
    const cursor = await drain(store, undefined);
    const other = await openTransaction(elsewhere);
    const { entityId } = await store.create({ entityType: 'Unstalled', events: [{ eventType: 'Written', eventData: {} }] });
    expect(await horizon()).toBeGreaterThan(other.xid);
    // Read at once, without waiting: before, the feed waited for the other database's transaction to end.
    const page = await store.readFeed({ after: cursor });
    expect(page.events.map((e) => e.entityId)).toEqual([entityId]);
    expect(decodeCursor(page.cursor).transactionId).toBeGreaterThan(other.xid);
    // The other transaction was open all along.
    expect((await other.client.query('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid).toBe(other.xid.toString());
    await other.client.query('ROLLBACK');
  });

  it("is not held back by another database's prepared transaction", async () => {
    const cursor = await drain(store, undefined);
    const other = await openTransaction(elsewhere);
    const gid = uuidv4();
    await other.client.query(`PREPARE TRANSACTION '${gid}'`);
    await other.client.end(); // the prepared transaction outlives its session
    try {
      const { entityId } = await store.create({ entityType: 'UnstalledPrepared', events: [{ eventType: 'Written', eventData: {} }] });
      expect(await horizon()).toBeGreaterThan(other.xid);
      expect((await store.readFeed({ after: cursor })).events.map((e) => e.entityId)).toEqual([entityId]);
    } finally {
      const admin = await session(elsewhere);
      await admin.query(`ROLLBACK PREPARED '${gid}'`);
    }
  });

  it("stays at or below this database's open transaction, which may write later, and skips nothing when it commits", async () => {
    const cursor = await drain(store, undefined);
    const mine = await openTransaction(home); // an id, no event yet
    await store.create({ entityType: 'Early', entityId: 'early', events: [{ eventType: 'Written', eventData: {} }] });
    expect(await horizon()).toBeLessThanOrEqual(mine.xid);
    const page = await store.readFeed({ after: cursor, entityTypes: ['Early', 'Late'] });
    expect(page.events).toEqual([]);
    expect(decodeCursor(page.cursor).transactionId).toBeLessThan(mine.xid);
    // Only now does the older transaction write its event, and commit.
    await insertEvent(mine.client, 'Late', 'late');
    await mine.client.query('COMMIT');
    const seen = await readUntil(page.cursor, 2, ['Early', 'Late']);
    expect(seen.map((e) => e.entityId)).toEqual(['late', 'early']);
  });

  it("ends the feed below this database's open transaction: reading on from the end skips nothing it commits", async () => {
    const cursor = await drain(store, undefined);
    const mine = await openTransaction(home);
    await store.create({ entityType: 'EndEarly', entityId: 'end-early', events: [{ eventType: 'Written', eventData: {} }] });
    expect(await horizon()).toBeLessThanOrEqual(mine.xid);
    const { cursor: end } = await store.readFeedEnd();
    // The committed 'end-early' lies past the horizon: the end stays where a reader of the feed stands.
    expect(end).toBe((await store.readFeed({ after: cursor })).cursor);
    expect(decodeCursor(end).transactionId).toBeLessThan(mine.xid);
    await insertEvent(mine.client, 'EndLate', 'end-late');
    await mine.client.query('COMMIT');
    const seen = await readUntil(end, 2, ['EndEarly', 'EndLate']);
    expect(seen.map((e) => e.entityId)).toEqual(['end-late', 'end-early']);
  });

  it("stays at or below this database's prepared transaction until it commits, then reads it in its place", async () => {
    const cursor = await drain(store, undefined);
    const mine = await openTransaction(home);
    await insertEvent(mine.client, 'PreparedLate', 'prepared-late');
    const gid = uuidv4();
    await mine.client.query(`PREPARE TRANSACTION '${gid}'`);
    await mine.client.end();
    await store.create({ entityType: 'PreparedEarly', entityId: 'prepared-early', events: [{ eventType: 'Written', eventData: {} }] });
    expect(await horizon()).toBeLessThanOrEqual(mine.xid);
    const types = ['PreparedEarly', 'PreparedLate'];
    const page = await store.readFeed({ after: cursor, entityTypes: types });
    expect(page.events).toEqual([]);
    expect(decodeCursor(page.cursor).transactionId).toBeLessThan(mine.xid);
    await pool.query(`COMMIT PREPARED '${gid}'`);
    const seen = await readUntil(page.cursor, 2, types);
    expect(seen.map((e) => e.entityId)).toEqual(['prepared-late', 'prepared-early']);
  });

  it('lets go, at the read, of a held transaction that ended after the horizon was taken', async () => {
    // What a transaction of another database ending while feedHorizon runs looks like (it is held,
    // since its backend no longer shows it): the read that follows must not hide what came after it.
    const cursor = await drain(store, undefined);
    const mine = await openTransaction(home);
    const { entityId } = await store.create({ entityType: 'AfterHeld', events: [{ eventType: 'Written', eventData: {} }] });
    const first = await heldAndXmax();
    expect(first.held).toContain(mine.xid.toString());
    const { transactionId, position } = decodeCursor(cursor);
    const feed = (step: { held: string; xmax: string }) =>
      pool.query(queries.feed, [transactionId.toString(), position.toString(), 100, ['AfterHeld'], step.xmax, step.held]);
    // Still running at the read: it holds the feed below it.
    expect((await feed(first)).rows.filter((r) => r.event_id !== null)).toEqual([]);
    await mine.client.query('ROLLBACK');
    // Ended before the read: the same first step no longer hides the event written after it.
    expect((await feed(first)).rows.map((r) => r.entity_id)).toEqual([entityId]);
    const end = await pool.query(queries.feedEnd, [first.xmax, first.held]);
    expect(end.rows).toHaveLength(1);
    expect(BigInt(end.rows[0].transaction_id)).toBeGreaterThan(mine.xid);
  });

  it("ends a session of the store's pool left idle in a transaction", async () => {
    const { rows } = await (store as any).pool.query('SHOW idle_in_transaction_session_timeout');
    expect(rows[0].idle_in_transaction_session_timeout).toBe('10s');
    const quick = await PostgresEventStore.connect({ connectionString: home.connectionString, idleInTransactionTimeoutMs: 200, poolSize: 1 });
    const client = await (quick as any).pool.connect();
    const ended = new Promise<{ code?: string }>((resolve) => client.once('error', resolve));
    try {
      await client.query('BEGIN');
      // 25P03: idle_in_transaction_session_timeout.
      expect(await ended).toMatchObject({ code: '25P03' });
    } finally {
      client.release(true);
      await quick.close();
    }
  });
});
