import { InMemoryEventStore, PostgresEventStore } from '../../src';
import { testDatabase } from '../support/database';
import { eventStoreContract } from '../support/event-store-contract';

eventStoreContract('PostgresEventStore', async () => {
  const db = testDatabase('contract');
  const store = await PostgresEventStore.connect({ connectionString: db.connectionString, schema: db.schema });
  return {
    store,
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
});

eventStoreContract('InMemoryEventStore', async () => {
  const store = new InMemoryEventStore();
  return { store, close: () => store.close() };
});
