import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { sleep } from '../../src/backoff';

/**
 * Leadership among relays sharing a database: a session-level advisory lock held on a connection
 * of its own. PostgreSQL releases it when that connection ends, so a leader that dies (or loses
 * its network) lets a waiting relay take over within one poll interval.
 */
export class LeaderLock {
  private client?: Client;
  private onLost?: () => void;

  constructor(
    /** Keepalive is always on: a leader cut off from the database must not keep believing it leads for hours. */
    private readonly clientConfig: ClientConfig,
    private readonly lockName: string,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Waits until this process holds the lock; resolves with the connection holding it (use it for
   * writes that must only happen while leading), or undefined when `signal` aborts first.
   * `onLost` is called if the connection later breaks.
   */
  async acquire(signal: AbortSignal, onLost: () => void): Promise<Client | undefined> {
    let waitingLogged = false;
    while (!signal.aborted) {
      try {
        const client = await this.connection();
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.lockName]);
        if (rows[0].locked) {
          this.onLost = onLost;
          return client;
        }
        if (!waitingLogged) this.logger.info({ lock: this.lockName }, 'relay standing by: another relay is the leader');
        waitingLogged = true;
      } catch (err) {
        this.logger.warn({ err }, 'relay leader election: database unreachable');
        await this.release();
      }
      await sleep(this.pollMs, signal);
    }
    return undefined;
  }

  /** A connection for queries while standing by (it holds no lock then). */
  async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({ ...this.clientConfig, keepAlive: true });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      const onLost = this.onLost;
      this.onLost = undefined;
      onLost?.();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
    } catch (err) {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
    return client;
  }

  /** Gives up the lock by closing its connection (which also covers a lock held on a half-dead one). */
  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.onLost = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
