import { InvalidCursorError, PostgresEventStore } from '../../src';
import { decodeCursor } from '../../src/cursor';
import { migrate, MIGRATIONS } from '../../src/postgres/migrations';
import { testDatabase, TestDatabase } from '../support/database';

describe("a PostgreSQL store's identity in its cursors", () => {
  let db: TestDatabase;
  beforeEach(() => {
    db = testDatabase('identity');
  });
  afterEach(() => db.drop());

  /** A cursor as versions before identities wrote it. */
  const unidentified = (transactionId: bigint | string, position: bigint | string) => Buffer.from(`${transactionId}.${position}`).toString('base64url');

  it('reads the unidentified cursors it gave before it had an identity, up to its present', async () => {
    await migrate(db.pool, db.schema, MIGRATIONS.slice(0, 1));
    for (const id of ['u-1', 'u-2', 'u-3']) {
      await db.pool.query(
        `INSERT INTO "${db.schema}".events (event_id, entity_type, entity_id, entity_version, event_type, event_data)
         VALUES (gen_random_uuid(), 'Upgraded', $1, 1, 'Written', '{}')`,
        [id],
      );
    }
    const { rows } = await db.pool.query(`SELECT transaction_id::text AS t, position::text AS p FROM "${db.schema}".events ORDER BY transaction_id, position`);
    const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });
    try {
      const seen: string[] = [];
      let after = unidentified(rows[0].t, rows[0].p);
      while (seen.length < 2) {
        const page = await store.readFeed({ after, waitMs: 10_000 });
        if (page.events.length === 0) break;
        seen.push(...page.events.map((e) => e.entityId));
        after = page.cursor;
      }
      expect(seen).toEqual(['u-2', 'u-3']);
      expect(decodeCursor(after).storeId).toMatch(/^[0-9a-f]{16}$/); // what it answers carries its identity
      await expect(store.readFeed({ after: unidentified(BigInt(rows[2].t) + 1_000_000_000n, 1n) })).rejects.toMatchObject({
        code: 'invalid_cursor',
        message: expect.stringMatching(/past this store's present/),
      });
    } finally {
      await store.close();
    }
  });

  it("refuses the cursor of another schema's store in the same database", async () => {
    const mine = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });
    const theirs = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: `${db.schema}_b` });
    try {
      await theirs.create({ entityType: 'Theirs', events: [{ eventType: 'Written', eventData: {} }] });
      const cursor = (await theirs.readFeed({ waitMs: 10_000 })).cursor;
      await expect(mine.readFeed({ after: cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    } finally {
      await Promise.all([mine.close(), theirs.close()]);
      await db.pool.query(`DROP SCHEMA "${db.schema}_b" CASCADE`);
    }
  });
});
