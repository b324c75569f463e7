import { Pool } from 'pg';
import { migrate } from '../src/postgres/migrations';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import type { ServerConfig } from './config';
import { connectionSettings, migrationConnectionSettings } from './database-settings';

/**
 * The store of the configured database, its migrations applied first. Its connections get the
 * configured timeouts; the migrations run on a connection of their own without statement or query
 * timeouts, since one may rightly take minutes.
 *
 * The server's PostgreSQL connections, planned together (defaults in brackets):
 * - committers, EVENTUATE_DB_WRITE_CONNECTIONS (2): every create and append. Concurrent appends
 *   queue for them and commit in groups, so 16 or 1,000 writers hold 2 connections and share commits.
 * - the main pool, EVENTUATE_DB_POOL_SIZE (20): entity loads and history (one connection each while
 *   they read), refusal diagnoses, the throttled NOTIFY, /ready's ping, the one feed tail that every
 *   waiting feed reader and stream shares (feed-tail.ts), and the in-server relay's feed reads.
 * - the catch-up pool, EVENTUATE_DB_FEED_POOL_SIZE (4): feed reads behind the tail take turns here,
 *   so no number of readers takes a connection from writers or loads.
 * - one LISTEN session for commit announcements, and with KAFKA_BROKERS one leader-lock session of the relay.
 * In all at most POOL_SIZE + WRITE_CONNECTIONS + FEED_POOL_SIZE + 2 per server (28 by default): size PostgreSQL's max_connections for the sum over servers and relays.
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
    writeConnections: config.dbWriteConnections,
    catchUpPoolSize: config.dbFeedPoolSize,
    migrate: false,
    pool: connectionSettings(config.dbTimeouts),
  });
}
