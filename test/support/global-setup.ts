import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../event-store-server/embedded-postgres';
import { startMockKafka } from './kafka-mock';

/**
 * One PostgreSQL cluster and one Kafka-protocol broker for the whole run; each test file
 * isolates itself in a database (database-environment.ts), schemas and topic prefixes of its own. DATABASE_URL and KAFKA_BROKERS,
 * when set, point the tests at servers you run yourself instead.
 */
export default async function globalSetup(): Promise<void> {
  const state: { stops: Array<() => Promise<void>> } = { stops: [] };
  (globalThis as any).__EVENTUATE_TEST__ = state;
  if (!process.env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({
      dataDir: mkdtempSync(join(tmpdir(), 'eventuate-test-pg-')),
      // A throwaway cluster: durability buys nothing here. Prepared transactions: the feed horizon tests hold some open.
      postgresFlags: ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=400', '-c', 'max_prepared_transactions=20'],
    });
    process.env.DATABASE_URL = pg.connectionString;
    state.stops.push(pg.stop);
  }
  if (!process.env.KAFKA_BROKERS) {
    const kafka = await startMockKafka();
    process.env.KAFKA_BROKERS = kafka.brokers;
    state.stops.push(kafka.stop);
  }
}
