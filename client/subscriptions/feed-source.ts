import { InvalidCursorError } from '../../src/errors';
import type { FeedPage } from '../../src/model';
import { HttpEventStore } from '../http-event-store';
import { jitteredBackoffMs, sleep } from '../../src/backoff';
import { CompletionTracker, finishedPrefix } from './completion-tracker';
import type { CursorStore } from './cursor-store';
import type { EventSource, RunningSubscription, Subscription } from './event-source';
import { endOfFeed, type FeedReader } from './feed-end';
import { feedLag } from './feed-lag';
import { KeyedSerialQueue } from './keyed-serial-queue';

interface FeedSourceCommonOptions {
  /**
   * Where each subscriber keeps its position (a projection keeps its own, with its tables). No
   * default: only the user knows whether what a subscriber builds outlives the process, and the
   * cursor must live exactly as long; a subscriber other than a projection does not start without it.
   * memoryCursorStore() for a view in memory (every run rebuilds it from its readFrom);
   * fileCursorStore({ dir }) or postgresCursorStore({ connectionString }) for a durable view or a saga.
   */
  cursorStore?: CursorStore;
  /** Events per read. Default 100. */
  pageSize?: number;
  /** Long-poll wait per read when there is nothing new. Default 10000 ms. */
  waitMs?: number;
  /** Handlers running at once (one per entity at a time). Default 16. */
  maxConcurrentHandlers?: number;
}

export type FeedSourceOptions = FeedSourceCommonOptions & ({ url: string; apiKey?: string } | { store: FeedReader });

/**
 * Subscribers fed from the event store's global feed, without Kafka: the server's `/events` over
 * HTTP (long poll, kept-alive connections), or any store's readFeed in process. The cursor is saved
 * after the events before it were settled (handled, or dead-lettered or parked in the store), so a
 * restart resumes where the subscriber was; a subscriber without a saved cursor starts where its
 * readFrom says.
 */
export function feedSource(options: FeedSourceOptions): EventSource {
  checkChosen(options);
  const reader: FeedReader = 'store' in options ? options.store : new HttpEventStore({ url: options.url, apiKey: options.apiKey });
  const cursors = options.cursorStore;
  return {
    description: 'store' in options ? 'event store feed (in process)' : `event store feed ${options.url}`,
    async start(subscription) {
      const running = new FeedSubscription(reader, cursorStoreFor(subscription, cursors), subscription, {
        pageSize: options.pageSize ?? 100,
        waitMs: options.waitMs ?? 10_000,
        maxConcurrentHandlers: options.maxConcurrentHandlers ?? 16,
      });
      await running.start();
      return running;
    },
    async position(subscription) {
      const checkpoint = await cursorStoreFor(subscription, cursors).load(subscription.subscriberId);
      return { checkpoint, lag: await feedLag(reader, checkpoint, subscription.entityTypes) };
    },
  };
}

/** For callers without the types (JavaScript, options built at run time): the same choice, as an error that explains it. */
function checkChosen(options: FeedSourceOptions): void {
  if ('deadLetters' in options) {
    throw new TypeError(
      'feedSource no longer takes deadLetters: give them to the SubscriptionManager ({ source, deadLetters }), which keeps them for both sources: ' +
        'postgresDeadLetters({ connectionString }) or memoryDeadLetters().',
    );
  }
}

/**
 * A projection keeps its position with its tables; any other subscriber needs the source's
 * cursorStore, which has no default: only the user knows whether what it builds outlives the process.
 */
function cursorStoreFor(subscription: Pick<Subscription, 'subscriberId' | 'cursorStore'>, cursors: CursorStore | undefined): CursorStore {
  const store = subscription.cursorStore ?? cursors;
  if (!store) {
    throw new TypeError(
      `feedSource needs a cursorStore for subscriber '${subscription.subscriberId}': where it keeps its position in the feed, so that a restart resumes instead of starting over. ` +
        'It must live as long as what the subscriber builds: memoryCursorStore() for a view kept in memory (each run rebuilds it from its readFrom); ' +
        'fileCursorStore({ dir }) or postgresCursorStore({ connectionString }) for a view in a database, or a saga. (A projection keeps its own.)',
    );
  }
  return store;
}

class FeedSubscription implements RunningSubscription {
  private readonly stopping = new AbortController();
  /** Ends a read-ahead still waiting when the loop ends by itself (a halt). */
  private readonly readingAhead = new AbortController();
  private loop?: Promise<void>;
  private cursor: string | undefined;

  constructor(
    private readonly reader: FeedReader,
    private readonly cursors: CursorStore,
    private readonly subscription: Subscription,
    private readonly settings: { pageSize: number; waitMs: number; maxConcurrentHandlers: number },
  ) {}

