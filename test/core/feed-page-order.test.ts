import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { testDatabase } from '../support/database';

// Regression: the feed once sorted its page by the text form of position and transaction id,
// so a page of 5 out of 12 events was versions 1, 10, 11, 12, 2 and the cursor skipped 3 to 9.
it('pages the feed in numeric (transaction, position) order across digit boundaries', async () => {
  const db = testDatabase('order');
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema, poolSize: 2 });
  try {
    await store.create({ entityType: 'Counter', entityId: 'c', events: Array.from({ length: 12 }, (_, i) => ({ eventType: 'Counted', eventData: { i } })) });
    const versions: number[] = [];
    let after: string | undefined;
    while (versions.length < 12) {
      // A long poll: a commit joins the feed only once every older transaction of the cluster has ended.
      const page = await store.readFeed({ after, limit: 5, waitMs: 10_000 });
      if (page.events.length === 0) break;
      versions.push(...page.events.map((e) => e.entityVersion));
      after = page.cursor;
    }
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  } finally {
    await store.close();
    await db.drop();
  }
});
