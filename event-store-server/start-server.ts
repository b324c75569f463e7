import './require-server-packages';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';
import { buildApp } from './app';
import type { ServerConfig } from './config';
import { connectStore } from './connect-store';
import { DataDirectoryInUseError, RunningPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { createLogger } from './logging';
import { relayOptionsFromConfig, RunningRelay, startRelay } from './relay';
import { StartupError } from './startup-error';

export interface DatabaseHandle {
  connectionString: string;
  /** Where the data lives, for people: a directory (embedded) or the URL without its password. */
  location: string;
  embedded?: RunningPostgres;
}

/** The configured PostgreSQL, or an embedded one under EVENTUATE_DATA_DIR when DATABASE_URL is unset. */
export async function openDatabase(config: ServerConfig, onLog?: (line: string) => void): Promise<DatabaseHandle> {
  if (config.databaseUrl) return { connectionString: config.databaseUrl, location: redactPassword(config.databaseUrl) };
  try {
    const embedded = await startEmbeddedPostgres({ dataDir: resolve(config.dataDir), onLog });
    return { connectionString: embedded.connectionString, location: resolve(embedded.dataDir, 'pg'), embedded };
  } catch (err) {
    if (!(err instanceof DataDirectoryInUseError)) throw err;
    const holder = err.pid === undefined ? 'a PostgreSQL' : `PostgreSQL pid ${err.pid}`;
    throw new StartupError(
      `another server is using the data directory ${err.dataDir} (${holder} runs on it, started by another eventuate-local, or left running by one that was killed): ` +
        'stop that server, or set EVENTUATE_DATA_DIR to another directory',
      { cause: err },
    );
  }
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
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
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
    store = await connectStore(config, database.connectionString, config.dbPoolSize);
    if (config.kafkaBrokers.length > 0) {
      relay = startRelay({ ...relayOptionsFromConfig(config), store, connectionString: database.connectionString, logger });
    }
    const started = relay;
    app = buildApp({
      store,
      apiKeys: config.apiKeys,
      bodyLimit: config.bodyLimit,
      requestTimeoutMs: config.requestTimeoutMs,
      maxConnections: config.maxConnections,
      readyTimeoutMs: config.readyTimeoutMs,
      maxFeedStreams: config.feedMaxStreams,
      maxLongPolls: config.feedMaxLongPolls,
      maxEventMessageBytes: config.eventMessageLimit,
      logger,
      closeStore: false,
      readiness: started && (() => started.checkReady()),
      registerMetrics: started && ((registry) => started.registerMetrics(registry)),
    });
    const url = await listen(app, config);
    return { app, url, database, relay, stop: stopAll };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/**
 * app.listen, with the failures an operator fixes by configuration said in one line. Fastify logs its
 * own "listening" record at info and has no option to leave it out (fastify/help#641), while whoever
 * starts the server says where it listens in its own words (the CLI adds the docs address); so the
 * app's logger is silent while the socket binds. Only that logger: the relay logs through another.
 */
async function listen(app: FastifyInstance, config: ServerConfig): Promise<string> {
  await app.ready();
  const level = app.log.level;
  app.log.level = 'silent';
  try {
    return await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    throw listenError(err, config);
  } finally {
    app.log.level = level;
  }
}

function listenError(err: unknown, config: ServerConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`port ${config.port} on ${config.host} is in use by another program: stop it, or choose another port with PORT= (PORT=0 takes any free one)`, { cause: err });
    case 'EACCES':
      return new StartupError(`not permitted to listen on port ${config.port} (ports below 1024 need privileges): choose another with PORT=`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(`cannot listen on HOST=${config.host}: it is not an address of this machine (127.0.0.1: local connections only, 0.0.0.0: every interface)`, { cause: err });
    default:
      return err;
  }
}