  async start(): Promise<void> {
    this.cursor = (await this.cursors.load(this.subscriberId)) ?? (await this.startingCursor());
    this.loop = this.run().catch((err: unknown) => this.subscription.onHalted(err instanceof Error ? err : new Error(String(err))));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /**
   * A new subscriber's first position. 'end' is saved at once: otherwise a restart before the first
   * event would take the end again and skip what was written in between.
   */
  private async startingCursor(): Promise<string | undefined> {
    if (this.subscription.readFrom === 'beginning') return undefined;
    const end = await endOfFeed(this.reader, { entityTypes: this.subscription.entityTypes });
    await this.cursors.save(this.subscriberId, end);
    this.subscription.logger.info({ subscriberId: this.subscriberId, cursor: end }, 'new subscriber starts at the end of the feed (readFrom: end)');
    return end;
  }

  private get subscriberId(): string {
    return this.subscription.subscriberId;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    // The page after the one being handled is read meanwhile: it starts where that page ends
    // whatever becomes of its events (the loop goes on only when all were settled).
    let ahead = undefined as { after: string | undefined; page: Promise<FeedPage> } | undefined;
    const readAhead = (after: string | undefined) => {
      const page = this.read(after, signal);
      page.catch(() => undefined); // awaited (and its error handled) at the next turn
      ahead = { after, page };
    };
    try {
      for (let failures = 0; !signal.aborted; ) {
        let page: FeedPage;
        try {
          const pending = ahead !== undefined && ahead.after === this.cursor ? ahead.page : this.read(this.cursor, signal);
          ahead = undefined;
          page = await pending;
          if (failures > 0) this.subscription.onSourceRecovered();
          failures = 0;
        } catch (err) {
          if (signal.aborted) return;
          // A refused cursor (another store's, or from before a repair-after-restore) stays refused:
          // halt with the error, which names the way out, instead of retrying for ever.
          if (err instanceof InvalidCursorError) throw err;
          failures++;
          this.subscription.onSourceError(err instanceof Error ? err : new Error(String(err)));
          this.subscription.logger.warn({ err, subscriberId: this.subscriberId, attempt: failures }, 'cannot read the event feed; retrying');
          await sleep(jitteredBackoffMs(failures, { baseMs: 200, maxMs: 10_000 }), signal);
          continue;
        }
        if (page.events.length > 0) readAhead(page.cursor);
        const { reached, halted } = await this.handlePage(page);
        if (reached !== undefined && reached !== this.cursor) {
          await this.cursors.save(this.subscriberId, reached);
          this.cursor = reached;
        }
        if (halted) {
          if (!signal.aborted) this.subscription.onHalted(halted);
          return;
        }
      }
    } finally {
      this.readingAhead.abort();
    }
  }

  private read(after: string | undefined, signal: AbortSignal): Promise<FeedPage> {
    return this.reader.readFeed({
      after,
      limit: this.settings.pageSize,
      entityTypes: this.subscription.entityTypes,
      waitMs: this.settings.waitMs,
      signal: AbortSignal.any([signal, this.readingAhead.signal]),
    });
  }

  /** Handles a page; `reached` is the cursor up to which every event is done with. */
  private async handlePage(page: FeedPage): Promise<{ reached?: string; halted?: Error }> {
    const events = page.events;
    if (events.length === 0) return { reached: page.cursor };
    const signal = this.stopping.signal;
    if (this.subscription.settler.batches) {
      const deliveries = events.map((event) => ({ event, origin: { source: 'feed' as const, cursor: event.cursor } }));
      const settlements = await this.subscription.settler.settleBatch(deliveries, signal, page.cursor);
      const done = finishedPrefix(settlements);
      const halted = settlements.find((s) => s.kind === 'halted');
      return {
        reached: done === events.length ? page.cursor : done > 0 ? events[done - 1].cursor : undefined,
        halted: halted?.kind === 'halted' ? halted.error : undefined,
      };
    }
    const tracker = new CompletionTracker(events.length);
    const queue = new KeyedSerialQueue(this.settings.maxConcurrentHandlers);
    let reached: string | undefined;
    let halted: Error | undefined;
    await Promise.all(
      events.map((event, index) =>
        queue.run(`${event.entityType}/${event.entityId}`, async () => {
          if (halted || signal.aborted) return;
          const settled = await this.subscription.settler.settle({ event, origin: { source: 'feed', cursor: event.cursor } }, signal);
          if (settled.kind === 'interrupted') return;
          if (settled.kind === 'halted') {
            halted ??= settled.error;
            return;
          }
          const last = tracker.complete(index);
          if (last !== undefined) reached = events[last].cursor;
        }),
      ),
    );
    // Every event done: the page's cursor, which may lie past them (rows of other entity types).
    return { reached: tracker.allDone ? page.cursor : reached, halted };
  }
}
