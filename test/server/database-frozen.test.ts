import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../event-store-server/config';
import { RunningServer, startServer } from '../../event-store-server/start-server';
import { Child, startPostgresProcess } from './child-process';
import { event, httpCall, HttpResponse } from './server-fixture';

/** Processes whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // The fields after the command name, which is in parentheses and may hold spaces: state, ppid, ...
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

/**
 * Freezes a PostgreSQL cluster with SIGSTOP, the postmaster first (so it starts no new backend), then
 * every backend: connections stay open and connecting still succeeds at the TCP level, but nothing
 * answers, as with a hung host or a network partition. Returns the function that thaws it.
 */
function freeze(clusterDir: string): () => void {
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(postmaster, 'SIGSTOP');
  const backends = childrenOf(postmaster);
  backends.forEach((pid) => process.kill(pid, 'SIGSTOP'));
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    backends.forEach((pid) => {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // ended
      }
    });
    process.kill(postmaster, 'SIGCONT');
  };
}

const TIMEOUTS = { connectTimeoutMs: 1500, statementTimeoutMs: 2000, queryTimeoutMs: 3000 };
/** Without timeouts these requests hang for as long as the database is frozen; this is far above the configured bound (1.5 s + 3 s). */
const HANG_MS = 20_000;

async function timed(request: Promise<HttpResponse>): Promise<{ res: HttpResponse; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms while the database is frozen`)), HANG_MS);
  });
  try {
    const res = await Promise.race([request, hang]);
    return { res, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** A PostgreSQL of its own, since the test freezes it. */
describe('when the database freezes', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eventuate-frozen-'));
  let pg: { child: Child; connectionString: string; port: number };
  let server: RunningServer;
  let url: string;
  let thaw: (() => void) | undefined;

  beforeAll(async () => {
    pg = await startPostgresProcess(dataDir);
    // The whole server as `eventuate-local start` runs it, configured through the environment.
    const config = loadConfig({
      DATABASE_URL: pg.connectionString,
      PORT: '0',
      LOG_LEVEL: 'silent',
      EVENTUATE_DB_POOL_SIZE: '4',
      EVENTUATE_DB_CONNECT_TIMEOUT_MS: String(TIMEOUTS.connectTimeoutMs),
      EVENTUATE_DB_STATEMENT_TIMEOUT_MS: String(TIMEOUTS.statementTimeoutMs),
      EVENTUATE_DB_QUERY_TIMEOUT_MS: String(TIMEOUTS.queryTimeoutMs),
      EVENTUATE_DB_KEEPALIVE_MS: '1000',
      EVENTUATE_READY_TIMEOUT_MS: '500',
    });
    server = await startServer(config);
    url = server.url;
  }, 120_000);

  afterAll(async () => {
    thaw?.();
    await server?.stop();
    await pg?.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 within the configured time, never naming the database, and recovers when it thaws', async () => {
    expect((await httpCall(url, 'POST', '/entity/Account', { entityId: 'a-1', events: [event('Opened')] })).status).toBe(201);
    // Every pooled connection open and idle, so the first requests below go to backends that will not answer.
    await Promise.all(Array.from({ length: 4 }, () => httpCall(url, 'GET', '/entity/Account/a-1')));
    const debit = { entityVersion: 1, events: [{ ...event('Debited'), eventId: randomUUID() }] };

    thaw = freeze(join(dataDir, 'pg'));

    const [append, load, feed, ready] = await Promise.all([
      timed(httpCall(url, 'POST', '/entity/Account/a-1', debit)),
      timed(httpCall(url, 'GET', '/entity/Account/a-1')),
      timed(httpCall(url, 'GET', '/events?limit=10')),
      timed(httpCall(url, 'GET', '/ready')),
    ]);
    for (const { res } of [append, load, feed, ready]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.json().error).toBe('service_unavailable');
      expect(res.text).not.toContain(String(pg.port));
      expect(res.text).not.toContain('127.0.0.1');
    }
    // /ready has a deadline of its own, far below the query timeout the others wait for.
    expect(ready.ms).toBeLessThan(TIMEOUTS.queryTimeoutMs);
    expect(ready.res.json().detail).toMatch(/did not answer within 500 ms/);
    expect(append.res.json().detail).toBe('the event store database did not answer in time');

    // The connections that timed out were dropped; new ones cannot even be opened now: the connect timeout bounds that.
    const [again, readyAgain] = await Promise.all([timed(httpCall(url, 'GET', '/entity/Account/a-1')), timed(httpCall(url, 'GET', '/ready'))]);
    expect(again.res.status).toBe(503);
    expect(readyAgain.res.status).toBe(503);
    expect(readyAgain.ms).toBeLessThan(TIMEOUTS.queryTimeoutMs);

    thaw();

    let readyAfter = await httpCall(url, 'GET', '/ready');
    for (const deadline = Date.now() + 30_000; readyAfter.status !== 200 && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      readyAfter = await httpCall(url, 'GET', '/ready');
    }
    expect(readyAfter.status).toBe(200);
    // The append's outcome was unknown (the database may have run it on waking): retried with the same event id, it is applied once.
    const retried = await httpCall(url, 'POST', '/entity/Account/a-1', debit);
    expect(retried.status).toBe(200);
    expect(retried.json().entityVersion).toBe(2);
    const history = (await httpCall(url, 'GET', '/entity/Account/a-1/history')).json();
    expect(history.events.map((e: { eventType: string }) => e.eventType)).toEqual(['Opened', 'Debited']);
    expect((await httpCall(url, 'GET', '/events?limit=10')).json().events).toHaveLength(2);
  }, 120_000);

  it('lets PostgreSQL cancel a statement that waits past the statement timeout: 503, and the connection is reused', async () => {
    expect((await httpCall(url, 'POST', '/entity/Account', { entityId: 'locked-1', events: [event('Opened')] })).status).toBe(201);
    // Another session holds the entity's row, so the append's conditional UPDATE waits for it.
    const holder = new Client({ connectionString: pg.connectionString });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT 1 FROM eventuate.entities WHERE entity_type = 'Account' AND entity_id = 'locked-1' FOR UPDATE");
      const blocked = await timed(httpCall(url, 'POST', '/entity/Account/locked-1', { entityVersion: 1, events: [event('Debited')] }));
      expect(blocked.res.status).toBe(503);
      expect(blocked.res.json().detail).toBe('the event store database did not answer in time');
      expect(blocked.ms).toBeGreaterThanOrEqual(TIMEOUTS.statementTimeoutMs - 100);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    const after = await httpCall(url, 'POST', '/entity/Account/locked-1', { entityVersion: 1, events: [event('Debited')] });
    expect(after.status).toBe(200);
    expect(after.json().entityVersion).toBe(2);
  }, 60_000);
});
