import { Client, type ClientConfig, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { sleep } from '../../src/backoff';
import type { Queryable } from '../../src/postgres/named-cursor-table';
import { isUnavailable } from '../../src/postgres/sql';

export interface LeaderLockOptions {
  connectionString: string;
  /** The server's database settings (EVENTUATE_DB_*: timeouts, keepalive); the lease tightens them where it must. */
  connection: Omit<ClientConfig, 'connectionString'>;
  /** Relays with one lock name elect one leader. */
  lockName: string;
  /** How often a standby tries to take the lock. */
  pollMs: number;
  /**
   * How long a leader that stopped answering (frozen, cut off, its host gone) keeps the lock: the
   * database ends a lock session silent for this long, and a leader whose heartbeat goes unanswered
   * for half of it gives the leadership up by itself.
   */
  timeoutMs: number;
  logger: Logger;
}

/** PostgreSQL before 14 has no idle_session_timeout. */
const UNDEFINED_PARAMETER = '42704';

/**
 * The lock's connection, one query at a time: the heartbeat, lag samples and cursor writes share it,
 * and pg deprecates queueing a query on a client that is running one. A query that fails because
 * the connection is broken or silent (pg's read timeout) reports it at once through `onBroken`, so
 * the queries queued behind it do not each wait for their own timeout first.
 */
export class LockSession implements Queryable {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly client: Client,
    private readonly onBroken: (err: Error) => void,
  ) {}

  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    return this.exclusive((client) => (typeof text === 'string' ? client.query<R>(text, values) : client.query<R>(text)));
  }

  /** Runs `work` with the session to itself: for a transaction, which no other query may interleave. */
  exclusive<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => work(this.client));
    this.tail = run.catch((err: Error) => {
      if (isUnavailable(err) || /Query read timeout|not queryable/.test(err.message)) this.onBroken(err);
    });
    return run;
  }
}

/**
 * A statement that writes only while the lock is held: given `held`, the SQL condition true while the
 * session running it holds the lock (its parameters `values`, numbered from `held`'s argument on), it
 * answers one row whose `held` is that condition's value (e.g. NamedCursorTable.saveIf).
 */
export type WriteWhileHeld = (held: (firstParam: number) => string, values: unknown[]) => { text: string; values: unknown[] };

/** True while the session running it holds the advisory lock named by parameter `$firstParam`. */
function lockHeld(firstParam: number): string {
  // A bigint advisory key shows in pg_locks as classid (high half), objid (low half), objsubid 1.
  return `EXISTS (
    SELECT 1 FROM pg_locks, (SELECT hashtext($${firstParam})::bigint AS key) k
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objsubid = 1
       AND classid = ((k.key >> 32) & 4294967295)::oid AND objid = (k.key & 4294967295)::oid)`;
}

/** Resolves as `promise` does, or rejects with `what` after `ms`; the timer never outlives it. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Leadership among relays sharing a database: a session-level advisory lock held on a connection
 * of its own. PostgreSQL releases it when that session ends, so when a leader dies, freezes or
 * loses its network, a standby takes over:
 *
 * - killed: its host closes the connection, the lock is free at once;
 * - frozen (SIGSTOP, a stalled VM) or cut off: its kernel may keep answering TCP for hours, so the
 *   session is a lease instead. It runs with `idle_session_timeout` = timeoutMs and the leader sends
 *   a heartbeat every timeoutMs / 4; a leader that stops sending loses the session and the lock
 *   after timeoutMs. TCP keepalives and `tcp_user_timeout` on both ends notice a vanished host.
 *
 * A leader checks the lock (a round trip on this session) before each publish, and stops by itself
 * when a heartbeat fails or takes over timeoutMs / 2: so a frozen leader, resumed, finds its session
 * gone before it sends anything. Writes that must happen only while leading (the cursor) go through
 * this session, which refuses them once it is gone.
 */
