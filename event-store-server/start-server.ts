import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { buildApp } from './app';
import type { ServerConfig } from './config';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { RunningRelay, startRelay } from './relay';

export interface DatabaseHandle {
  connectionString: string;
  /** Where the data lives, for people: a directory (embedded) or the URL without its password. */
  location: string;
  embedded?: RunningPostgres;
}

/** The configured PostgreSQL, or an embedded one under EVENTUATE_DATA_DIR when DATABASE_URL is unset. */
export async function openDatabase(config: ServerConfig, onLog?: (line: string) => void): Promise<DatabaseHandle> {
  if (config.databaseUrl) return { connectionString: config.databaseUrl, location: redactPassword(config.databaseUrl) };
  const embedded = await startEmbeddedPostgres({ dataDir: resolve(config.dataDir), onLog });
  return { connectionString: embedded.connectionString, location: resolve(embedded.dataDir, 'pg'), embedded };
}

export function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  database: DatabaseHandle;
  /** Running when KAFKA_BROKERS is set. */
  relay?: RunningRelay;
  /** Stops accepting, finishes in-flight requests, stops the relay, closes the store, then stops the embedded database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Called once the database is up, before the store connects, e.g. to say where the data lives. */
  onDatabase?: (database: DatabaseHandle) => void;
  onDatabaseLog?: (line: string) => void;
}

/** The whole server: database (embedded or given), store, relay to Kafka when brokers are configured, HTTP API. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const database = await openDatabase(config, options.onDatabaseLog);
  options.onDatabase?.(database);
  const logger = pino({ level: config.logLevel });
  let store: PostgresEventStore | undefined;
  let relay: RunningRelay | undefined;
  let app: FastifyInstance | undefined;
  // Reverse order of start: nothing is used after it was closed (the relay reads through the store).
  const stopAll = async () => {
    await app?.close();
    await relay?.stop();
    await store?.close();
    await database.embedded?.stop();
  };
  try {
    store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: config.schema, poolSize: config.dbPoolSize });
    if (config.kafkaBrokers.length > 0) {
      relay = startRelay({ store, connectionString: database.connectionString, schema: config.schema, brokers: config.kafkaBrokers, topicPrefix: config.topicPrefix, logger });
    }
    const started = relay;
    app = buildApp({
      store,
      apiKeys: config.apiKeys,
      bodyLimit: config.bodyLimit,
      logger: { level: config.logLevel },
      closeStore: false,
      readiness: started && (() => started.checkReady()),
      registerMetrics: started && ((registry) => started.registerMetrics(registry)),
    });
    const url = await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `eventuate-local listening on ${address}` });
    return { app, url, database, relay, stop: stopAll };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
