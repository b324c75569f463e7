import { Client, Pool } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import {
  DuplicateTriggeringEventError,
  EntityAlreadyExistsError,
  EntityNotFoundError,
  OptimisticLockingError,
  PostgresEventStore,
  StoredEvent,
  compareCursors,
} from '../../src';
import { decodeCursor } from '../../src/cursor';
import { scratchDatabase, ScratchDatabase } from '../support/database';

const events = (n: number, type = 'Written') => Array.from({ length: n }, (_, i) => ({ eventType: type, eventData: { i } }));

/**
 * Writes inside a transaction the caller holds. The store has a database of its own: the feed's
 * horizon counts this database's transactions, and no other test file's may move it.
 */
describe('PostgresEventStore.inTransaction: events written in the caller’s transaction', () => {
  let db: ScratchDatabase;
  let store: PostgresEventStore;
  let pool: Pool;
  const clients: Client[] = [];

  beforeAll(async () => {
    db = await scratchDatabase('callertx');
    store = await PostgresEventStore.connect({ connectionString: db.connectionString });
    pool = new Pool({ connectionString: db.connectionString, max: 2 });
    await pool.query('CREATE TABLE orders (id text PRIMARY KEY)');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  /** The caller's own connection, inside a transaction it began. */
  async function begin(connectionString = db.connectionString): Promise<Client> {
    const client = new Client({ connectionString });
    await client.connect();
    clients.push(client);
    await client.query('BEGIN');
    return client;
  }

  const orders = async () => (await pool.query('SELECT id FROM orders ORDER BY id')).rows.map((r) => r.id as string);
  const end = async () => (await store.readFeedEnd()).cursor;

  async function readUntil(after: string, count: number): Promise<StoredEvent[]> {
    const seen: StoredEvent[] = [];
    while (seen.length < count) {
      const page = await store.readFeed({ after, waitMs: 10_000 });
      if (page.events.length === 0) break;
      seen.push(...page.events);
      after = page.cursor;
    }
    return seen;
  }

  it('commits the caller’s rows and the events together, the answer’s cursor the events’ place in the feed', async () => {
    const start = await end();
    const client = await begin();
    const tx = store.inTransaction(client);
    await client.query(`INSERT INTO orders VALUES ('order-1')`);
    const created = await tx.create({ entityType: 'Order', entityId: 'order-1', events: events(2) });
    const appended = await tx.append({ entityType: 'Order', entityId: 'order-1', expectedVersion: 2, events: events(1) });
    // Inside, the transaction sees its own entity; outside, no one does yet.
    expect((await tx.load('Order', 'order-1')).events.map((e) => e.entityVersion)).toEqual([1, 2, 3]);
    await expect(store.load('Order', 'order-1')).rejects.toBeInstanceOf(EntityNotFoundError);
    const { rows } = await client.query('SELECT pg_current_xact_id()::text AS xid');
    expect(decodeCursor(appended.cursor).transactionId).toBe(BigInt(rows[0].xid));

    expect((await client.query('COMMIT')).command).toBe('COMMIT');
    expect(await orders()).toContain('order-1');
    expect((await store.load('Order', 'order-1')).entityVersion).toBe(3);
    const feed = await readUntil(start, 3);
    expect(feed.map((e) => [e.entityId, e.entityVersion])).toEqual([
      ['order-1', 1],
      ['order-1', 2],
      ['order-1', 3],
    ]);
    expect(feed[1].cursor).toBe(created.cursor);
    expect(feed[2].cursor).toBe(appended.cursor);
  });

  it('works as the README shows: a pooled client, the caller’s row and the events, one COMMIT', async () => {
    const placeOrder = async (orderId: string) => {
      // #region own-transaction
      const client = await pool.connect(); // a pg.Pool of yours, on the event store's database
      try {
        await client.query('BEGIN');
        await client.query('INSERT INTO orders (id) VALUES ($1)', [orderId]);
        const placed = await store.inTransaction(client).create({
          entityType: 'Order',
          entityId: orderId,
          events: [{ eventType: 'OrderPlaced', eventData: { orderId } }],
        });
        await client.query('COMMIT'); // the row and the event, or neither
        return placed; // placed.cursor: where the event stands in the feed
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      } finally {
        client.release();
      }
      // #endregion
    };
    const placed = await placeOrder('order-readme');
    expect(await orders()).toContain('order-readme');
    expect((await store.getEvent(placed.eventIds[0])).eventType).toBe('OrderPlaced');
    // Placed again: the caller's INSERT fails (the row exists), the transaction rolls back, nothing is written.
    await expect(placeOrder('order-readme')).rejects.toMatchObject({ code: '23505', table: 'orders' });
    expect((await store.load('Order', 'order-readme')).entityVersion).toBe(1);
  });

  it('rolls back the caller’s rows and the events together: no entity, nothing in the feed', async () => {
    const start = await end();
    const client = await begin();
    await client.query(`INSERT INTO orders VALUES ('order-2')`);
    await store.inTransaction(client).create({ entityType: 'Order', entityId: 'order-2', events: events(1) });
    await client.query('ROLLBACK');
    expect(await orders()).not.toContain('order-2');
    await expect(store.load('Order', 'order-2')).rejects.toBeInstanceOf(EntityNotFoundError);
    // The end of the feed (all of it visible: no transaction of this database is open) has not moved.
    expect(await end()).toBe(start);
    expect((await store.readFeed({ after: start })).events).toEqual([]);
  });

  it('leaves the caller’s transaction as it was and committable when a write inside is refused', async () => {
    const existing = await store.create({ entityType: 'Order', entityId: 'order-3', events: events(1), triggeringEventToken: 'tok-1' });
    const takenIds = (await store.history('Order', 'order-3')).events.map((e) => e.eventId);
    const client = await begin();
    const tx = store.inTransaction(client);
    await client.query(`INSERT INTO orders VALUES ('order-3')`);

    // Refused by the conditional update (no error inside PostgreSQL)...
    await expect(tx.append({ entityType: 'Order', entityId: 'order-3', expectedVersion: 5, events: events(1) })).rejects.toBeInstanceOf(
      OptimisticLockingError,
    );
    await expect(tx.create({ entityType: 'Order', entityId: 'order-3', events: events(1) })).rejects.toBeInstanceOf(EntityAlreadyExistsError);
    await expect(
      tx.append({ entityType: 'Order', entityId: 'order-3', expectedVersion: 1, events: events(1), triggeringEventToken: 'tok-1' }),
    ).rejects.toBeInstanceOf(DuplicateTriggeringEventError);
    // ...and by a unique violation, which would abort the caller's transaction without the savepoint.
    await expect(
      tx.create({ entityType: 'Order', entityId: 'order-3b', events: [{ eventId: takenIds[0], eventType: 'Written', eventData: {} }] }),
    ).rejects.toMatchObject({ code: 'optimistic_lock_error', message: expect.stringMatching(/already written by another append/) });

    // A write of this transaction retried with the same ids is answered as the first was, from its rows.
    const batch = events(2).map((e) => ({ ...e, eventId: uuidv4() }));
    const first = await tx.append({ entityType: 'Order', entityId: 'order-3', expectedVersion: 1, events: batch });
    expect(await tx.append({ entityType: 'Order', entityId: 'order-3', expectedVersion: 1, events: batch })).toEqual(first);

    await client.query(`INSERT INTO orders VALUES ('order-3c')`);
    expect((await client.query('COMMIT')).command).toBe('COMMIT');
    expect(await orders()).toEqual(expect.arrayContaining(['order-3', 'order-3c']));
    const history = await store.history('Order', 'order-3');
    expect(history.events.map((e) => e.eventId)).toEqual([...existing.eventIds, ...first.eventIds]);
    await expect(store.load('Order', 'order-3b')).rejects.toBeInstanceOf(EntityNotFoundError);
  });

  it('holds the feed’s horizon while open: later commits of others wait, then every event comes in order', async () => {
    const start = await end();
    const client = await begin();
    const mine = await store.inTransaction(client).create({ entityType: 'Long', entityId: 'long-1', events: events(1) });
    const { rows } = await client.query('SELECT pg_current_xact_id()::text AS xid');
    const xid = BigInt(rows[0].xid);

    const theirs = await store.create({ entityType: 'Long', entityId: 'other-1', events: events(1) });
    expect(decodeCursor(theirs.cursor).transactionId).toBeGreaterThan(xid);
    // Committed, yet not in the feed: the open transaction lies below it and may still write.
    expect(await store.readFeed({ after: start })).toEqual({ events: [], cursor: start });
    expect(decodeCursor(await end()).transactionId).toBeLessThan(xid);

    await client.query('COMMIT');
    const feed = await readUntil(start, 2);
    expect(feed.map((e) => e.entityId)).toEqual(['long-1', 'other-1']);
    expect(feed.map((e) => e.cursor)).toEqual([mine.cursor, theirs.cursor]);
    expect(compareCursors(mine.cursor, theirs.cursor)).toBeLessThan(0);
  });

  it('wakes waiting feed readers when the caller commits: the commit itself sends the announcement', async () => {
    // Another store instance: it hears of the commit only from PostgreSQL, and its fallback poll is far off.
    const reader = await PostgresEventStore.connect({ connectionString: db.connectionString, feedFallbackPollMs: 120_000 });
    try {
      const start = await end();
      const client = await begin();
      await store.inTransaction(client).create({ entityType: 'Woken', entityId: 'woken-1', events: events(1) });
      const waiting = reader.readFeed({ after: start, waitMs: 30_000 });
      // Past the reader's first quick rechecks (about 1.3 s): from here on only an announcement answers before waitMs ends.
      await new Promise((r) => setTimeout(r, 2500));
      const committedAt = Date.now();
      await client.query('COMMIT');
      expect((await waiting).events.map((e) => e.entityId)).toEqual(['woken-1']);
      expect(Date.now() - committedAt).toBeLessThan(15_000);
    } finally {
      await reader.close();
    }
  });

  it('records each event at the time it was written, not when the transaction began, so asOf stays exact', async () => {
    const client = await begin();
    const tx = store.inTransaction(client);
    const began = (await client.query('SELECT now() AS began')).rows[0].began as Date;
    await client.query('SELECT pg_sleep(0.2)');
    await tx.create({ entityType: 'Timed', entityId: 'timed-1', events: events(1) });
    await client.query('SELECT pg_sleep(0.2)');
    await tx.append({ entityType: 'Timed', entityId: 'timed-1', expectedVersion: 1, events: events(1) });
    await client.query('COMMIT');

    const [first, second] = (await store.history('Timed', 'timed-1')).events.map((e) => Date.parse(e.createdAt));
    expect(first - began.getTime()).toBeGreaterThanOrEqual(200);
    expect(second - first).toBeGreaterThanOrEqual(200);
    expect((await store.load('Timed', 'timed-1', { asOf: new Date(first) })).entityVersion).toBe(1);
    expect((await store.load('Timed', 'timed-1', { asOf: new Date(second) })).entityVersion).toBe(2);
    const [entity] = (await store.listEntities('Timed')).entities;
    expect(Date.parse(entity.createdAt)).toBeGreaterThanOrEqual(began.getTime() + 200);
    expect(Date.parse(entity.updatedAt)).toBeGreaterThanOrEqual(first + 200);
  });

  it('refuses a client outside a transaction, and one connected to a database without this store, writing nothing', async () => {
    const start = await end();
    const outside = new Client({ connectionString: db.connectionString });
    await outside.connect();
    clients.push(outside);
    await expect(store.inTransaction(outside).create({ entityType: 'Loose', events: events(1) })).rejects.toThrow(/not inside a transaction: send BEGIN/);

    const elsewhere = await scratchDatabase('callertx_elsewhere');
    try {
      const client = await begin(elsewhere.connectionString);
      await client.query(`CREATE TABLE notes (id text)`);
      await expect(store.inTransaction(client).create({ entityType: 'Loose', events: events(1) })).rejects.toThrow(
        /the client's database has no event store in schema "eventuate"/,
      );
      // Still usable: the check was undone, the caller's table is there.
      await client.query(`INSERT INTO notes VALUES ('kept')`);
      expect((await client.query('COMMIT')).command).toBe('COMMIT');
      await client.end();
    } finally {
      await elsewhere.drop();
    }
    expect((await store.listEntities('Loose')).entities).toEqual([]);
    expect(await end()).toBe(start);
  });
});
