import { InMemoryEventStore, PostgresEventStore, type EventStore } from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';

/** A real store for a test file; `database` is set for PostgreSQL so tests can look at the rows. */
export interface StoreUnderTest {
  store: EventStore;
  database?: TestDatabase;
  close(): Promise<void>;
}

export const storeKinds = ['memory', 'postgres'] as const;
export type StoreKind = (typeof storeKinds)[number];

export async function openStore(kind: StoreKind): Promise<StoreUnderTest> {
  if (kind === 'memory') {
    const store = new InMemoryEventStore();
    return { store, close: () => store.close() };
  }
  const database = testDatabase('client');
  const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: database.schema });
  return {
    store,
    database,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}
