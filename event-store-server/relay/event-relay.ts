import type { Client, ClientConfig } from 'pg';
import type { Logger } from 'pino';
import type { FeedOptions, FeedPage, StoredEvent } from '../../src/model';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { LeaderLock } from './leader-lock';
import { measureLag, type RelayLag } from './relay-lag';
import { RelayCursors } from './relay-cursors';

/** What the relay needs of a store: the gap-free feed (PostgresEventStore, InMemoryEventStore, ...). */
export interface FeedReader {
  readFeed(options?: FeedOptions): Promise<FeedPage>;
}

/** Where batches go; resolves only once the broker acknowledged all of them. */
export interface BatchPublisher {
  connect(): Promise<void>;
  publish(events: readonly StoredEvent[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface EventRelayOptions {
  store: FeedReader;
  publisher: BatchPublisher;
  connectionString: string;
  /** Settings of the lock connection (timeouts, keepalive). */
  connection: Omit<ClientConfig, 'connectionString'>;
  schema: string;
  /** Relays with the same name share one cursor and one leadership. */
  relayName: string;
  logger: Logger;
  /** Events per feed read and Kafka batch. */
  batchSize: number;
  /** Longest wait for a commit before the feed is read again anyway (the slow fallback poll). */
  idleWaitMs: number;
  /** How often a standby relay tries to become the leader. */
  leaderPollMs: number;
  /** How often lag is measured (this also checks the leader's lock connection is alive). */
  lagIntervalMs: number;
  retry: { baseMs: number; maxMs: number };
}

export interface RelayStatus {
  /** False while Kafka (or the database) refuses the relay's work. */
  ready: boolean;
  /** True while this process holds the leadership and publishes. */
  leader: boolean;
  /** Committed events not yet acknowledged by Kafka. */
  lagEvents: number;
  /** Age of the oldest of them. */
  lagSeconds: number;
  /** Events this process published since it started. */
  publishedEvents: number;
  lastError?: string;
}

/**
 * Copies the event store's feed to Kafka, at least once and in commit order. The cursor is stored
 * through the leader's lock connection after each acknowledged batch, so a relay that lost the
 * leadership cannot move it.
 */
export class EventRelay {
  private readonly lock: LeaderLock;
  private readonly cursors: RelayCursors;
  private readonly stopping = new AbortController();
  private term?: AbortController;
  private running?: Promise<void>;
  private lagTimer?: NodeJS.Timeout;
  private publishedCursor?: string;
  private readonly state: RelayStatus = { ready: false, leader: false, lagEvents: 0, lagSeconds: 0, publishedEvents: 0 };

  constructor(private readonly options: EventRelayOptions) {
    this.lock = new LeaderLock({ ...options.connection, connectionString: options.connectionString }, `eventuate-relay:${options.schema}:${options.relayName}`, options.leaderPollMs, options.logger);
    this.cursors = new RelayCursors(options.schema, options.relayName);
  }

  start(): void {
    if (this.running) return;
    this.running = this.run();
    this.lagTimer = setInterval(() => void this.sampleLag(), this.options.lagIntervalMs);
    this.lagTimer.unref();
    void this.connectPublisher();
  }

  status(): RelayStatus {
    return { ...this.state };
  }

  /** Finishes the batch in flight (publish and cursor), then gives up leadership and disconnects. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.lagTimer);
    await this.running;
    await this.lock.release();
    await this.options.publisher.disconnect();
  }

  private async connectPublisher(): Promise<void> {
    try {
      await this.options.publisher.connect();
      if (!this.state.lastError) this.state.ready = true;
    } catch (err) {
      this.fail(err, 'relay cannot reach Kafka');
    }
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      const term = new AbortController();
      this.term = term;
      const client = await this.lock.acquire(this.stopping.signal, () => {
        logger.error('relay lost its leader lock connection; stopping publishing');
        term.abort();
      });
      if (!client) break;
      this.state.leader = true;
      logger.info({ relay: this.options.relayName }, 'relay is the leader: publishing');
      try {
        await this.lead(client, AbortSignal.any([term.signal, this.stopping.signal]));
        failures = 0;
      } catch (err) {
        this.fail(err, 'relay failed; it will take the leadership again and resume from its stored cursor');
        failures++;
      } finally {
        this.state.leader = false;
        await this.lock.release();
      }
      await sleep(jitteredBackoffMs(failures, this.options.retry), this.stopping.signal);
    }
  }

  private async lead(client: Client, signal: AbortSignal): Promise<void> {
    const { store, batchSize, idleWaitMs } = this.options;
    await this.cursors.ensureTable(client);
    let cursor = await this.cursors.load(client);
    this.publishedCursor = cursor;
    if (!(await this.retryUntilDone(() => this.options.publisher.connect(), signal, 'relay cannot reach Kafka'))) return;
    while (!signal.aborted) {
      const page = await store.readFeed({ after: cursor, limit: batchSize, waitMs: idleWaitMs, signal });
      if (page.events.length > 0) {
        const published = await this.publishWithRetry(page.events, signal);
        if (!published) return;
      }
      if (page.cursor !== cursor) {
        await this.cursors.save(client, page.cursor);
        cursor = page.cursor;
        this.publishedCursor = cursor;
        if (page.events.length < batchSize) this.state.lagEvents = this.state.lagSeconds = 0;
      }
    }
  }

  /** Retries until Kafka acknowledges; false when leadership ends first. Never skips a batch. */
  private async publishWithRetry(events: readonly StoredEvent[], signal: AbortSignal): Promise<boolean> {
    const published = await this.retryUntilDone(
      () => this.options.publisher.publish(events),
      signal,
      `relay cannot publish ${events.length} events to Kafka`,
    );
    if (published) {
      this.state.publishedEvents += events.length;
      this.options.logger.debug({ events: events.length, first: events[0].cursor, last: events.at(-1)!.cursor }, 'relay published a batch');
    }
    return published;
  }

  /** Runs `attempt` until it succeeds (true; the relay is then ready) or `signal` aborts (false). */
  private async retryUntilDone(attempt: () => Promise<void>, signal: AbortSignal, failure: string): Promise<boolean> {
    for (let n = 1; ; n++) {
      try {
        await attempt();
        this.state.ready = true;
        this.state.lastError = undefined;
        return true;
      } catch (err) {
        this.fail(err, `${failure} (attempt ${n}); retrying`);
      }
      await sleep(jitteredBackoffMs(n, this.options.retry), signal);
      if (signal.aborted) return false;
    }
  }

  private async sampleLag(): Promise<void> {
    try {
      const client = await this.lock.connection();
      const cursor = this.state.leader && this.publishedCursor !== undefined ? this.publishedCursor : await this.cursors.load(client).catch(() => '');
      const lag: RelayLag = await measureLag(client, this.options.schema, cursor);
      this.state.lagEvents = lag.events;
      this.state.lagSeconds = lag.seconds;
    } catch (err) {
      this.options.logger.debug({ err }, 'relay lag could not be measured');
      // On the leader this was the lock connection: a broken one means the leadership is gone.
      if (this.state.leader) this.term?.abort();
    }
  }

  private fail(err: unknown, message: string): void {
    this.state.ready = false;
    this.state.lastError = err instanceof Error ? err.message : String(err);
    this.options.logger.warn({ err }, message);
  }
}
