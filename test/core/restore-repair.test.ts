import { Client } from 'pg';
import { v4 as uuidv4 } from 'uuid';
import { DatabaseRestoredError, InvalidCursorError, PostgresEventStore, StoredEvent } from '../../src';
import { decodeCursor, encodeCursor } from '../../src/cursor';
import { repairAfterRestore, RENUMBERED_TRANSACTION_ID } from '../../src/postgres/restore-repair';
import { testDatabase, TestDatabase } from '../support/database';

/**
 * A restore into another cluster, simulated: the events keep transaction ids the cluster has not
 * reached (here, every id moved a billion ahead, as in a dump of a busy cluster restored into a new one).
 */
describe('a database restored into another cluster', () => {
  let db: TestDatabase;
  beforeEach(() => {
    db = testDatabase('restore');
  });
  afterEach(() => db.drop());

  const connect = () => PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });

  /** Events where commit order and insert order differ: the feed order is not the position order. */
  async function writeOutOfOrder(store: PostgresEventStore): Promise<void> {
    const older = new Client({ connectionString: db.connectionString });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      await store.create({ entityType: 'Account', entityId: 'a-1', events: [{ eventType: 'Opened', eventData: {} }, { eventType: 'Credited', eventData: {} }] });
      await older.query(
        `INSERT INTO "${db.schema}".events (event_id, entity_type, entity_id, entity_version, event_type, event_data)
         VALUES ($1, 'Account', 'a-0', 1, 'Opened', '{}')`,
        [uuidv4()],
      );
      await older.query('COMMIT');
    } finally {
      await older.end();
    }
    await store.create({ entityType: 'Account', entityId: 'a-2', events: [{ eventType: 'Opened', eventData: {} }] });
  }

  const AHEAD = 1_000_000_000n;
  const moveIntoTheFuture = () =>
    db.pool.query(`UPDATE "${db.schema}".events SET transaction_id = (transaction_id::text::numeric + ${AHEAD})::text::xid8`);
  /** The cursor as the restored database's readers would have kept it: where that event is in the moved numbering. */
  const movedAhead = (cursor: string) => {
    const { storeId, transactionId, position } = decodeCursor(cursor);
    return encodeCursor(storeId!, { transactionId: transactionId + AHEAD, position });
  };

  async function readAll(store: PostgresEventStore, count: number, after?: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    while (events.length < count) {
      const page = await store.readFeed({ after, waitMs: 10_000 });
      if (page.events.length === 0) break;
      events.push(...page.events);
      after = page.cursor;
    }
    return events;
  }

  it('refuses to start, names the repair, and after it reads the same feed in the same order', async () => {
    const before = await connect();
    await writeOutOfOrder(before);
    const feed = await readAll(before, 4);
    expect(feed.map((e) => e.entityId)).toEqual(['a-0', 'a-1', 'a-1', 'a-2']); // not the insert order
    await before.close();
    // Cursors kept in the schema: the relay's (after the second event), a subscriber's (at the start), and two that are not this store's.
    await db.pool.query(`CREATE TABLE "${db.schema}".relay_cursors (relay_name text PRIMARY KEY, cursor text NOT NULL)`);
    await db.pool.query(`CREATE TABLE "${db.schema}".subscriber_cursors (subscriber_id text PRIMARY KEY, cursor text NOT NULL)`);
    const foreign = encodeCursor('0123456789abcdef', { transactionId: 5n, position: 5n });
    await moveIntoTheFuture();
    await db.pool.query(`INSERT INTO "${db.schema}".relay_cursors VALUES ('relay', $1), ('other-store', $2)`, [movedAhead(feed[1].cursor!), foreign]);
    const start = encodeCursor(decodeCursor(feed[0].cursor!).storeId!, { transactionId: 0n, position: 0n });
    await db.pool.query(`INSERT INTO "${db.schema}".subscriber_cursors VALUES ('view', $1), ('broken', 'not a cursor')`, [start]);

    const refused = connect();
    await expect(refused).rejects.toBeInstanceOf(DatabaseRestoredError);
    await expect(refused).rejects.toThrow(/eventuate-local repair-after-restore/);

    const outcome = await repairAfterRestore(db.pool, db.schema);
    expect(outcome).toMatchObject({ repaired: true, events: 4 });
    if (!outcome.repaired) throw new Error('unreachable');
    expect(outcome.storeId.after).not.toBe(outcome.storeId.before);
    expect(outcome.carriedOver.map((c) => [c.table, c.row])).toEqual([
      ['relay_cursors', { relay_name: 'relay' }],
      ['subscriber_cursors', { subscriber_id: 'view' }],
    ]);
    expect(outcome.left.map((c) => [c.row, c.reason])).toEqual([
      [{ relay_name: 'other-store' }, expect.stringMatching(/another event store/)],
      [{ subscriber_id: 'broken' }, expect.stringMatching(/not a feed cursor/)],
    ]);

    const after = await connect();
    try {
      const renumbered = await readAll(after, 4);
      expect(renumbered.map((e) => e.eventId)).toEqual(feed.map((e) => e.eventId));
      expect(renumbered.map((e) => decodeCursor(e.cursor))).toEqual(
        renumbered.map((_, i) => ({ storeId: outcome.storeId.after, transactionId: RENUMBERED_TRANSACTION_ID, position: BigInt(i + 1) })),
      );
      // New events come after the restored ones.
      await after.create({ entityType: 'Account', entityId: 'a-3', events: [{ eventType: 'Opened', eventData: {} }] });
      expect((await readAll(after, 1, renumbered.at(-1)!.cursor)).map((e) => e.entityId)).toEqual(['a-3']);
      // The relay resumes where it was; the subscriber from the start; cursors from before the repair are refused.
      const { rows } = await db.pool.query(`SELECT relay_name, cursor FROM "${db.schema}".relay_cursors ORDER BY relay_name`);
      expect(rows).toEqual([
        { relay_name: 'other-store', cursor: foreign },
        { relay_name: 'relay', cursor: renumbered[1].cursor },
      ]);
      const view = (await db.pool.query(`SELECT cursor FROM "${db.schema}".subscriber_cursors WHERE subscriber_id = 'view'`)).rows[0].cursor;
      expect((await readAll(after, 5, view)).map((e) => e.eventId)).toEqual([...feed.map((e) => e.eventId), expect.any(String)]);
      expect((await readAll(after, 3, renumbered[1].cursor)).map((e) => e.eventId)).toEqual([...feed.slice(2).map((e) => e.eventId), expect.any(String)]);
      await expect(after.readFeed({ after: movedAhead(feed[1].cursor!) })).rejects.toBeInstanceOf(InvalidCursorError);
    } finally {
      await after.close();
    }
    // Once is enough.
    expect(await repairAfterRestore(db.pool, db.schema)).toMatchObject({ repaired: false });
  });

  it('tells a store that was running during the repair, instead of reading its old cursors in the new numbering', async () => {
    const running = await connect();
    try {
      await writeOutOfOrder(running);
      const feed = await readAll(running, 4);
      await moveIntoTheFuture();
      expect(await repairAfterRestore(db.pool, db.schema)).toMatchObject({ repaired: true });
      await expect(running.readFeed({ after: movedAhead(feed[1].cursor!) })).rejects.toThrow(/renumbered/);
      // It then reads with the new identity.
      expect((await readAll(running, 4)).map((e) => e.eventId)).toEqual(feed.map((e) => e.eventId));
    } finally {
      await running.close();
    }
  });

  it('gives up, changing nothing, while another session uses the events table', async () => {
    const store = await connect();
    await writeOutOfOrder(store);
    await store.close();
    await moveIntoTheFuture();
    const reader = new Client({ connectionString: db.connectionString });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM "${db.schema}".events`);
      await expect(repairAfterRestore(db.pool, db.schema, { lockTimeoutMs: 300 })).rejects.toThrow(/in use by another session/);
    } finally {
      await reader.end();
    }
    await expect(connect()).rejects.toBeInstanceOf(DatabaseRestoredError);
  });

  it('does nothing to a store whose events are all in the past', async () => {
    const store = await connect();
    await store.create({ entityType: 'Account', events: [{ eventType: 'Opened', eventData: {} }] });
    const cursor = (await store.readFeed({ waitMs: 10_000 })).cursor;
    expect(await repairAfterRestore(db.pool, db.schema)).toMatchObject({ repaired: false });
    expect(await store.readFeed({ after: cursor })).toEqual({ events: [], cursor });
    await store.close();
  });
});
