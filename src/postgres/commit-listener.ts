import { Client, type ClientConfig } from 'pg';
import type { CommitWaiter } from '../long-poll';

/**
 * Tells feed readers that events were committed, so long polls, SSE streams and the relay wake on
 * a commit instead of sleeping in a loop. Commits of this process wake its readers at once;
 * other processes hear of them through one LISTEN connection.
 * After a lost connection it reconnects and wakes everyone, since notifications may have been missed.
 */
export class CommitListener implements CommitWaiter {
  private readonly listeners = new Set<() => void>();
  private client?: Client;
  private connecting?: Promise<void>;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = 100;

  constructor(
    /** The LISTEN connection's settings: the store's, keepalive above all, or a connection to a vanished host would wait for ever. */
    private readonly clientConfig: ClientConfig,
    private readonly channel: string,
    /** This store's own NOTIFY payload: its commits already woke this process's readers. */
    private readonly ownPayload: string,
  ) {}

  /** A commit of this process: wakes the local readers now, without waiting for the echo. */
  announceLocal(): void {
    this.wakeAll();
  }

  /** Calls `listener` after each commit of events; returns the unsubscribe function. */
  onCommit(listener: () => void): () => void {
    this.listeners.add(listener);
    this.ensureConnected();
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.listeners.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private ensureConnected(): void {
    if (this.closed || this.client || this.connecting || this.retryTimer) return;
    this.connecting = this.connect().finally(() => (this.connecting = undefined));
  }

  private async connect(): Promise<void> {
    const client = new Client(this.clientConfig);
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.payload !== this.ownPayload) this.wakeAll();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      client.removeAllListeners();
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    const reconnected = this.retryDelayMs > 100;
    this.retryDelayMs = 100;
    if (reconnected) this.wakeAll();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.listeners.size > 0) this.ensureConnected();
    }, this.retryDelayMs);
    this.retryTimer.unref();
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
  }

  private wakeAll(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
