import { HttpEventStore, InMemoryEventStore, PostgresEventStore, type EventStore } from '../../client';
import { testDatabase, type TestDatabase } from '../support/database';
import { serverFixture } from '../server/server-fixture';

/** A real store for a test file; `database` is set for PostgreSQL so tests can look at the rows. */
export interface StoreUnderTest {
  store: EventStore;
  database?: TestDatabase;
  close(): Promise<void>;
}

export const storeKinds = ['memory', 'postgres', 'http'] as const;
export type StoreKind = (typeof storeKinds)[number];

export async function openStore(kind: StoreKind): Promise<StoreUnderTest> {
  if (kind === 'memory') {
    const store = new InMemoryEventStore();
    return { store, close: () => store.close() };
  }
  if (kind === 'http') {
    const server = await serverFixture();
    const store = new HttpEventStore({ url: server.url });
    return {
      store,
      database: server.db,
      async close() {
        await store.close();
        await server.close();
      },
    };
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
