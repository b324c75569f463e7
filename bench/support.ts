import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startEmbeddedPostgres } from '../event-store-server/embedded-postgres';

export interface BenchDatabase {
  connectionString: string;
  /** CPU seconds the embedded PostgreSQL (all its processes, the ended ones too) has used; undefined for DATABASE_URL or without /proc. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** DATABASE_URL, or a fresh embedded PostgreSQL with its default (durable) settings and BENCH_PG_SETTINGS. */
export async function benchDatabase(): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) return { connectionString: process.env.DATABASE_URL, cpuSeconds: () => undefined, stop: async () => undefined };
  const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-bench-'));
  // BENCH_PG_SETTINGS="shared_buffers=1GB wal_compression=lz4": settings to try, as `-c` flags.
  const settings = (process.env.BENCH_PG_SETTINGS ?? '').split(/\s+/).filter(Boolean).flatMap((setting) => ['-c', setting]);
  const pg = await startEmbeddedPostgres({ dataDir, postgresFlags: ['-c', 'max_connections=200', ...settings] });
  // The cluster (embedded-postgres's layout: <dataDir>/pg) names its postmaster on postmaster.pid's first line.
  const postmaster = Number(readFileSync(join(pg.dataDir, 'pg', 'postmaster.pid'), 'latin1').split('\n')[0]);
  return {
    connectionString: pg.connectionString,
    cpuSeconds: () => processTreeCpuSeconds(postmaster),
    // The data directory goes too: a run's database is of no use after it, and some are gigabytes.
    stop: async () => {
      await pg.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A pool for a bench's own statements on `database`. Its errors are ignored: pool.end() resolves
 * before its connections have closed, and the database's stop then ends them with 57P01, which an
 * unheard pool raises as an uncaught error after the figures are printed.
 */
export function benchPool(database: Pick<BenchDatabase, 'connectionString'>, max: number): Pool {
  const pool = new Pool({ connectionString: database.connectionString, max });
  pool.on('error', () => undefined);
  return pool;
}

export interface BenchServer {
  url: string;
  /**
   * CPU seconds the server process has used so far (user + system), read from /proc; undefined where
   * there is no /proc (not Linux). Steadier than a rate on a shared machine: other processes take
   * turns on the cores, not cycles from the server's work.
   */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** Linux's clock ticks per second (USER_HZ) in /proc/<pid>/stat: 100 on x86 and ARM. */
const CLOCK_TICKS = 100;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): the state is [0], the parent [1], utime [11]. */
function statFields(pid: number | string | undefined): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function processCpuSeconds(pid: number | undefined): number | undefined {
  const fields = statFields(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** A process's CPU time with its children's: the live ones read one by one, the ended ones (which it has waited for) from its own cutime and cstime. */
function processTreeCpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    const child = statFields(entry);
    if (child && Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]);
  }
  return ticks / CLOCK_TICKS;
}

/** CPU seconds spent while a meter ran: by the server process (when given), the embedded PostgreSQL, this process and all the machine's cores (undefined where unknown). */
export interface CpuSpent {
  server?: number;
  postgres?: number;
  thisProcess: number;
  machine?: number;
  wallSeconds: number;
}

/** Starts counting CPU time; the function it returns says what was spent since. */
export function startCpuMeter(db: BenchDatabase, server?: BenchServer): () => CpuSpent {
  const read = () => {
    const { user, system } = process.cpuUsage();
    return { at: performance.now(), server: server?.cpuSeconds(), postgres: db.cpuSeconds(), thisProcess: (user + system) / 1e6, machine: machineBusySeconds() };
  };
  const before = read();
  return () => {
    const after = read();
    const spent = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
    return {
      server: spent(before.server, after.server),
      postgres: spent(before.postgres, after.postgres),
      thisProcess: after.thisProcess - before.thisProcess,
      machine: spent(before.machine, after.machine),
      wallSeconds: (after.at - before.at) / 1000,
    };
  };
}

export const CORES = availableParallelism();

/** CPU µs spent per unit of work (an append, an event) by the server process, PostgreSQL and this process; and the machine's busy cores meanwhile. */
export interface CpuBudget {
  server?: number;
  postgres?: number;
  thisProcess: number;
  busyCores?: number;
}

export function cpuBudget(spent: CpuSpent, units: number): CpuBudget {
  const per = (seconds: number | undefined) => (seconds === undefined ? undefined : (seconds * 1e6) / units);
  return { server: per(spent.server), postgres: per(spent.postgres), thisProcess: per(spent.thisProcess)!, busyCores: spent.machine === undefined ? undefined : spent.machine / spent.wallSeconds };
}

/** When the busy cores come near all of them, the work is bound by CPU, and its rate by the sum of the parts. `unit` is a rate's: appends/s. */
export function describeBudget(b: CpuBudget, unit: string): string {
  const parts = [b.server !== undefined ? `server ${b.server.toFixed(0)}` : '', b.postgres !== undefined ? `PostgreSQL ${b.postgres.toFixed(0)}` : '', `this process ${b.thisProcess.toFixed(0)}`].filter(Boolean);
  return `CPU µs per ${unit.replace(/s?\/s$/, '')}: ${parts.join(', ')}${b.busyCores !== undefined ? `; ${b.busyCores.toFixed(2)} of ${CORES} cores busy` : ''}`;
}

/** CPU seconds every core of the machine has spent busy (all but idle and iowait), from /proc/stat. */
function machineBusySeconds(): number | undefined {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

let built = false;

/**
 * Compiles the server (npm run build, into dist/), once per benchmark process, so that it is measured
 * as it is deployed. Run through ts-node it pays for something no deployment has: ts-node loads
 * node:repl, which loads node:domain, which wraps EventEmitter's constructor and emit for every
 * socket, request and response of the process (2-3% of the server's CPU in a profile of 1-event
 * appends).
 */
function buildServer(): void {
  if (built) return;
  const run = spawnSync(process.execPath, ['event-store-server/console/build.js'], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`npm run build failed (${run.status ?? run.signal}): the benchmark needs the compiled server`);
  built = true;
}

/** The server, compiled, in a process of its own, so the load generator does not share its event loop. */
export function startServerProcess(env: Record<string, string>): Promise<BenchServer> {
  buildServer();
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ') ?? []), 'dist/cli/cli.js', 'start'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (!match) return;
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        url: match[1],
        cpuSeconds: () => processCpuSeconds(child.pid),
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

/** Runs `work` in `concurrency` loops for `seconds`; returns how many times it completed. */
export async function runFor(seconds: number, concurrency: number, work: (worker: number, i: number) => Promise<void>): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; Date.now() < until; i++) {
        await work(worker, i);
        done++;
      }
    }),
  );
  return done;
}

export function report(name: string, value: number, unit: string, extra = ''): void {
  const shown = value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
  console.log(`${name.padEnd(58)} ${shown.padStart(9)} ${unit}${extra ? `  ${extra}` : ''}`);
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });

/** A JSON request over a kept-alive connection; node:http costs the load generator less CPU than fetch. */
export function requestJson(method: 'GET' | 'POST', url: string, body?: unknown, agent: Agent = keepAlive): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      url,
      { method, agent, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(new Error(`${method} ${url}: ${err.message}`)));
    req.end(payload);
  });
}

/** The p-th percentile of `values` (any order). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs a benchmark's main: exits 0 when it resolves, 1 with the error printed when it throws. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
