import { Pool } from 'pg';
import { migrate } from '../src/postgres/migrations';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import type { ServerConfig } from './config';
import { connectionSettings, migrationConnectionSettings } from './database-settings';

/**
 * The store of the configured database, its migrations applied first. Its connections get the
 * configured timeouts; the migrations run on a connection of their own without statement or query
 * timeouts, since one may rightly take minutes.
 */
export async function connectStore(config: ServerConfig, connectionString: string, poolSize: number): Promise<PostgresEventStore> {
  const migrations = new Pool({ connectionString, max: 1, ...migrationConnectionSettings(config.dbTimeouts) });
  try {
    await migrate(migrations, config.schema);
  } finally {
    await migrations.end();
  }
  return PostgresEventStore.connect({
    connectionString,
    schema: config.schema,
    poolSize,
    catchUpPoolSize: config.dbFeedPoolSize,
    migrate: false,
    pool: connectionSettings(config.dbTimeouts),
  });
}
