import { InMemoryEventStore, PostgresEventStore } from '../../src';
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
