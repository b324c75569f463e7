import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { buildApp } from './app';
import type { ServerConfig } from './config';
import { RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';

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
  /** Stops accepting, finishes in-flight requests, closes the store, then stops the embedded database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Called before the (possibly slow) database start, e.g. to say where the data lives. */
  onDatabase?: (database: DatabaseHandle) => void;
  onDatabaseLog?: (line: string) => void;
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const database = await openDatabase(config, options.onDatabaseLog);
  options.onDatabase?.(database);
  let app: FastifyInstance | undefined;
  try {
    const store = await PostgresEventStore.connect({ connectionString: database.connectionString, schema: config.schema, poolSize: config.dbPoolSize });
    app = buildApp({ store, apiKeys: config.apiKeys, bodyLimit: config.bodyLimit, logger: { level: config.logLevel } });
    const url = await app.listen({ port: config.port, host: config.host, listenTextResolver: (address) => `eventuate-local listening on ${address}` });
    const running = app;
    return {
      app: running,
      url,
      database,
      async stop() {
        await running.close();
        await database.embedded?.stop();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await database.embedded?.stop().catch(() => undefined);
    throw err;
  }
}
