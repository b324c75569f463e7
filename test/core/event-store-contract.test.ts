import { InMemoryEventStore, PostgresEventStore } from '../../src';
import { decodeCursor, encodeCursor } from '../../src/cursor';
import { scratchDatabase } from '../support/database';
import { eventStoreContract } from '../support/event-store-contract';

eventStoreContract('PostgresEventStore', async ({ feedFallbackPollMs }) => {
  const db = await scratchDatabase('contract');
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, feedFallbackPollMs });
  return {
    store,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
});

eventStoreContract('InMemoryEventStore', async ({ feedFallbackPollMs }) => {
  const store = new InMemoryEventStore({ feedFallbackPollMs });
  return { store, close: () => store.close() };
});

describe('InMemoryEventStore cursors', () => {
  it('ends an empty feed at its start, in a cursor of its own', async () => {
    const store = new InMemoryEventStore();
    const { cursor } = await store.readFeedEnd();
    expect(decodeCursor(cursor)).toMatchObject({ transactionId: 0n, position: 0n, storeId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const { entityId } = await store.create({ entityType: 'First', events: [{ eventType: 'Written', eventData: {} }] });
    expect((await store.readFeed({ after: cursor })).events.map((e) => e.entityId)).toEqual([entityId]);
  });

  it('refuses a position past its feed: it reads by position alone, so such a cursor would skip what comes', async () => {
    const store = new InMemoryEventStore();
    await store.create({ entityType: 'Counted', events: [{ eventType: 'Written', eventData: {} }] });
    const { storeId } = decodeCursor((await store.readFeed()).cursor);
    await expect(store.readFeed({ after: encodeCursor(storeId!, { transactionId: 1n, position: 5n }) })).rejects.toMatchObject({
      code: 'invalid_cursor',
      message: expect.stringMatching(/past this store's present/),
    });
  });
});
