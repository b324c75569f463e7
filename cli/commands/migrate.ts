import { PostgresEventStore } from '../../src/postgres/postgres-event-store';
import { loadConfig } from '../../event-store-server/config';
import type { Command } from './command';

export const command: Command = {
  description: 'apply pending database migrations and exit',
  async run() {
    const config = loadConfig();
    // Loaded here, not at the top: `help` reads every command, and a client-only install has no server packages.
    const { openDatabase } = await import('../../event-store-server/start-server');
    const database = await openDatabase(config);
    try {
      const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: config.schema, poolSize: 1 });
      await store.close();
      console.log(`eventuate-local: schema ${config.schema} in ${database.location} is up to date`);
      return 0;
    } finally {
      await database.embedded?.stop();
    }
  },
};