export class LeaderLock {
  private session?: LockSession;
  private connecting?: Promise<LockSession>;
  /**
   * Sessions dropped (broken, or found without the lock) whose connections are still closing: the
   * backend keeps the lock until it has ended, so release() waits for these too, and a stopped relay
   * holds nothing.
   */
  private readonly closing = new Set<Promise<void>>();
  /** Counts releases, so a connection completing after one is closed instead of kept. */
  private generation = 0;
  private onLost?: (reason: Error) => void;
  private heartbeat?: NodeJS.Timeout;
  private warnedNoIdleTimeout = false;

  constructor(private readonly options: LeaderLockOptions) {}

  /**
   * Waits until this process holds the lock; resolves with the session holding it (use it for
   * writes that must only happen while leading), or undefined when `signal` aborts first.
   * `onLost` is called once if the leadership is later lost (connection broken, heartbeat unanswered).
   */
  async acquire(signal: AbortSignal, onLost: (reason: Error) => void): Promise<LockSession | undefined> {
    const { logger, lockName, pollMs } = this.options;
    let waitingLogged = false;
    while (!signal.aborted) {
      try {
        const session = await this.connection();
        const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [lockName]);
        if (rows[0].locked) {
          this.onLost = onLost;
          this.startHeartbeat(session);
          return session;
        }
        if (!waitingLogged) logger.info({ lock: lockName }, 'relay standing by: another relay is the leader');
        waitingLogged = true;
      } catch (err) {
        logger.warn({ err }, 'relay leader election: database unreachable');
        await this.release();
      }
      await sleep(pollMs, signal);
    }
    return undefined;
  }

  /**
   * True while `session` (as returned by acquire) still holds the lock, checked by a round trip to the
   * database. False, and the leadership counts as lost, when the session is gone or the check gets no
   * answer within timeoutMs / 2 of being sent (time queued behind the session's other queries, e.g. a
   * long lag count, does not count: the session is busy then, not idle, so it keeps its lease).
   *
   * `write`, when given, is a statement run in the same round trip that writes only while the lock is
   * held (see WriteWhileHeld): the relay stores its cursor this way, so a batch's cursor and the check
   * before the next batch cost one round trip, not two. A failure of it drops the session and is thrown.
   */
  async holds(session: LockSession, write?: WriteWhileHeld): Promise<boolean> {
    if (this.session !== session) return false;
    const { lockName, timeoutMs } = this.options;
    const statement = write ? write(lockHeld, [lockName]) : { text: `SELECT ${lockHeld(1)} AS held`, values: [lockName] };
    // pg honours a per-query query_timeout, timed from when the query is sent; its types know only the connection-wide one.
    const check: QueryConfig & { query_timeout: number } = { ...statement, query_timeout: Math.ceil(timeoutMs / 2) };
    try {
      const { rows } = await session.query<{ held: boolean }>(check);
      if (rows[0].held) return true;
      this.drop(session, new Error('the leader lock session no longer holds the lock'));
    } catch (err) {
      this.drop(session, err instanceof Error ? err : new Error(String(err)));
      if (write) throw err;
    }
    return false;
  }

  /** The lock's session, connected if needed; while standing by it holds no lock. */
  connection(): Promise<LockSession> {
    if (this.session) return Promise.resolve(this.session);
    // One connection at a time: a lag sample asking while the election connects must get the same
    // session, or the lock could end up held by a session nobody uses (and none releases).
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<LockSession> {
    const { connectionString, timeoutMs } = this.options;
    const generation = this.generation;
    const base = this.options.connection;
    const client = new Client({
      ...base,
      connectionString,
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.min(base.keepAliveInitialDelayMillis || Infinity, Math.ceil(timeoutMs / 3)),
      connectionTimeoutMillis: base.connectionTimeoutMillis || timeoutMs,
      // No query on this session may hang longer than the lease: a leader stuck on one has lost it anyway.
      query_timeout: Math.min(base.query_timeout || Infinity, timeoutMs),
    });
    const lost = (err?: Error) => this.drop(session, err ?? new Error('the leader lock connection ended'));
    const session = new LockSession(client, lost);
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await this.configureSession(client);
    } catch (err) {
      await closeClient(client, timeoutMs);
      throw err;
    }
    if (generation !== this.generation) {
      await closeClient(client, timeoutMs);
      throw new Error('the leader lock was released while its connection was being made');
    }
    this.session = session;
    return session;
  }

  /** Gives up the lock by closing its connection (which also covers a lock held on a half-dead one). */
  async release(): Promise<void> {
    this.generation++;
    const session = this.session;
    this.session = undefined;
    this.onLost = undefined;
    clearInterval(this.heartbeat);
    if (session) {
      // Closing alone frees the lock only once the backend has exited, a moment after the connection is
      // closed: a relay just stopped would still hold it. Unlocked first, it holds nothing once released.
      await withDeadline(session.client.query('SELECT pg_advisory_unlock_all()'), this.options.timeoutMs, 'unlocking the leader lock').catch(() => undefined);
      await closeClient(session.client, this.options.timeoutMs);
    }
    await Promise.all([...this.closing]);
  }

  /** The lease and the TCP timeouts of the database's end of the lock session (see the class comment), and its commits' durability. */
  private async configureSession(client: Client): Promise<void> {
    const { timeoutMs, logger } = this.options;
    const keepaliveIdleS = Math.max(1, Math.floor(timeoutMs / 3000));
    const keepaliveIntervalS = Math.max(1, Math.floor(timeoutMs / 9000));
    // synchronous_commit off: the session's writes are the relay's cursor, stored after every batch. One
    // lost in a crash of the database only means its batch is published again (at least once); and the
    // events it points past were committed synchronously, hence durable, before the relay could read them.
    await client.query(
      `SET tcp_keepalives_idle = ${keepaliveIdleS}; SET tcp_keepalives_interval = ${keepaliveIntervalS}; ` +
        `SET tcp_keepalives_count = 3; SET tcp_user_timeout = ${timeoutMs}; SET synchronous_commit = off`,
    );
    try {
      await client.query(`SET idle_session_timeout = ${timeoutMs}`);
    } catch (err) {
      if ((err as { code?: string }).code !== UNDEFINED_PARAMETER) throw err;
      if (!this.warnedNoIdleTimeout) {
        logger.warn('PostgreSQL before 14 has no idle_session_timeout: a frozen relay leader keeps its lock until TCP gives up on it');
      }
      this.warnedNoIdleTimeout = true;
    }
  }

  private startHeartbeat(session: LockSession): void {
    clearInterval(this.heartbeat);
    let beating = false;
    this.heartbeat = setInterval(() => {
      // One check at a time: a slow one must not pile more up behind it.
      if (beating) return;
      beating = true;
      void this.holds(session).finally(() => (beating = false));
    }, Math.max(50, Math.floor(this.options.timeoutMs / 4)));
    this.heartbeat.unref();
  }

  /** Forgets a broken session and tells the leader, once. */
  private drop(session: LockSession, reason: Error): void {
    if (this.session !== session) return;
    this.session = undefined;
    clearInterval(this.heartbeat);
    const closed = closeClient(session.client, this.options.timeoutMs).finally(() => this.closing.delete(closed));
    this.closing.add(closed);
    const onLost = this.onLost;
    this.onLost = undefined;
    onLost?.(reason);
  }
}

/** Ends a client without waiting on a half-open socket for ever: the session then ends by its own timeouts. */
async function closeClient(client: Client, timeoutMs: number): Promise<void> {
  client.removeAllListeners();
  client.on('error', () => undefined);
  await withDeadline(client.end(), timeoutMs, 'closing the leader lock connection').catch(() => undefined);
}
